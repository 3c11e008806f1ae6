"""``--memory-limit auto``, the default: 2 GiB, or more for big input files (issue 23)."""

from __future__ import annotations

import os
from pathlib import Path

from helpers import invoke

from khalis_kg.cli import _memory, parse
from khalis_kg.isolation import DEFAULT_MEMORY_LIMIT
from khalis_kg.options import AUTO, AUTO_BYTES_PER_INPUT_BYTE, auto_memory_limit

MACHINE = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def sparse(path: Path, size: int) -> str:
    with path.open("wb") as f:
        f.truncate(size)  # a sparse file: its size without its blocks
    return str(path)


def test_small_inputs_keep_two_gib(tmp_path: Path) -> None:
    small = sparse(tmp_path / "small.nt", 1000)
    assert auto_memory_limit([]) == DEFAULT_MEMORY_LIMIT
    assert auto_memory_limit([small, str(tmp_path / "missing.nt")]) == DEFAULT_MEMORY_LIMIT


def test_big_inputs_raise_the_cap_up_to_the_machine(tmp_path: Path) -> None:
    size = 200 * 1024**2  # 200 MiB of input: 3.2 GiB of cap
    a, b = sparse(tmp_path / "a.nt", size), sparse(tmp_path / "b.nt", size)
    assert auto_memory_limit([a]) == min(MACHINE, AUTO_BYTES_PER_INPUT_BYTE * size)
    assert auto_memory_limit([a, b]) == min(MACHINE, 2 * AUTO_BYTES_PER_INPUT_BYTE * size)
    huge = sparse(tmp_path / "huge.nt", MACHINE)  # more than the machine: the machine
    assert auto_memory_limit([huge]) == MACHINE


def test_settings_count_data_named_graphs_and_the_verbs_files_once(tmp_path: Path) -> None:
    size = 300 * 1024**2
    data, graph = sparse(tmp_path / "d.nt", size), sparse(tmp_path / "g.nt", size)
    settings = parse(["--data", data, "--named-graph", f"http://ex/g={graph}", "stats"])
    expected = min(MACHINE, 2 * AUTO_BYTES_PER_INPUT_BYTE * size)
    assert settings.memory_limit == AUTO
    assert _memory(settings, [data]) == expected  # validate's FILES default to the data
    given = parse(["--data", data, "--memory-limit", "512M", "stats"])
    assert _memory(given, [data]) == 512 * 1024**2
    assert _memory(parse(["--data", data, "--memory-limit", "none", "stats"])) is None
    for verb in (["sparql", "ASK {}"], ["serve"]):  # the verbs that share the option
        assert _memory(parse([*verb, "--memory-limit", "512M"])) == 512 * 1024**2


def test_help_says_so() -> None:
    for where in (["--help"], ["serve", "--help"], ["sparql", "--help"]):
        out = " ".join(invoke(where).output.split())
        assert (
            "[default: auto: 2G, or 16 times the size of the input files when that is more, at "
            "most the machine's memory]" in out
        ), where
        assert "Memory each step may add to what its process holds" in out
        assert "[default: no limit for a verb, 5 for a query of serve]" in out
    refused = invoke(["--memory-limit", "lots", "stats"])
    assert refused.exit_code == 2
