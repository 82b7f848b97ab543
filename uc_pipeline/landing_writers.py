"""Private, locked scratch folders of the writers of one landing partition, and the removal of the
folders that writers which died left behind.

Each writer works in `.writer-<pid>-<random>/` beside the partition file and holds an exclusive
`flock` on `.writer-<pid>-<random>.lock` while it writes. The kernel drops a lock when its process
dies, even by SIGKILL, so a lock nobody holds marks a leftover, whatever became of the pid (reused or
not); a live writer's files are never touched, however long it runs. POSIX only (`fcntl`).
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import time
from pathlib import Path

WRITER_PREFIX = ".writer-"
# Scratch names of earlier versions, which had no owner lock: removed once this old (seconds), when no
# writer of those versions can still be running.
_LEGACY_LEFTOVERS = (".scratch-*", ".staged-*", ".tmp-*", ".buckets-*")
LEGACY_STALE_S = 3600.0
# Tries at claiming a writer folder: a claim fails only when a cleaner holds the fresh lock file.
_CLAIM_TRIES = 5


class WriterFolder:
    """The private folder of one writer, locked for as long as the writer lives, removed on exit."""

    def __init__(self, parent: Path) -> None:
        self.parent = parent
        self._fd: int | None = None
        self._lock_path: Path | None = None
        self._folder: Path | None = None

    def __enter__(self) -> Path:
        for _ in range(_CLAIM_TRIES):
            name = f"{WRITER_PREFIX}{os.getpid()}-{secrets.token_hex(6)}"
            lock_path = self.parent / f"{name}.lock"
            fd = os.open(lock_path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
            if _try_lock(fd) and _still_linked(lock_path, fd):
                # Only now the folder exists: a folder without its lock file is always a leftover.
                self._fd, self._lock_path, self._folder = fd, lock_path, self.parent / name
                self._folder.mkdir()
                return self._folder
            # A cleaner took the fresh lock file for a dead writer's before this writer locked it.
            os.close(fd)
        raise RuntimeError(f"could not claim a writer folder in {self.parent} after {_CLAIM_TRIES} tries")

    def __exit__(self, *exc: object) -> None:
        assert self._fd is not None and self._lock_path is not None and self._folder is not None
        try:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._lock_path.unlink(missing_ok=True)
        finally:
            os.close(self._fd)


def remove_leftovers(folder: Path) -> list[Path]:
    """Remove what writers that died left in a partition folder; never the files of a live writer.

    A writer's folder is a leftover when nobody holds the lock of its lock file (the owner died), or when
    its lock file is gone. Scratch files of earlier versions (no lock) go once `LEGACY_STALE_S` old.
    Returns what was removed.
    """
    removed: list[Path] = []
    for lock_path in folder.glob(f"{WRITER_PREFIX}*.lock"):
        try:
            fd = os.open(lock_path, os.O_RDWR)
        except FileNotFoundError:
            continue  # its writer just finished
        try:
            # Removed only while holding the dead writer's lock, so a writer that locked the same inode
            # afterwards sees its lock file unlinked and claims another one.
            if _try_lock(fd) and _still_linked(lock_path, fd):
                owned = lock_path.with_suffix("")
                shutil.rmtree(owned, ignore_errors=True)
                lock_path.unlink(missing_ok=True)
                removed.append(owned)
        finally:
            os.close(fd)
    for owned in folder.glob(f"{WRITER_PREFIX}*"):
        if owned.is_dir() and not owned.with_name(owned.name + ".lock").exists():
            shutil.rmtree(owned, ignore_errors=True)
            removed.append(owned)
    stale_before = time.time() - LEGACY_STALE_S
    for pattern in _LEGACY_LEFTOVERS:
        for leftover in folder.glob(pattern):
            try:
                if leftover.stat().st_mtime > stale_before:
                    continue
            except FileNotFoundError:
                continue
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
            removed.append(leftover)
    return removed


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _still_linked(path: Path, fd: int) -> bool:
    """Whether `path` still names the file open as `fd` (a cleaner may have unlinked it)."""
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False
