"""Reading the user's files and writing output files, safely.

Reading (:func:`read_input`): the file is opened without blocking and checked on the
opened descriptor (no race between a check and the read): only a regular file is
read, and never more than a bound. A FIFO, a device (``/dev/zero``), a socket or a
directory is refused with one line instead of hanging or filling the memory.

Writing (:func:`write_output`) never replaces what is not a regular file and never
follows a symbolic link:

* an absent path or a regular file is written atomically: a temporary file in the same
  directory, ``fsync``, then ``rename`` over the target; on any failure the temporary
  file is removed and the target left as it was;
* a character device (``/dev/null``, a terminal) or a FIFO with a reader is written in
  place, as a shell redirection would; a FIFO without a reader is refused rather than
  waited for. So is a symbolic link to one of them (``/dev/stdout`` and ``/dev/stderr``
  are links to the process's own descriptors): nothing is replaced through it;
* any other symbolic link (to a file, a directory, nowhere), a directory, a block device
  or a socket is refused with one line;
* a path refused for what it is (above), in a directory that does not exist, or too long
  a name is an :class:`~khalis_kg.errors.OutputError` (exit 2); a failure to open, write,
  sync or rename (a full device, an I/O error, no permission) is a
  :class:`~khalis_kg.errors.WriteError` (exit 7);
* :func:`output_directory` (``docs -o DIR``) follows the same rules for a directory: an
  absent one is created, an existing directory used, anything else (a symbolic link, a
  file, a device, a FIFO, a socket) refused;
* the temporary files are named ``.NAME.khalis-PID-RANDOM.tmp``: one left behind by a
  killed run (its PID no longer running) is removed by the next write to the same
  target.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
from pathlib import Path

from .errors import InputError, KhalisError, OutputError, ParameterError, WriteError

MAX_INPUT_BYTES = 1 << 30
"""Largest file read as input (1 GiB); past the memory limit a file fails anyway."""

_NAME_MAX = 255
_TMP = r"\.khalis-(\d+)-[0-9a-f]{8}\.tmp"


_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFLNK: "a symbolic link",
}


def _kind(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def as_path(value: object, what: str = "the path", error: type[KhalisError] = InputError) -> Path:
    """``value`` (a ``str`` or ``os.PathLike``) as a Path: ParameterError for anything
    else, ``error`` for a NUL character (no file has one in its name) or a name no file
    system can encode (an output target's is an OutputError, exit 2)."""
    try:
        path = Path(value)  # type: ignore[arg-type]  # checked here
    except TypeError:
        raise ParameterError(
            f"{what}: expected a str or a Path, got {type(value).__name__}"
        ) from None
    if "\0" in str(path):
        raise error(f"{what} {str(path)!r} has a NUL character; no file is named so")
    try:
        os.fsencode(path)
    except UnicodeEncodeError:  # a lone surrogate no file system encoding can write
        raise error(f"{what} {str(path)!r} cannot be a file name (not encodable)") from None
    return path


def read_input(path: str | Path, *, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them (see the module's
    documentation for what is refused: InputError, one line)."""
    path = as_path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{path}: is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{path}: is {_kind(info.st_mode)}, not a regular file; give a file")
        if info.st_size > limit:
            raise InputError(f"{path}: too large ({info.st_size} bytes; the limit is {limit})")
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise InputError(f"{path}: too large (more than {limit} bytes)")
        return b"".join(chunks)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    finally:
        os.close(fd)


def write_output(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (see the module's documentation for what is refused)."""
    target = as_path(path, "the output", OutputError)
    info = _lstat(target, f"directory {target.parent} does not exist")
    if info is not None and not stat.S_ISREG(info.st_mode):
        mode = info.st_mode
        if stat.S_ISLNK(mode):
            with contextlib.suppress(OSError):  # a dangling link keeps its own mode
                mode = os.stat(target).st_mode
        if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
            _write_in_place(target, data, fifo=stat.S_ISFIFO(mode), link=info.st_mode != mode)
            return
        if stat.S_ISLNK(info.st_mode):
            raise OutputError(
                f"{target}: is a symbolic link; not followed (give the file it points to)"
            )
        raise OutputError(f"{target}: is {_kind(mode)}; refused")
    _write_atomic(target, data)


def _lstat(target: Path, no_parent: str) -> os.stat_result | None:
    """What ``target`` itself is (a link not followed); None when it does not exist;
    OutputError (``no_parent`` when a parent is not a directory) when it cannot be."""
    try:
        return os.lstat(target)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise OutputError(f"{target}: {no_parent}") from None
    except OSError as exc:  # too long a name
        raise OutputError(f"{target}: cannot write ({exc.strerror or 'error'})") from None
    except ValueError:
        raise OutputError(f"{target}: cannot write (a NUL character in the name)") from None


def output_directory(path: str | Path) -> Path:
    """``path`` as a directory to write files into (see the module's documentation)."""
    target = as_path(path, "the output", OutputError)
    no_parent = "a parent of it is not a directory"
    info = _lstat(target, no_parent)
    if info is None:
        try:
            target.mkdir(parents=True, exist_ok=True)
        except NotADirectoryError:
            raise OutputError(f"{target}: {no_parent}") from None
        except OSError as exc:
            raise WriteError(f"{target}: cannot create the directory ({exc.strerror})") from None
        return output_directory(target)  # checked as it now is (created, or raced)
    if stat.S_ISLNK(info.st_mode):
        raise OutputError(
            f"{target}: is a symbolic link; not followed (give the directory it points to)"
        )
    if not stat.S_ISDIR(info.st_mode):
        raise OutputError(f"{target}: is {_kind(info.st_mode)}, not a directory; refused")
    return target


def _write_in_place(target: Path, data: bytes, *, fifo: bool, link: bool = False) -> None:
    flags = os.O_WRONLY | getattr(os, "O_NOCTTY", 0)
    if not link:  # a link to a device or a FIFO is followed (checked again below)
        flags |= getattr(os, "O_NOFOLLOW", 0)
    if fifo:
        flags |= getattr(os, "O_NONBLOCK", 0)  # no reader: ENXIO now, not a hang
    try:
        fd = os.open(target, flags)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise OutputError(f"{target}: a FIFO with no reader; refused") from None
        raise WriteError(f"{target}: cannot write ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not (stat.S_ISCHR(info.st_mode) or stat.S_ISFIFO(info.st_mode)):
            raise OutputError(f"{target}: changed while being opened; refused")
        if fifo:
            os.set_blocking(fd, True)
        write_all(fd, data)
    except OSError as exc:
        raise WriteError(f"{target}: cannot write ({exc.strerror})") from None
    finally:
        os.close(fd)


def temporary_name(target: Path, pid: int | None = None) -> Path:
    """The temporary file for ``target``: ``.NAME.khalis-PID-RANDOM.tmp`` beside it
    (NAME shortened so that the whole stays within the 255-byte name limit)."""
    import secrets  # not at import: it brings hashlib and random to every command

    suffix = f".khalis-{os.getpid() if pid is None else pid}-{secrets.token_hex(4)}.tmp"
    return target.parent / (_stem(target) + suffix)


def _stem(target: Path) -> str:
    name = "." + target.name
    room = _NAME_MAX - len(".khalis-4294967295-00000000.tmp")
    encoded = name.encode("utf-8", "surrogateescape")
    if len(encoded) > room:
        name = encoded[:room].decode("utf-8", "ignore")
    return name


def remove_stale_temporaries(target: Path) -> list[Path]:
    """Remove temporary files of ``target`` left by runs that are no longer alive
    (regular files owned by this user, named by :func:`temporary_name`)."""
    removed: list[Path] = []
    stem = _stem(target)
    directory = target.parent
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        if not name.startswith(stem):
            continue
        m = re.fullmatch(_TMP, name[len(stem) :])
        if m is None or pid_alive(int(m.group(1))):
            continue
        candidate = directory / name
        with contextlib.suppress(OSError):
            info = os.lstat(candidate)
            if stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid():
                os.unlink(candidate)
                removed.append(candidate)
    return removed


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (the owner of a temporary file or a loading
    directory). Where signal 0 cannot probe a process (not POSIX: Windows) it is assumed
    alive, so that nothing another process may still use is removed."""
    if pid == os.getpid() or os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _write_atomic(target: Path, data: bytes) -> None:
    directory = target.parent
    if not directory.is_dir():
        raise OutputError(f"{target}: directory {directory} does not exist")
    remove_stale_temporaries(target)
    tmp = temporary_name(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(tmp, flags, 0o666)  # the umask applies, as for any new file
    except OSError as exc:
        raise WriteError(f"{target}: cannot write ({exc.strerror})") from None
    try:
        try:
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise WriteError(f"{target}: cannot write ({exc.strerror})") from None
        raise


def write_all(fd: int, data: bytes) -> None:
    """Write the whole of ``data`` to descriptor ``fd`` (``os.write`` may write less)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
