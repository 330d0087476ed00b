"""Atomic file writes: a file is either its old version or the complete new one, never half written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _default_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path in ``target``'s folder; when the block succeeds it replaces ``target``
    (os.replace) with the mode a plain ``open`` would give (mkstemp's own is 0600), else it is removed."""
    target = Path(target)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, _default_file_mode())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
