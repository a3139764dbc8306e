"""Files that hold secrets (signing keys, webhook secrets): owner-only, written whole, durable.

A reader never sees a half-written file (write to a temporary name, then rename), nor one readable by
others (created 0600 in a 0700 directory); and the file is on disk before the database row or the
operator's next step that relies on it (fsync of the file, then of the directory for the rename, R33).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["read_private", "write_private"]


def write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def read_private(path: Path) -> bytes:
    """The file's bytes; ``PermissionError`` if group or others may read it (it may have leaked)."""
    if path.stat().st_mode & 0o077:
        raise PermissionError(f"{path} must not be readable by group or others (chmod 600)")
    return path.read_bytes()
