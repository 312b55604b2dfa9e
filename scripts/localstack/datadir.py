"""The local stack's data directory: a format marker, a process lock, the journal and the snapshot.

Layout (docs/LOCAL_STACK.md, "Persistence"):

    FORMAT         "tickless-localstack-data <version>" and this directory's random instance id
    LOCK           flock()ed by the stack that has the directory open; holds its pid
    snapshot.bin   moto's backends as of journal entry N (written to a temporary file, then renamed)
    journal.bin    the AWS mutations accepted after the snapshot, fsync'd before they are answered
"""

from __future__ import annotations

import fcntl
import os
import secrets
from pathlib import Path

FORMAT_NAME = "tickless-localstack-data"
FORMAT_VERSION = 1
DEFAULT_DATA_DIR = ".tickless"
DATA_DIR_ENV = "DATA_DIR"


class DataDirError(Exception):
    """The data directory cannot be used (foreign, corrupt, newer format, or in use); the message says
    why and what to do. The command line prints it and exits non-zero."""


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so a crash leaves either the old or the new file, never a torn one."""
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    fsync_directory(path.parent)


def fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DataDir:
    """An opened (validated and locked) data directory; `close()` releases the lock."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).resolve()
        try:
            self.instance = self._open_format()
            self._lock_fd = self._lock()
        except OSError as exc:
            raise DataDirError(f"cannot use data directory {self.path}: {exc.strerror or exc}") from None

    @property
    def journal_path(self) -> Path:
        return self.path / "journal.bin"

    @property
    def snapshot_path(self) -> Path:
        return self.path / "snapshot.bin"

    def _open_format(self) -> str:
        marker = self.path / "FORMAT"
        if self.path.exists() and not self.path.is_dir():
            raise DataDirError(f"data directory {self.path} is not a directory")
        if not marker.exists():
            if self.path.exists() and any(p.name != "LOCK" for p in self.path.iterdir()):
                raise DataDirError(
                    f"{self.path} is not a tickless data directory (it has files but no FORMAT marker); "
                    "pass another --data-dir or empty it"
                )
            self.path.mkdir(parents=True, exist_ok=True)
            instance = secrets.token_hex(8)
            write_atomically(marker, f"{FORMAT_NAME} {FORMAT_VERSION}\ninstance {instance}\n".encode())
            return instance
        try:
            lines = marker.read_text().splitlines()
            name, version = lines[0].split()
            key, instance = lines[1].split()
        except (OSError, UnicodeDecodeError, ValueError, IndexError):
            raise DataDirError(f"{marker} is unreadable: not a tickless data directory") from None
        if name != FORMAT_NAME or key != "instance" or not version.isdigit():
            raise DataDirError(f"{marker} is not a tickless data directory marker")
        if int(version) != FORMAT_VERSION:
            raise DataDirError(
                f"{self.path} holds data format {version}; this stack reads format {FORMAT_VERSION}"
            )
        return instance

    def _lock(self) -> int:
        fd = os.open(self.path / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise DataDirError(
                f"data directory {self.path} is in use by another local stack (pid {holder}); stop it "
                "or pass another --data-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return fd

    def close(self) -> None:
        if self._lock_fd >= 0:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = -1
