"""Opening OpenClaw's files: regular files only, and never a read that can block.

A named pipe, a socket or a device where OpenClaw keeps a transcript or a settings file
would hang the run on `open()` or `read()` (and every later run behind the lock): such a
path is refused before it is opened, and checked again on the descriptor (it may have been
swapped meanwhile), which is opened non-blocking.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO


class NotRegularFile(OSError):
    """The path is not a regular file (a FIFO, a socket, a device, a folder)."""


def refuse_unless_regular(path: Path) -> None:
    """Raise NotRegularFile (or the OSError of stat) unless `path` is a regular file."""
    _check(os.stat(path).st_mode, path)


def open_regular(path: Path) -> BinaryIO:
    """Open a regular file for reading in binary mode; raises OSError otherwise."""
    refuse_unless_regular(path)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        _check(os.fstat(fd).st_mode, path)
    except OSError:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def read_regular(path: Path) -> bytes:
    with open_regular(path) as handle:
        return handle.read()


def _check(mode: int, path: Path) -> None:
    if not stat.S_ISREG(mode):
        raise NotRegularFile(errno.EINVAL, "not a regular file", str(path))
