"""pySHACL vs pyshacl-turbo on the project's shapes: same graphs, same options, same results?

pyshacl-turbo is not a dependency of khalis-kg; install it to run this comparison::

    pip install pyshacl-turbo           # or: pip install --target DIR pyshacl-turbo --no-deps
    python bench/shacl_engines.py       # writes bench/results/shacl-engines.json

Each (engine, file) runs in its own subprocess with a time cap. The inputs are the
packaged data, every file of tests/data/{valid,invalid} and synthetic corpora of
~1k, ~10k and ~100k triples (bench/generate.py). Results are compared as the sorted
(focus node, constraint component) pairs of the report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from khalis_kg.namespaces import SH
from khalis_kg.resources import ontology_sources

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CAP = {"pyshacl": 150.0, "turbo": 300.0}


def one(engine: str, path: str) -> dict[str, object]:
    from rdflib import RDF, Graph, URIRef

    data = Graph().parse(path)
    shapes = Graph().parse(REPO / "ontology" / "shapes.ttl")
    onto = Graph()
    for source in ontology_sources():  # every file of the ontology (resources.ONTOLOGY_FILES)
        onto.parse(data=source.data, format="turtle")
    target = Graph()
    target += data
    target += onto  # as khalis_kg.validation does: SKOS concepts visible to sh:class
    options = dict(
        shacl_graph=shapes,
        ont_graph=onto,
        inference="none",
        abort_on_first=False,
        advanced=True,
        allow_warnings=False,
    )
    t0 = time.perf_counter()
    if engine == "turbo":
        import pyshacl_turbo

        conforms, report, _ = pyshacl_turbo.validate(target, **options)
    else:
        import pyshacl

        conforms, report, _ = pyshacl.validate(target, meta_shacl=False, **options)
    seconds = time.perf_counter() - t0
    results = sorted(
        (str(report.value(r, URIRef(SH + "focusNode"))),
         str(report.value(r, URIRef(SH + "sourceConstraintComponent"))))
        for r in report.subjects(RDF.type, URIRef(SH + "ValidationResult"))
    )  # fmt: skip
    return {
        "conforms": bool(conforms),
        "seconds": seconds,
        "results": results,
        "triples": len(data),
    }


def main() -> int:
    if len(sys.argv) == 3:  # worker: ENGINE FILE
        print(json.dumps(one(sys.argv[1], sys.argv[2])))
        return 0
    sys.path.insert(0, str(HERE))
    import generate

    tmp = Path(tempfile.mkdtemp(prefix="khalis-shacl-"))
    files = [REPO / "data" / "khalis.ttl"]
    files += sorted((REPO / "tests" / "data" / "invalid").glob("*.ttl"))
    files += sorted((REPO / "tests" / "data" / "valid").glob("*.ttl"))
    synthetic = []
    for n in (1_000, 10_000, 100_000):
        path = tmp / f"synthetic-{n}.nt"
        generate.write(path, generate.events_for(n))
        synthetic.append(path)
    out: dict[str, dict[str, object]] = {}
    for path in files + synthetic:
        row: dict[str, object] = {}
        for engine in ("pyshacl", "turbo"):
            big = path in synthetic and path != synthetic[0]
            if engine == "pyshacl" and big:
                row[engine] = {"skipped": "pySHACL takes > 240 s from ~10k triples on"}
                continue
            try:
                proc = subprocess.run(
                    [sys.executable, __file__, engine, str(path)],
                    capture_output=True, text=True, timeout=CAP[engine], env=dict(os.environ),
                )  # fmt: skip
                row[engine] = (
                    json.loads(proc.stdout) if proc.returncode == 0
                    else {"error": proc.stderr.strip().splitlines()[-1:]}
                )  # fmt: skip
            except subprocess.TimeoutExpired:
                row[engine] = {"capped": CAP[engine]}
        a, b = row.get("pyshacl", {}), row.get("turbo", {})
        if isinstance(a, dict) and isinstance(b, dict) and "results" in a and "results" in b:
            row["same"] = a["conforms"] == b["conforms"] and a["results"] == b["results"]
        name = str(path.relative_to(REPO)) if path.is_relative_to(REPO) else path.name
        out[name] = row
        print(name, {k: (v.get("seconds") if isinstance(v, dict) else v) for k, v in row.items()},
              file=sys.stderr)  # fmt: skip
    results = HERE / "results" / "shacl-engines.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(out, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
