"""Members' webhook secrets on disk: issued, listed newest first, retired, and read by the relay only when
the file changed."""

from __future__ import annotations

import base64
import datetime as dt
import os
import stat
from pathlib import Path

import pytest

from gateway.webhooks.secrets import SecretStore, decode_secret

T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


def test_issue_list_and_retire(tmp_path: Path) -> None:
    store = SecretStore(tmp_path / "keys")
    assert store.issued("uni-a.ac.uk") == []
    assert store.keys("uni-a.ac.uk") == ()
    first = store.add("uni-a.ac.uk", now=T0)
    second = store.add("uni-a.ac.uk", now=T0 + dt.timedelta(days=1))
    assert first.secret.startswith("whsec_")
    assert len(base64.b64decode(first.secret.removeprefix("whsec_"))) == 32
    assert first.secret != second.secret
    assert [s.id for s in store.issued("uni-a.ac.uk")] == [second.id, first.id]
    assert store.keys("uni-a.ac.uk") == (decode_secret(second.secret), decode_secret(first.secret))
    assert store.issued("uni-b.ac.uk") == []  # per member

    assert store.retire("uni-a.ac.uk") == [first.id]
    assert [s.id for s in store.issued("uni-a.ac.uk")] == [second.id]
    assert store.retire("uni-a.ac.uk", keep=0) == [second.id]
    assert store.keys("uni-a.ac.uk") == ()


def test_files_are_owner_only(tmp_path: Path) -> None:
    store = SecretStore(tmp_path / "keys")
    store.add("uni-a.ac.uk", now=T0)
    path = tmp_path / "keys" / "webhook-secrets" / "uni-a.ac.uk.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["uni-a.ac.uk.json"]  # no temporary left behind
    os.chmod(path, 0o644)
    with pytest.raises(PermissionError):
        store.issued("uni-a.ac.uk")


def test_the_relay_sees_a_new_secret_at_its_next_delivery(tmp_path: Path) -> None:
    relay, operator = SecretStore(tmp_path), SecretStore(tmp_path)
    issued = operator.add("uni-a.ac.uk", now=T0)
    assert relay.keys("uni-a.ac.uk") == (decode_secret(issued.secret),)
    rotated = operator.add("uni-a.ac.uk", now=T0 + dt.timedelta(hours=1))
    assert relay.keys("uni-a.ac.uk") == (decode_secret(rotated.secret), decode_secret(issued.secret))
    operator.retire("uni-a.ac.uk")
    assert relay.keys("uni-a.ac.uk") == (decode_secret(rotated.secret),)


@pytest.mark.parametrize("member", ["../keys", "Uni-A", "uni a", "", "-uni", "uni/a"])
def test_member_ids_never_name_other_files(tmp_path: Path, member: str) -> None:
    store = SecretStore(tmp_path)
    with pytest.raises(ValueError, match="not a member id"):
        store.add(member)
    assert store.keys(member) == ()
