"""Shared secrets for Standard Webhooks ``v1`` signatures (HMAC-SHA256), one set per member (R30).

The gateway always signs with its Ed25519 key (``v1a``, verifiable by anyone from ``/webhooks/jwks``). Many
receiver libraries check only ``v1``, so an operator may also issue a member a shared secret: from then on
every delivery to that member carries a ``v1`` signature per secret as well. Rotation: issue a new secret,
let the member install it (both sign meanwhile), then retire the old one.

Secrets live beside the private signing keys (``keys_dir/webhook-secrets/<member>.json``, 0600) and never
in the database, in logs or in spans. The format is the Standard Webhooks one: ``whsec_`` and the base64 of
32 random bytes (the HMAC key).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import os
import secrets
from pathlib import Path

import msgspec

from contracts.types import SchacHome
from gateway.private_files import read_private, write_private

__all__ = ["SecretStore", "WebhookSecret", "decode_secret"]

PREFIX = "whsec_"
_KEY_BYTES = 32


class WebhookSecret(msgspec.Struct, frozen=True):
    id: str
    secret: str
    created: dt.datetime


def decode_secret(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret; ``ValueError`` if it is not one."""
    if not secret.startswith(PREFIX):
        raise ValueError(f"not a webhook secret: it starts with {PREFIX!r}")
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except binascii.Error as exc:
        raise ValueError(f"not a webhook secret: {exc}") from exc
    if len(key) < 24:
        raise ValueError("not a webhook secret: it holds at least 24 bytes")
    return key


class SecretStore:
    """The members' secret files in ``keys_dir``. ``keys`` is the relay's read path: it re-reads a file
    only when it changed (a ``stat`` per delivery, no parse)."""

    def __init__(self, keys_dir: Path) -> None:
        self.root = keys_dir / "webhook-secrets"
        self._cache: dict[str, tuple[tuple[int, int, int], tuple[bytes, ...]]] = {}

    def _path(self, member: str) -> Path:
        # A member id is the contract's schacHome (a domain name); anything else never names a file.
        try:
            msgspec.convert(member, SchacHome)
        except msgspec.ValidationError:
            raise ValueError(f"not a member id: {member!r}") from None
        return self.root / f"{member}.json"

    def issued(self, member: str) -> list[WebhookSecret]:
        """Newest first."""
        path = self._path(member)
        if not path.exists():
            return []
        return msgspec.json.decode(read_private(path), type=list[WebhookSecret])

    def add(self, member: str, *, now: dt.datetime | None = None) -> WebhookSecret:
        """Issue a new secret; it signs from the relay's next delivery to ``member``, beside the others."""
        new = WebhookSecret(
            id=secrets.token_hex(4),
            secret=PREFIX + base64.b64encode(os.urandom(_KEY_BYTES)).decode(),
            created=now or dt.datetime.now(dt.UTC),
        )
        self._write(member, [new, *self.issued(member)])
        return new

    def retire(self, member: str, *, keep: int = 1) -> list[str]:
        """Drop all but the ``keep`` newest secrets; the ids dropped."""
        if keep < 0:
            raise ValueError("keep must be 0 or more")
        current = self.issued(member)
        self._write(member, current[:keep])
        return [s.id for s in current[keep:]]

    def _write(self, member: str, items: list[WebhookSecret]) -> None:
        write_private(self._path(member), msgspec.json.encode(items))

    def keys(self, member: str) -> tuple[bytes, ...]:
        """The HMAC keys that sign deliveries to ``member``, newest first (none: ``v1a`` only)."""
        try:
            info = self._path(member).stat()
        except (ValueError, FileNotFoundError):
            return ()
        # Every write is a new file (renamed into place): a new inode, whatever the clock's resolution.
        stamp = (info.st_ino, info.st_mtime_ns, info.st_size)
        cached = self._cache.get(member)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        keys = tuple(decode_secret(s.secret) for s in self.issued(member))
        self._cache[member] = (stamp, keys)
        return keys
