"""Reading input and writing output safely (khalis_kg.files), through the API and the
command line: no special file read or replaced, no symbolic link followed, one line for
every failure, no temporary file left behind (and stale ones cleaned up)."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from helpers import invoke

from khalis_kg.errors import InputError, OutputError
from khalis_kg.files import read_input, remove_stale_temporaries, temporary_name, write_output


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_regular_file_written_atomically(tmp_path: Path) -> None:
    target = tmp_path / "out.nt"
    write_output(target, b"one\n")
    write_output(target, b"two\n")
    assert target.read_bytes() == b"two\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_umask()
    assert leftovers(tmp_path) == []


def test_symbolic_links_are_neither_followed_nor_replaced(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep", "utf-8")
    link = tmp_path / "link.nt"
    link.symlink_to(victim)
    with pytest.raises(OutputError, match="is a symbolic link; not followed"):
        write_output(link, b"data")
    assert link.is_symlink()
    assert victim.read_text("utf-8") == "keep"
    dangling = tmp_path / "dangling.nt"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(OutputError, match="symbolic link"):
        write_output(dangling, b"data")
    assert not (tmp_path / "nowhere").exists()


def test_devices_are_written_in_place_never_replaced() -> None:
    write_output(Path("/dev/null"), b"gone")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    with pytest.raises(OutputError, match=r"^/dev/full: cannot write \(No space left on device\)$"):
        write_output(Path("/dev/full"), b"x" * 10)
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_fifo_without_reader_is_refused_with_reader_is_written(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match="a FIFO with no reader; refused"):
        write_output(fifo, b"data")
    received: list[bytes] = []
    reader_fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        thread = threading.Thread(target=lambda: write_output(fifo, b"hello"))
        thread.start()
        thread.join(10)
        received.append(os.read(reader_fd, 100))
    finally:
        os.close(reader_fd)
    assert received == [b"hello"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_other_special_targets_are_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="is a directory; refused"):
        write_output(tmp_path, b"x")
    with pytest.raises(OutputError, match="does not exist"):
        write_output(tmp_path / "missing" / "out.nt", b"x")
    with pytest.raises(OutputError, match=r"cannot write \(File name too long\)"):
        write_output(tmp_path / ("n" * 300), b"x")
    # a name just under the limit still works: the temporary name is shortened
    long = tmp_path / ("m" * 250)
    write_output(long, b"x")
    assert long.read_bytes() == b"x"
    assert leftovers(tmp_path) == []


def test_failed_write_removes_its_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import khalis_kg.files as files

    target = tmp_path / "out.nt"
    target.write_text("old", "utf-8")

    def full(fd: int, data: bytes) -> None:
        os.write(fd, data[:3])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files, "write_all", full)
    with pytest.raises(OutputError, match=r"out.nt: cannot write \(No space left on device\)$"):
        write_output(target, b"new content")
    assert target.read_text("utf-8") == "old"
    assert leftovers(tmp_path) == []


def test_stale_temporaries_of_dead_runs_are_removed(tmp_path: Path) -> None:
    target = tmp_path / "graph.ttl"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(dead.stdout)
    stale = temporary_name(target, dead_pid)
    stale.write_bytes(b"half a graph")
    alive = temporary_name(target, os.getppid())  # a running process: kept
    alive.write_bytes(b"in progress")
    other = tmp_path / ".notes.txt.khalis-1-0000000g.tmp"  # not our pattern: kept
    other.write_bytes(b"mine")
    unrelated = tmp_path / ".graph.ttl.abc.tmp"
    unrelated.write_bytes(b"someone else's")
    write_output(target, b"whole")
    assert target.read_bytes() == b"whole"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [target.name, alive.name, other.name, unrelated.name]
    )
    assert remove_stale_temporaries(target) == []


def test_killed_export_leaves_a_temporary_that_the_next_run_removes(tmp_path: Path) -> None:
    target = tmp_path / "graph.nt"
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "import khalis_kg.files as f\n"
        "real = f.write_all\n"
        "def die(fd, data):\n"
        "    real(fd, data[:10])\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "f.write_all = die\n"
        "f.write_output(Path(sys.argv[1]), b'x' * 1000)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(target)], check=False)
    assert done.returncode == -9
    assert len(leftovers(tmp_path)) == 1
    result = invoke(["export", "--format", "nt", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert leftovers(tmp_path) == []
    assert target.stat().st_size > 1000


def test_inputs_must_be_regular_files(tmp_path: Path) -> None:
    fifo = tmp_path / "in.ttl"
    os.mkfifo(fifo)
    for path, message in (
        (fifo, "is a FIFO (named pipe), not a regular file; give a file"),
        (Path("/dev/zero"), "is a character device, not a regular file; give a file"),
        (tmp_path, "is a directory, not a file"),
        (tmp_path / "missing.ttl", "no such file"),
    ):
        with pytest.raises(InputError, match=re.escape(message)):
            read_input(path)
    big = tmp_path / "big.ttl"
    big.write_bytes(b"x" * 2000)
    with pytest.raises(InputError, match="too large"):
        read_input(big, limit=1000)


def test_cli_output_errors_are_one_line(tmp_path: Path) -> None:
    link = tmp_path / "link.nt"
    link.symlink_to(tmp_path / "elsewhere.nt")
    for target, message, code in (
        (link, f"{link}: is a symbolic link; not followed (give the file it points to)", 2),
        (Path("/dev/full"), "/dev/full: cannot write (No space left on device)", 7),
    ):
        result = invoke(["export", "--format", "nt", "-o", str(target)])
        assert result.exit_code == code
        assert result.stderr == f"khalis-kg: error: {message}\n"
    assert not (tmp_path / "elsewhere.nt").exists()
    ok = invoke(["query", "event-summary", "-o", "/dev/null"])
    assert ok.exit_code == 0


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
