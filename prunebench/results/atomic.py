"""Write every artifact under a temporary name and rename it into place.

A run killed at any moment (SIGKILL included) leaves either the old artifact or the complete new one,
never a half-written file. Leftover temporaries carry the marker ``.tmp-`` and are ignored by readers.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

TMP_MARKER = ".tmp-"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def fsync_dir(directory: Path) -> None:
    """Make a rename into ``directory`` durable (best effort: some filesystems refuse)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_path(final: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary file path beside ``final``; rename it onto ``final`` only if the block succeeds."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=final.name + TMP_MARKER, dir=final.parent)
    os.fchmod(fd, 0o666 & ~_umask())  # mkstemp's 0600 would make artifacts private
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, final)
        fsync_dir(final.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_bytes(final: str | os.PathLike, data: bytes) -> None:
    with atomic_path(final) as tmp:
        tmp.write_bytes(data)


def write_text(final: str | os.PathLike, text: str) -> None:
    write_bytes(final, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_dir(final: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temporary directory; on success it replaces ``final`` as a whole.

    An existing ``final`` is first moved aside and removed only after the new one is in place, so at
    every instant one complete version exists under ``final`` or under its ``.old`` name.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=final.name + TMP_MARKER, dir=final.parent))
    tmp.chmod(0o777 & ~_umask())
    try:
        yield tmp
        old = None
        if final.exists():
            old = final.with_name(final.name + TMP_MARKER + "old-" + str(os.getpid()))
            os.replace(final, old)
        try:
            os.replace(tmp, final)
        except BaseException:
            if old is not None:  # put the old version back rather than leave nothing under ``final``
                os.replace(old, final)
            raise
        fsync_dir(final.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
