"""Every artefact works: the sdist, a wheel built from that sdist, and a checkout
without symbolic links (``core.symlinks=false``, the Windows default).

The checks run the installed command in a fresh virtual environment whose
dependencies come from the current one (no index, no download), from a directory
outside the repository. A missing or unreadable packaged file is an error with exit
code 2, never an empty success.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.sources import WheelFile

import khalis_kg

REPO = Path(__file__).resolve().parents[1]
QUERIES = sorted(p.stem for p in (REPO / "queries").glob("*.rq"))
# installer's scheme names, each with the sysconfig path it stands for
SCHEME_KEYS = {
    "purelib": "purelib",
    "platlib": "platlib",
    "headers": "include",
    "scripts": "scripts",
    "data": "data",
}


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


@dataclass(frozen=True)
class Installed:
    """A fresh virtual environment with the wheel installed."""

    root: Path
    python: Path
    command: Path
    package: Path

    def run(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.command), *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sdist")
    _run(sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-d", out, cwd=REPO)
    (built,) = out.glob("khalis_kg-*.tar.gz")
    return built


@pytest.fixture(scope="module")
def unpacked(sdist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("unpacked")
    with tarfile.open(sdist) as archive:
        if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12 / 3.11.4
            archive.extractall(target, filter="data")
        else:  # pragma: no cover - our own sdist, just built
            archive.extractall(target)
    (root,) = target.iterdir()
    return root


@pytest.fixture(scope="module")
def wheel_from_sdist(unpacked: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _run(sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", out, cwd=unpacked)
    (built,) = out.glob("khalis_kg-*.whl")
    return built


def _fresh_venv(root: Path) -> Path:
    """A virtual environment that sees the current one's packages (read-only, through
    a ``.pth`` line) but not its khalis_kg, which is installed into it afterwards."""
    venv.create(root, with_pip=False, symlinks=os.name != "nt")
    python = root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = _run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=root)
    (Path(purelib.strip()) / "_outer_venv.pth").write_text(
        sysconfig.get_path("purelib") + "\n", "utf-8"
    )
    return python


@pytest.fixture(scope="module")
def installed(wheel_from_sdist: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("venv")
    python = _fresh_venv(root)
    # Installed with pypa's `installer` (no pip needed in either environment), into the
    # fresh environment's own scheme: the outer environment's khalis-kg is visible, not it.
    scheme = json.loads(
        _run(
            python,
            "-c",
            "import json, sysconfig; print(json.dumps(sysconfig.get_paths()))",
            cwd=root,
        )
    )
    destination = SchemeDictionaryDestination(
        {name: scheme[key] for name, key in SCHEME_KEYS.items()},
        interpreter=str(python),
        script_kind="win-amd64" if os.name == "nt" else "posix",
    )
    with WheelFile.open(wheel_from_sdist) as source:
        install(source, destination, additional_metadata={})
    where = _run(
        python, "-c", "import khalis_kg, os; print(os.path.dirname(khalis_kg.__file__))", cwd=root
    )
    package = Path(where.strip())
    assert package.is_relative_to(root), package  # the installed copy, not this checkout
    command = python.with_name("khalis-kg.exe" if os.name == "nt" else "khalis-kg")
    return Installed(root, python, command, package)


# -- the sdist ------------------------------------------------------------------------


def test_sdist_holds_what_the_tests_need(sdist: Path) -> None:
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    for required in (
        "LICENSE",
        "NOTICE",
        "README.md",
        "pyproject.toml",
        "ontology/khalis.ttl",
        "ontology/shapes.ttl",
        "data/khalis.ttl",
        "data/source/2015_Al_Khalis_prison_break.txt",
        "bench/generate.py",
        ".ci/run",
        "docs/formats.md",
        "tests/conftest.py",
        "src/khalis_kg/__init__.py",
    ):
        assert required in names, required
    assert {f"queries/{q}.rq" for q in QUERIES} <= names
    with tarfile.open(sdist) as archive:
        assert not [m.name for m in archive.getmembers() if m.issym() or m.islnk()]


def test_wheel_from_sdist_ships_every_packaged_file(wheel_from_sdist: Path) -> None:
    names = set(zipfile.ZipFile(wheel_from_sdist).namelist())
    for folder in ("ontology", "data", "queries"):
        for path in (REPO / folder).rglob("*"):
            if path.is_file():
                assert f"khalis_kg/{path.relative_to(REPO).as_posix()}" in names, path
    info = next(n for n in names if n.endswith(".dist-info/METADATA"))
    metadata = zipfile.ZipFile(wheel_from_sdist).read(info).decode("utf-8")
    assert f"Version: {khalis_kg.__version__}" in metadata
    assert "License-Expression: MIT AND CC-BY-SA-4.0" in metadata
    for licence in ("LICENSE", "NOTICE"):
        assert f"License-File: {licence}" in metadata
        assert any(n.endswith(f".dist-info/licenses/{licence}") for n in names), licence


def test_installed_command_lists_every_query(installed: Installed, tmp_path: Path) -> None:
    done = installed.run("queries", "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert [q["name"] for q in json.loads(done.stdout)] == QUERIES


def test_installed_command_validates(installed: Installed, tmp_path: Path) -> None:
    done = installed.run("validate", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Conforms: yes")


@pytest.fixture
def broken(installed: Installed) -> Iterator[Path]:
    """The installed package, restored after the test damages it."""
    backup = installed.root / "backup"
    shutil.copytree(installed.package, backup)
    try:
        yield installed.package
    finally:
        shutil.rmtree(installed.package)
        shutil.move(str(backup), installed.package)


@pytest.mark.parametrize(
    ("damage", "argv", "message"),
    [
        ("remove data/khalis.ttl", ["validate"], "packaged file missing"),
        ("directory data/khalis.ttl", ["validate"], "packaged file unreadable"),
        ("remove ontology/shapes.ttl", ["validate"], "packaged file missing"),
        ("empty queries", ["queries"], "no queries"),
        ("remove queries", ["queries"], "packaged files (ontology/, data/, queries/) are missing"),
        ("remove data/khalis.ttl", ["query", "event-summary"], "packaged file missing"),
    ],
)
def test_missing_packaged_file_is_exit_2(
    installed: Installed, broken: Path, tmp_path: Path, damage: str, argv: list[str], message: str
) -> None:
    action, rel = damage.split(" ", 1)
    target = broken / rel
    if action == "remove":
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    elif action == "directory":
        target.unlink()
        target.mkdir()
    else:  # empty a folder
        for entry in target.iterdir():
            if entry.is_file():
                entry.unlink()
    done = installed.run(*argv, cwd=tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert message in done.stderr
    assert done.stderr.startswith("khalis-kg: error: ")
    assert "Traceback" not in done.stderr


# -- the tests, run from the unpacked sdist ----------------------------------------------


def test_tests_run_from_the_unpacked_sdist(unpacked: Path) -> None:
    """The sdist's own tests find everything they read inside the sdist: the article
    (test_data), bench/generate.py (test_generator), docs/ and .ci/run (test_formats,
    test_docs), the packaged
    files; none of them skips. (A part of the suite, to stay fast: these are the tests
    that read files outside the package.)"""
    env = {**os.environ, "PYTHONPATH": str(unpacked / "src")}
    out = _run(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-rs",
        "tests/test_data.py",
        "tests/test_generator.py",
        "tests/test_formats.py",
        "tests/test_docs.py",
        "-k",
        "not vendored_article_is_the_shared_one",  # no ../shared beside a tmp folder
        # parsing every Turtle file twice checks the files, not the sdist: done above
        "--deselect",
        "tests/test_data.py::test_turtle_parses_identically_in_pyoxigraph",
        cwd=unpacked,
        env=env,
    )
    assert "skipped" not in out, out
    assert " passed" in out
    # the checkout's modules were used, not this repository's
    where = _run(
        sys.executable,
        "-c",
        "import khalis_kg.resources as r; print(r.package_root())",
        cwd=unpacked,
        env=env,
    )
    assert Path(where.strip()) == unpacked


# -- a checkout without symbolic links ------------------------------------------------------


def test_the_repository_holds_no_symbolic_links() -> None:
    links = [p for p in (REPO / "src").rglob("*") if p.is_symlink()]
    assert not links


@pytest.fixture(scope="module")
def symlinkless_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout (e.g. an unpacked sdist): nothing to clone")
    head = _run("git", "rev-parse", "HEAD", cwd=REPO).strip()
    clone = tmp_path_factory.mktemp("clone") / "khalis-kg"
    _run("git", "-c", "core.symlinks=false", "clone", "-q", "--no-checkout", REPO, clone, cwd=REPO)
    _run("git", "-c", "core.symlinks=false", "checkout", "-q", head, cwd=clone)
    return clone


@pytest.mark.parametrize(
    ("argv", "expected"),
    [(["queries", "--format", "json"], None), (["validate"], "Conforms: yes")],
)
def test_symlinkless_checkout_works(
    symlinkless_clone: Path, tmp_path: Path, argv: list[str], expected: str | None
) -> None:
    env = {**os.environ, "PYTHONPATH": str(symlinkless_clone / "src")}
    out = _run(sys.executable, "-m", "khalis_kg.cli", *argv, cwd=tmp_path, env=env)
    if expected is None:
        assert [q["name"] for q in json.loads(out)] == QUERIES
    else:
        assert out.startswith(expected)
    root = _run(
        sys.executable,
        "-c",
        "import khalis_kg.resources as r; print(r.package_root())",
        cwd=tmp_path,
        env=env,
    )
    assert Path(root.strip()) == symlinkless_clone
