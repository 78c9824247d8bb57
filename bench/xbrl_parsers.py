"""Time and peak memory of reading the corpus XBRL instances: our parser
(services/analyze/reading/forms/financials.py) and, as a reference, Arelle when available.

Each (parser, file) runs in a fresh subprocess, so the peak RSS is that reading's own (the
interpreter and its imports included; the interpreter alone is printed too). Arelle is not a
dependency: it is used only when importable by this interpreter or by `--arelle-python` (a
separate virtualenv, e.g. /tmp/arelle-venv/bin/python). It runs offline: the instances'
schemaRef (the company schema, then the us-gaap taxonomy) is not available, so Arelle loads
the instance without concept definitions, and says how many facts it could make of it.

    python -m bench.xbrl_parsers [--runs 5] [--arelle-python /tmp/arelle-venv/bin/python]
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "samples" / "edgar-corpus" / "documents" / "xbrl"

_OWN = """
import gzip, json, resource, sys, time
from services.analyze.reading.forms.financials import parse_financials
path, runs = sys.argv[1], int(sys.argv[2])
data = gzip.open(path).read() if path.endswith(".gz") else open(path, "rb").read()
times = []
for _ in range(runs):
    start = time.perf_counter()
    result = parse_financials(data, inline=False)
    times.append(time.perf_counter() - start)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": sorted(times)[len(times) // 2], "rss_mb": rss,
                  "facts": len(result.facts)}))
"""

_ARELLE = """
import json, resource, sys, time
from arelle import Cntlr
path, runs = sys.argv[1], int(sys.argv[2])
times, facts = [], -1
for _ in range(runs):
    start = time.perf_counter()
    controller = Cntlr.Cntlr(logFileName="logToBuffer")
    controller.webCache.workOffline = True
    model = controller.modelManager.load(path)
    facts = len(model.facts) if model is not None else -1
    times.append(time.perf_counter() - start)
    controller.modelManager.close()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": sorted(times)[len(times) // 2], "rss_mb": rss, "facts": facts}))
"""

_BARE = "import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"


def _run(python: str, code: str, path: Path, runs: int) -> dict[str, float]:
    out = subprocess.run(
        [python, "-c", code, str(path), str(runs)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
        timeout=600,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _arelle_python(given: str | None) -> str | None:
    if given:
        return given
    probe = subprocess.run([sys.executable, "-c", "import arelle"], capture_output=True)
    return sys.executable if probe.returncode == 0 else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--arelle-python")
    args = parser.parse_args()
    arelle = _arelle_python(args.arelle_python)
    bare = subprocess.run([sys.executable, "-c", _BARE], capture_output=True, text=True)
    print(f"XBRL instance reading, median of {args.runs} runs (python -m bench.xbrl_parsers)")
    print(f"bare interpreter peak RSS: {float(bare.stdout):.0f} MB")
    print(f"{'file':<34} {'MB':>6} {'parser':<8} {'seconds':>8} {'peak RSS':>9} {'facts*':>6}")
    with tempfile.TemporaryDirectory() as scratch:
        for path in sorted(CORPUS.glob("*.xml*")):
            plain = path
            if path.suffix == ".gz":  # Arelle reads a plain file
                plain = Path(scratch) / path.stem
                with gzip.open(path) as stream:
                    plain.write_bytes(stream.read())
            size = plain.stat().st_size / 1e6
            rows = [("own", _run(sys.executable, _OWN, path, args.runs))]
            if arelle:
                rows.append(("arelle", _run(arelle, _ARELLE, plain, args.runs)))
            for name, row in rows:
                print(
                    f"{plain.name:<34} {size:6.2f} {name:<8} {row['seconds']:8.3f}"
                    f" {row['rss_mb']:7.0f}MB {int(row['facts']):6d}"
                )
    print("facts*: own = figures read into Financials; arelle = facts in its model")
    if not arelle:
        print("Arelle: not importable (pass --arelle-python); own parser only")


if __name__ == "__main__":
    main()
