"""Member calls verify the member's TLS certificate, with either client: a registry whose certificate no
trusted authority signed gets no request (its server sees a handshake fail, never a GET), and the call
fails as "could not connect"."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from adapters.connectors.member_client import new_member_client
from contracts.connectors import MemberConnectFailed


def _self_signed(directory: Path) -> ssl.SSLContext:
    """A server context with a certificate for 127.0.0.1 that signs itself (no authority vouches for it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "registry.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


@pytest.fixture
async def untrusted(tmp_path: Path) -> AsyncIterator[tuple[str, list[str]]]:
    """An HTTPS registry on loopback with a self-signed certificate, and the paths it was asked for."""
    asked: list[str] = []

    async def answer(request: web.Request) -> web.Response:
        asked.append(request.path)
        return web.json_response({"items": []})

    app = web.Application()
    app.router.add_get("/persons", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=_self_signed(tmp_path))
    await site.start()
    try:
        yield f"https://127.0.0.1:{runner.addresses[0][1]}", asked
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("kind", ["aiohttp", "pyreqwest"])
async def test_an_untrusted_certificate_gets_no_request(untrusted: tuple[str, list[str]], kind: str) -> None:
    base, asked = untrusted
    client = new_member_client(kind, 4)  # type: ignore[arg-type]
    try:
        with pytest.raises(MemberConnectFailed):
            await client.get(
                f"{base}/persons", {"Authorization": "Bearer secret"}, limit=1024, error_limit=1024
            )
    finally:
        await client.close()
    assert asked == []
