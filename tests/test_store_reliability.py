"""An on-disk Oxigraph store survives its loading process being killed.

The store is built in a sibling directory and renamed into place when complete, so a
kill at any moment leaves either no store (the next run loads it again) or the whole
store, never a half-filled one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from khalis_kg import KnowledgeGraph

TRIPLES = 400_000
LOADER = """
import sys
from khalis_kg import KnowledgeGraph
KnowledgeGraph.build_store(sys.argv[2], [sys.argv[1]]).close()
print("loaded", flush=True)
"""


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.nt"
    with path.open("w", encoding="utf-8") as out:
        for i in range(TRIPLES):
            out.write(f'<http://example.org/s{i}> <http://example.org/p> "value {i}" .\n')
    return path


def _loading_dirs(store: Path) -> list[Path]:
    return sorted(store.parent.glob(f".{store.name}.loading-*"))


@pytest.mark.parametrize("delay", [0.3, 0.6, 1.0])  # mid-load here: loading takes ~1.5 s
def test_killed_mid_load_leaves_nothing_half_loaded(
    big_file: Path, tmp_path: Path, delay: float
) -> None:
    store = tmp_path / "store"
    proc = subprocess.Popen(
        [sys.executable, "-c", LOADER, str(big_file), str(store)],
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    # Either the rename happened (the whole store) or the target is untouched.
    if store.exists():
        with KnowledgeGraph.build_store(store, [big_file]) as kg:
            assert len(kg) == TRIPLES
    # Opening again completes the store if needed, and cleans the dead loader's files.
    with KnowledgeGraph.build_store(store, [big_file]) as kg:
        assert len(kg) == TRIPLES
    assert _loading_dirs(store) == []


def test_existing_store_is_reused_not_rewritten(big_file: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    small = tmp_path / "small.nt"
    small.write_text('<http://example.org/a> <http://example.org/p> "x" .\n', "utf-8")
    with KnowledgeGraph.build_store(store, [small]) as kg:
        assert len(kg) == 1
    with KnowledgeGraph.build_store(store, [big_file]) as kg:
        assert len(kg) == 1  # the store already holds data: used as it is
        rows = kg.sparql("SELECT ?s ?o WHERE { ?s ?p ?o }").to_python()
    assert rows == [{"s": "http://example.org/a", "o": "x"}]
    assert _loading_dirs(store) == []


# -- reading a store another handle is writing ----------------------------------------


def test_open_store_while_the_writer_compacts(tmp_path: Path) -> None:
    """``KnowledgeGraph.open_store`` right after a bulk load, while the loading handle is
    still open and RocksDB compacts in its threads: a plain read-only open then often
    fails ("IO error: No such file ... .sst", about one open in three here), because the
    writer deleted a file the manifest listed. Every open and every read succeeds
    through the private checkpoint, and the checkpoints are gone once closed."""
    data = Path(__file__).resolve().parents[1] / "data" / "khalis.ttl"
    opened = 0
    deadline = time.monotonic() + 4
    for round_ in range(10):
        store = tmp_path / f"store-{round_}"
        with KnowledgeGraph.build_store(store, [data], with_ontology=True) as writer:
            expected = len(writer)
            for attempt in range(3):
                with KnowledgeGraph.open_store(store) as view:
                    assert len(view) == expected
                    if attempt == 0:  # a whole read of it, through the checkpoint
                        assert view.validate(engine="turbo" if _turbo() else "pyshacl").conforms
                opened += 1
        assert sorted(p.name for p in tmp_path.iterdir() if ".view-" in p.name) == []
        if time.monotonic() > deadline:
            break
    assert opened >= 6


def _turbo() -> bool:
    import importlib.util

    return importlib.util.find_spec("pyshacl_turbo") is not None


def test_stale_views_of_dead_processes_are_removed(tmp_path: Path) -> None:
    """A process killed while it read a store leaves its checkpoint beside the store
    (``.NAME.view-PID-XXXX``); the next open removes those of dead processes and
    leaves a live process's alone."""
    data = Path(__file__).resolve().parents[1] / "data" / "khalis.ttl"
    store = tmp_path / "store"
    KnowledgeGraph.build_store(store, [data]).close()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    stale = tmp_path / f".store.view-{dead}-abcd"
    live = tmp_path / f".store.view-{os.getppid()}-efgh"
    for holder in (stale, live):
        (holder / "store").mkdir(parents=True)
    with KnowledgeGraph.open_store(store) as view:
        assert len(view) > 0
    assert not stale.exists()
    assert live.exists()
    assert (tmp_path / "store").is_dir()
