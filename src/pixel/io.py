"""Atomic writes: a file or folder is either its old version or the complete new one, never half written.

Every whole file or folder that pixel writes goes through here: ``write_text``, ``write_json`` and ``copy_file``
for single files (each one a temporary file in the target's folder, renamed over the target), and
``atomic_folder`` for folders built file by file (checkpoints, model folders).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _default_mode(full: int) -> int:
    """``full`` (0o666 for files, 0o777 for folders) less the umask: the mode a plain open/mkdir gives."""
    umask = os.umask(0)
    os.umask(umask)
    return full & ~umask


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
        os.chmod(temporary, _default_mode(0o666))
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically, creating its folder if needed. Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return path


def write_json(path: str | os.PathLike[str], data: Any) -> Path:
    """Write ``data`` as JSON (keys sorted, indent 2, final newline) to ``path`` atomically. Returns the path."""
    return write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def copy_file(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> Path:
    """Copy the bytes of ``source`` to ``target`` atomically, creating its folder if needed. Returns target."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as temporary:
        shutil.copyfile(source, temporary)
    return target


@contextlib.contextmanager
def atomic_folder(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a new empty folder ``.tmp-<name>-*`` beside ``target`` to fill; when the block succeeds it takes
    the place of ``target`` (an existing ``target`` is moved aside, then deleted), else it is deleted.

    A killed process leaves at most a ``.tmp-*`` (or ``.old-*``) sibling, never a half-written ``target``.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".tmp-{target.name}-"))
    aside: Path | None = None
    try:
        yield temporary
        os.chmod(temporary, _default_mode(0o777))
        if target.exists():
            aside = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".old-{target.name}-"))
            os.replace(target, aside / target.name)
        try:
            os.replace(temporary, target)
        except OSError:
            if aside is not None:
                os.replace(aside / target.name, target)
            raise
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)
