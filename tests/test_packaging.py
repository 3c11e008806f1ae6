"""The wheel ships everything the package reads, and the command works from any directory."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import khalis_kg

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(  # hatchling itself: no pip, no isolated build environment
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(out)],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("khalis_kg-*.whl")
    return zipfile.ZipFile(built)


def test_wheel_ships_data_ontology_queries_and_pages(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for required in (
        "khalis_kg/py.typed",
        "khalis_kg/data/khalis.ttl",
        "khalis_kg/ontology/khalis.ttl",
        "khalis_kg/ontology/concepts.ttl",
        "khalis_kg/ontology/shapes.ttl",
        "khalis_kg/ontology/context.jsonld",
        "khalis_kg/static/index.html",
        "khalis_kg/static/yasgui/yasgui.min.js",
        "khalis_kg/static/yasgui/yasgui.min.css",
        "khalis_kg/static/yasgui/LICENSE",
    ):
        assert required in names
    queries = {n for n in names if n.startswith("khalis_kg/queries/") and n.endswith(".rq")}
    in_repo = {
        f"khalis_kg/{p.relative_to(REPO).as_posix()}" for p in (REPO / "queries").rglob("*.rq")
    }
    assert queries == in_repo


def test_wheel_files_are_the_repository_files(wheel: zipfile.ZipFile) -> None:
    """The top-level folders are mapped into the package: the wheel holds their bytes."""
    for rel in (
        "data/khalis.ttl",
        "ontology/shapes.ttl",
        "data/source/2015_Al_Khalis_prison_break.txt",
    ):
        assert wheel.read(f"khalis_kg/{rel}") == (REPO / rel).read_bytes()


def test_version_is_defined_once(wheel: zipfile.ZipFile) -> None:
    metadata = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    assert f"Version: {khalis_kg.__version__}" in wheel.read(metadata).decode()


def test_command_works_from_another_directory(tmp_path: Path) -> None:
    """The installed command finds its packaged data wherever it is run from."""
    exe = Path(sys.executable).with_name("khalis-kg")
    done = subprocess.run(
        [str(exe), "validate"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Conforms: yes")


# Where pyshacl-turbo 0.6.5 publishes wheels (cp311-abi3), and two places it does not.
TURBO_WHEELS = {
    "linux x86-64": ("linux", "x86_64", "3.11", "CPython", True),
    "linux ARM64": ("linux", "aarch64", "3.13", "CPython", True),
    "macOS ARM64": ("darwin", "arm64", "3.12", "CPython", True),
    "macOS x86-64": ("darwin", "x86_64", "3.11", "CPython", True),
    "Windows x86-64": ("win32", "AMD64", "3.11", "CPython", True),
    "Windows ARM64": ("win32", "ARM64", "3.12", "CPython", False),
    "Python 3.10": ("linux", "x86_64", "3.10", "CPython", False),
    "PyPy": ("linux", "x86_64", "3.11", "PyPy", False),
    "Linux s390x": ("linux", "s390x", "3.11", "CPython", False),
}


@pytest.mark.parametrize("where", TURBO_WHEELS)
def test_the_fast_engine_is_a_dependency_exactly_where_it_has_wheels(
    wheel: zipfile.ZipFile, where: str
) -> None:
    (metadata,) = (n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    requires = Parser().parsestr(wheel.read(metadata).decode()).get_all("Requires-Dist")
    (turbo,) = (
        Requirement(r) for r in requires if r.startswith("pyshacl-turbo") and "extra ==" not in r
    )
    platform, machine, python, implementation, expected = TURBO_WHEELS[where]
    environment = {
        "sys_platform": platform,
        "platform_machine": machine,
        "python_version": python,
        "platform_python_implementation": implementation,
    }
    assert turbo.marker is not None
    assert turbo.marker.evaluate(environment) is expected, (where, str(turbo.marker))


def test_vendored_yasgui_is_what_docs_server_md_says() -> None:
    """The YASGUI files in the package are the ones whose SHA-256 docs/server.md records
    (tools/vendor-yasgui.sh prints them): an edit by hand, or an update whose figures were
    not written down, fails here."""
    import hashlib
    import re

    docs = (REPO / "docs" / "server.md").read_text(encoding="utf-8")
    recorded = dict(
        re.findall(r"\| `(yasgui\.min\.(?:js|css))` \| SHA-256 `([0-9a-f]{64})` \|", docs)
    )
    assert set(recorded) == {"yasgui.min.js", "yasgui.min.css"}
    folder = REPO / "src" / "khalis_kg" / "static" / "yasgui"
    for name, digest in recorded.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    assert sorted(p.name for p in folder.iterdir()) == [
        "LICENSE",
        "yasgui.min.css",
        "yasgui.min.js",
    ]
