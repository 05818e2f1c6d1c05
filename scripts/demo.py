#!/usr/bin/env python3
"""`make demo`: generate a signed archive (once), verify it in bulk with govsig's CLI, and check
every document's outcome code against the generator's expectation; then render the report
and the certificate inventory as HTML, and a screenshot of the report (report.png).

    python3 scripts/demo.py [--out demo-out] [-n 3000] [--regenerate]

Exit status: 0 when every document got the expected code, 1 when any differs or is missing
from the report, 2 when the verifier produced no report at all.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

from make_archive import make_archive  # noqa: E402

# Field names a report line may use for the document and its outcome; the first present wins.
PATH_KEYS = ("signature", "path", "file", "document")
CODE_KEYS = ("code",)


def _report_key(record: dict, archive: Path, expected: dict[str, str]) -> str | None:
    """The expected.json key (signature path relative to the archive) a report line is about."""
    for k in PATH_KEYS:
        v = record.get(k)
        if not isinstance(v, str):
            continue
        p = Path(v)
        candidates = [p] if p.is_absolute() else [Path.cwd() / p, archive / p, REPO / p]
        for c in candidates:
            try:
                rel = c.resolve().relative_to(archive.resolve()).as_posix()
            except ValueError:
                continue
            if rel in expected:
                return rel
            # A report may name the content file of a detached pair rather than the .p7s.
            if f"{rel}.p7s" in expected:
                return f"{rel}.p7s"
        if v in expected:
            return v
    return None


def compare(report: Path, archive: Path, expected: dict[str, str]) -> tuple[int, list[str]]:
    got: dict[str, str] = {}
    problems: list[str] = []
    with report.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                problems.append(f"report line {lineno}: not JSON ({e})")
                continue
            if not isinstance(rec, dict):
                problems.append(f"report line {lineno}: not a JSON object")
                continue
            key = _report_key(rec, archive, expected)
            code = next((rec[k] for k in CODE_KEYS if isinstance(rec.get(k), str)), None)
            if key is None or code is None:
                problems.append(f"report line {lineno}: no known document path/code: {line[:120]}")
                continue
            got[key] = code

    exp_counts = Counter(expected.values())
    got_counts: Counter[str] = Counter()
    matched: Counter[str] = Counter()
    for path, want in sorted(expected.items()):
        have = got.get(path)
        if have is None:
            problems.append(f"{path}: expected {want}, missing from report")
            continue
        got_counts[have] += 1
        if have == want:
            matched[want] += 1
        else:
            problems.append(f"{path}: expected {want}, got {have}")

    codes = sorted(set(exp_counts) | set(got_counts))
    print(f"\n{'outcome':<24}{'expected':>10}{'got':>10}{'matching':>10}")
    for c in codes:
        print(f"{c:<24}{exp_counts.get(c, 0):>10}{got_counts.get(c, 0):>10}{matched.get(c, 0):>10}")
    print(f"{'total':<24}{len(expected):>10}{sum(got_counts.values()):>10}"
          f"{sum(matched.values()):>10}")
    return sum(matched.values()), problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "demo-out")
    ap.add_argument("-n", type=int, default=3000, help="documents to generate (default 3000)")
    ap.add_argument("--regenerate", action="store_true", help="rebuild the archive first")
    args = ap.parse_args(argv)
    out: Path = args.out.resolve()

    if args.regenerate:
        shutil.rmtree(out, ignore_errors=True)
    if not (out / "expected.json").is_file():
        shutil.rmtree(out / "archive", ignore_errors=True)
        t = time.perf_counter()
        res = make_archive(out, args.n)
        print(f"generated {res['n']} signed documents in {out / 'archive'} "
              f"in {time.perf_counter() - t:.1f} s")
    meta = json.loads((out / "expected.json").read_text(encoding="utf-8"))
    expected: dict[str, str] = meta["documents"]
    archive = out / meta["archive"]
    report = out / "report.jsonl"
    report.unlink(missing_ok=True)

    cmd = [sys.executable, "-m", "govsig", "verify-archive", str(archive),
           "--trust", str(out / meta["trust"]["root"]),
           "--intermediates", str(out / meta["trust"]["intermediates"]),
           "--report", str(report)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO / "python"), env.get("PYTHONPATH", "")) if p)
    print("$ " + " ".join(cmd), flush=True)
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env)
    took = time.perf_counter() - t
    # verify-archive exits non-zero whenever a document is not ok, and this archive has
    # deliberately bad documents, so its status alone says nothing here; the report does.
    print(f"verify-archive exited {proc.returncode} after {took:.1f} s "
          f"({len(expected) / took:.0f} documents/s including start-up)")
    if not report.is_file():
        print(f"demo: the verifier wrote no report at {report}", file=sys.stderr)
        return 2

    n_ok, problems = compare(report, archive, expected)
    if problems:
        print(f"\n{len(problems)} problem(s); first ones:")
        for p in problems[:15]:
            print("  " + p)
        return 1
    print(f"\nall {n_ok} documents got their expected code")
    return render_pages(out, archive, meta, env)


def render_pages(out: Path, archive: Path, meta: dict, env: dict[str, str]) -> int:
    """The pages a clerk reads: the report as HTML, the certificate inventory, and a
    screenshot of the report (headless Chromium) beside the archive."""
    steps = [
        ["report", str(out / "report.jsonl"), "--html", str(out / "report.html")],
        ["inventory", str(archive), "--trust", str(out / meta["trust"]["root"]),
         "--intermediates", str(out / meta["trust"]["intermediates"]),
         "--html", str(out / "inventory.html"), "--csv", str(out / "inventory.csv")],
    ]
    for step in steps:
        cmd = [sys.executable, "-m", "govsig", *step]
        print("$ " + " ".join(cmd), flush=True)
        if subprocess.run(cmd, cwd=REPO, env=env).returncode != 0:
            return 1
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("demo: no chromium for the screenshot (scripts/setup-system.sh installs it)", file=sys.stderr)
        return 1
    shot = out / "report.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
                        f"--screenshot={shot}", "--window-size=1280,1600", (out / "report.html").as_uri()],
                       capture_output=True, timeout=120)
    if not shot.is_file():
        print(f"demo: chromium wrote no screenshot at {shot}", file=sys.stderr)
        return 1
    print(f"pages: {out / 'report.html'}, {out / 'inventory.html'}; screenshot: {shot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
