"""Report lines built by the core (``BatchResult.report_lines``) are what Python's
``json.dumps(..., ensure_ascii=False, separators=(",", ":"))`` writes for the same values,
made inert (``inert_json``):
hostile names (quotes, backslashes, control characters, newlines, bytes that are not UTF-8,
Vietnamese), reasons and subjects; the path fields are Python's own decoding."""
from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import govsig
import pki as P
from archive_util import CONTENT
from govsig._cli_text import inert_json
from govsig.archive import ArchiveJob
from govsig.archive.report import SCHEMA, revocation_status

NAMES = [b'quote"and\\backslash.p7m', b"new\nline.p7m", b"ctl\x01\x1f\x7f.p7m", b"bad\xff\xe2\x82utf8.p7m",
         "Công văn số 15 — Hà Giang.p7m".encode(), b"tab\there.p7s"]


def _dumps(value: object) -> str:
    # Report lines are made inert: DEL, C1 controls, line separators and bidi overrides are
    # escaped too (what json.dumps leaves raw), so a line stays one inert line.
    return inert_json(value, separators=(",", ":"))


def test_core_lines_are_pythons_json_of_the_same_values(tmp_path: Path) -> None:
    root = P.make_root('Root "CA" \\ báo cáo', "p256", seed="report-lines-root")
    leaf = P.make_leaf("Người ký, \"trích dẫn\"\ttab", root, "p256", seed="report-lines-leaf")
    other = P.make_root("Root CA khác", "p256", seed="report-lines-other")
    stranger = P.make_leaf("Người lạ", other, "p256", seed="report-lines-stranger")
    folder = os.fsencode(tmp_path / "kho")
    os.mkdir(folder)
    for i, name in enumerate(NAMES):
        signer = stranger if i % 2 else leaf
        with open(os.path.join(folder, name), "wb") as f:
            f.write(P.sign_cms(CONTENT, signer, detached=name.endswith(b".p7s")))
    with open(os.path.join(folder, b"tab\there"), "wb") as f:
        f.write(CONTENT)
    (tmp_path / "root.pem").write_bytes(root.pem)
    policy = govsig.Policy(trust=govsig.TrustStore.from_files([tmp_path / "root.pem"]))
    ctx = {"validated_at": "2026-01-01T00:00:00Z", "policy": {"note": 'a "b" \\ c\n'}, "govsig_version": "x"}
    got: list[str] = []
    ArchiveJob(govsig.Verifier(policy), [folder], context=ctx, sink=got.append).run()
    assert len(got) == len(NAMES)
    by_path = {}
    for text in got:
        line = json.loads(text)
        assert _dumps(line) == text, text
        raw = base64.b64decode(line["path_bytes"]) if line["path_bytes"] else line["path"].encode()
        by_path[raw] = line
        assert line["schema"] == SCHEMA and line["validated_at"] == ctx["validated_at"]
        assert line["policy"] == ctx["policy"]
    assert set(by_path) == {os.path.join(folder, n) for n in NAMES}
    bad = by_path[os.path.join(folder, NAMES[3])]
    assert bad["path"] == os.path.join(folder, NAMES[3]).decode("utf-8", "backslashreplace")
    assert by_path[os.path.join(folder, NAMES[1])]["path_bytes"] is None
    codes = {n: by_path[os.path.join(folder, n)]["code"] for n in NAMES}
    assert codes[NAMES[0]] == "ok" and codes[NAMES[5]] != "ok"  # the stranger's chain is not trusted
    assert by_path[os.path.join(folder, NAMES[5])]["detached"] is True


def test_revocation_summary_is_one_rule_for_results_and_lines() -> None:
    root = P.make_root("Root CA tóm tắt", "p256", seed="report-summary-root")
    leaf = P.make_leaf("Người ký tóm tắt", root, "p256", seed="report-summary-leaf")
    der = P.sign_cms(CONTENT, leaf, detached=False)
    for mode, want in (("off", "not_checked"), ("soft-fail", "unknown"), ("hard-fail", "unknown")):
        policy = govsig.Policy(trust=govsig.TrustStore.from_der([root.der]), revocation=mode)
        result = govsig.Verifier(policy).verify(der)
        assert result.revocation_summary(mode) == want == revocation_status(result, mode)
