"""One exclusive file lock per SQLite role: `serve`'s one writer, `hookline worker`'s one worker.

An flock, not a pid file: the kernel releases it when the process dies, so a crash never leaves a
stale lock behind. The holder's pid is written into the file for the refusal message.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import TextIO


class FileLock:
    """An exclusive, non-blocking flock on `path`, held until `release()` or the process's end."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file: TextIO | None = None

    def acquire(self) -> bool:
        """Take the lock; False (at once) when another process holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        f = open(self.path, "a+")  # noqa: SIM115 - held open for the life of the lock
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            return False
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        self._file = f
        return True

    def holder(self) -> str:
        """The pid written by the process holding the lock, or '?'."""
        with contextlib.suppress(OSError), open(self.path) as f:
            return f.read().strip() or "?"
        return "?"

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
