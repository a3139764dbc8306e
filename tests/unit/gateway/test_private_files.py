"""Secret files: created owner-only, replaced whole, refused when others may read them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gateway.private_files import read_private, write_private


def test_written_owner_only_and_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "a.json"
    write_private(path, b"first")
    write_private(path, b"second")
    assert read_private(path) == b"second"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.json"]


def test_a_file_others_may_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    write_private(path, b"x")
    os.chmod(path, 0o640)
    with pytest.raises(PermissionError, match="chmod 600"):
        read_private(path)
