"""Safe output files: write to a temporary file beside the target, then publish it atomically.

A failed run leaves no partial output, and an existing file is replaced only when the caller
asked for it. Without ``overwrite`` the temporary file is published with a hard link, which
fails if the target appeared in the meantime, so of two writers racing for one new path
exactly one wins and the other gets :class:`~lookalike.errors.OutputExistsError`.

Temporary files are named ``.<target>.<pid>@<host>.<random>.partial``. They are removed when
the write ends (even by an exception), on SIGTERM/SIGHUP once :func:`install_signal_cleanup`
ran, and on the next write of the same target when the process that made them is gone (or
after :data:`STALE_AFTER_S`), which covers ``kill -9``.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from lookalike.errors import OutputExistsError, OutputPathError

__all__ = ["STALE_AFTER_S", "atomic_output", "check_writable", "install_signal_cleanup"]

STALE_AFTER_S = 24 * 3600
"""A temporary file older than this is removed even when its process cannot be checked."""

_SUFFIX = ".partial"
_HOST = hashlib.blake2b(socket.gethostname().encode(), digest_size=4).hexdigest()
_OWNED = re.compile(r"(?:(?P<pid>\d+)@(?P<host>[0-9a-f]{8})\.)?[a-z0-9_]{8}")
_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EXDEV}
_LIVE: set[Path] = set()  # temporary files of writes in progress in this process
_LIVE_LOCK = threading.Lock()
_PREVIOUS: dict[int, object] = {}  # signal -> handler replaced by install_signal_cleanup


def check_writable(path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Return ``path`` as a Path, refusing an existing file unless ``overwrite``.

    Also refuses, before any work is done, a path whose folder cannot be created or written
    (:class:`~lookalike.errors.OutputPathError`): a file where a folder should be, a read-only
    folder or file system.
    """
    p = Path(path)
    try:
        exists = p.exists()
        if exists and not overwrite:
            raise OutputExistsError(
                f"{p} already exists; choose another output path or pass overwrite=True "
                "(CLI: --overwrite) to replace it"
            )
        if exists and p.is_dir():
            raise OutputExistsError(f"{p} is a directory; give a file path for the output")
        _check_folder(p)
    except (OutputExistsError, OutputPathError):
        raise
    except OSError as e:  # a folder on the way that cannot even be looked into
        raise _path_error(p, p.parent, e) from None
    return p


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path; on success publish it as ``path``, on failure delete it.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_output(d / "x.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (d / "x.txt").read_text()
    'hello'
    """
    target = check_writable(path, overwrite=overwrite)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_partials(target)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.{os.getpid()}@{_HOST}.", suffix=_SUFFIX, dir=target.parent
        )
    except OSError as e:
        raise _path_error(target, target.parent, e) from None
    os.close(fd)
    tmp = Path(tmp_name)
    with _LIVE_LOCK:
        _LIVE.add(tmp)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        _publish(tmp, target, overwrite)
    finally:
        with _LIVE_LOCK:
            _LIVE.discard(tmp)
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _remove_stale_partials(target: Path) -> list[Path]:
    """Delete temporary files of ``target`` left by dead processes; return what was deleted.

    A file is stale when its process (same host) no longer runs, or when it is older than
    :data:`STALE_AFTER_S`. Files of other targets and of live writers are kept.
    """
    prefix = f".{target.name}."
    removed = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(_SUFFIX)):
            continue
        owner = _OWNED.fullmatch(name[len(prefix) : -len(_SUFFIX)])
        if owner is None or not entry.is_file(follow_symlinks=False):
            continue
        try:
            old = now - entry.stat(follow_symlinks=False).st_mtime > STALE_AFTER_S
        except OSError:
            continue
        dead = owner["pid"] is not None and owner["host"] == _HOST and not _running(int(owner["pid"]))
        if old or dead:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def install_signal_cleanup() -> None:
    """On SIGTERM and SIGHUP (and SIGINT if it would kill), delete temp files, then die as before.

    Only signals whose action is the default one (terminate without unwinding) get a handler:
    a Python handler such as SIGINT's ``KeyboardInterrupt`` already unwinds ``atomic_output``.
    The process then ends by the same signal, so its exit status is unchanged. Call it from
    the main thread (the CLI entry point does); elsewhere it does nothing. Idempotent.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for name in ("SIGTERM", "SIGHUP", "SIGINT"):
        signum = getattr(signal, name, None)
        if signum is None or signum in _PREVIOUS:
            continue
        if signal.getsignal(signum) is signal.SIG_DFL:
            _PREVIOUS[signum] = signal.SIG_DFL
            signal.signal(signum, _on_signal)


def _on_signal(signum: int, frame) -> None:
    """Delete the temporary files of writes in progress, then die by the same signal."""
    for tmp in list(_LIVE):
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _publish(tmp: Path, target: Path, overwrite: bool) -> None:
    """Move ``tmp`` to ``target``; without ``overwrite``, only if ``target`` does not exist."""
    if overwrite:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)  # atomic create-if-absent; tmp is unlinked by the caller
        return
    except FileExistsError:
        raise _exists(target) from None
    except (OSError, AttributeError, NotImplementedError) as e:
        if isinstance(e, OSError) and e.errno not in _NO_LINKS:
            raise
    # No hard links here (FAT, some network file systems): reserve the name, then replace.
    try:
        os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        raise _exists(target) from None
    try:
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(target)
        raise


def _exists(target: Path) -> OutputExistsError:
    return OutputExistsError(
        f"{target} was created by another process while this one was writing it; nothing was "
        "overwritten: choose another output path or pass overwrite=True (CLI: --overwrite)"
    )


def _check_folder(p: Path) -> None:
    """Refuse ``p`` if its folder is a file, or the nearest existing folder is not writable."""
    folder = p.parent
    while not folder.exists():
        if folder.is_symlink() or folder == folder.parent:
            break
        folder = folder.parent
    if folder.exists() and not folder.is_dir():
        raise OutputPathError(
            f"cannot write {p}: {folder} is a file, not a folder; choose an output path inside "
            "a folder"
        )
    try:
        fd, probe = tempfile.mkstemp(prefix=".lookalike-probe.", dir=folder)
    except OSError as e:
        raise _path_error(p, folder, e) from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)


def _path_error(p: Path, folder: Path, e: OSError) -> OutputPathError:
    return OutputPathError(
        f"cannot write {p}: folder {folder} cannot be written ({e.strerror or e}); choose an "
        "output path in a folder you can write to"
    )


def _running(pid: int) -> bool:
    """Whether process ``pid`` of this host runs (True when it cannot be told)."""
    if pid <= 0 or os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True
