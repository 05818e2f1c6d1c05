"""govsig verify-archive as a job: survives SIGKILL and Ctrl-C, resumes with nothing lost or
counted twice, walks hostile trees without blocking or aborting, checks revocation from the
command line, reports JSONL (validated against the shipped schema) and Parquet, and answers
operator mistakes with a line and exit status 2."""
from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

import govsig
import pki as P
from archive_util import CONTENT, env, govsig_cmd, lines, make_archive, run, samples
from govsig.archive import FILE_CODES, load_schema
from govsig.archive.walk import ReadRefused, read_regular
from http_servers import LoopbackServer
from ocsp_responder import IndexEntry, OcspResponder

AT = "2030-06-01T00:00:00Z"
UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC)


def _validator() -> jsonschema.Draft202012Validator:
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _valid(report: list[dict]) -> None:
    v = _validator()
    for line in report:
        errors = sorted(v.iter_errors(line), key=str)
        assert not errors, (line["path"], [e.message for e in errors])


def test_file_codes_are_in_the_catalogue() -> None:
    assert set(FILE_CODES) <= set(govsig.codes())
    descriptions = govsig.code_descriptions()
    assert "not a regular file" in descriptions["file_skipped"]
    assert "size cap" in descriptions["file_too_large"]


def _recorded(journal: Path) -> int:
    """Lines committed in the journal (0 when the kill came before the tables were made)."""
    db = sqlite3.connect(journal)
    try:
        if not db.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'results'").fetchone()[0]:
            return 0
        return int(db.execute("SELECT COUNT(*) FROM results").fetchone()[0])
    finally:
        db.close()


# -- kill -9 at random moments, then resume -------------------------------------------------


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_equals_an_uninterrupted_run(pki, tmp_pki_dir, tmp_path) -> None:
    archive = tmp_path / "archive"
    make_archive(archive, 20_000, samples([pki.rsa_leaf, pki.p256_leaf, pki.expired_leaf]))
    (archive / "unit0003" / "hong.p7m").write_bytes(b"not a signature")
    trust = str(tmp_pki_dir / "roots.pem")
    common = ["verify-archive", str(archive), "--trust", trust, "--at", AT, "--workers", "2",
              "--chunk-size", "200", "--no-progress"]

    whole = run(*common, "--journal", str(tmp_path / "whole.sqlite"), "--report", str(tmp_path / "whole.jsonl"))
    assert whole.returncode == 1, whole.stderr  # expired signer and the bad file: not all ok
    expected = (tmp_path / "whole.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(expected) == 20_001

    journal = tmp_path / "job.sqlite"
    rng = random.Random(15)
    kills = 0
    recorded: list[int] = []
    for _attempt in range(300):
        args = [*common, "--journal", str(journal)] + (["--resume"] if journal.exists() else [])
        before = _recorded(journal) if journal.exists() else 0
        proc = subprocess.Popen(govsig_cmd(*args), env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # Kill at a random moment after this run committed its first chunk: mid-chunk,
        # mid-commit or between chunks, wherever it happens to be.
        while proc.poll() is None and (not journal.exists() or _recorded(journal) <= before):
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.15))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            proc.stderr.close()
            kills += 1
            recorded.append(_recorded(journal))
            continue
        err = proc.stderr.read().decode()
        proc.stderr.close()
        assert proc.returncode == 1, err
        if kills >= 10:
            break
        # This machine finished the job in fewer than ten kills: start a new journal.
        for p in journal.parent.glob(journal.name + "*"):
            p.unlink()
        kills, recorded = 0, []
    # At least ten kills on the journal that finished, landing while the job was under way,
    # and what was committed before a kill was never lost.
    assert kills >= 10, recorded
    assert recorded == sorted(recorded)
    assert sum(0 < n < 20_001 for n in recorded) >= 5, recorded

    final = run(*common, "--journal", str(journal), "--resume", "--report", str(tmp_path / "resumed.jsonl"))
    assert final.returncode == 1, final.stderr
    got = (tmp_path / "resumed.jsonl").read_text(encoding="utf-8").splitlines()
    paths = [json.loads(t)["path"] for t in got]
    assert len(paths) == len(set(paths)), "a document was counted twice"
    assert set(got) == set(expected)
    assert got == expected  # the same lines in the same order: the report an uninterrupted run writes
    assert "ok " in final.stdout and "cert_expired" in final.stdout


# Runs the CLI as `python -m govsig` does, and presses Ctrl-C (a real SIGINT to the process)
# once 300 entries are committed: at a known point of the job, however fast or loaded the
# machine.
_CTRL_C_AFTER_300 = """
import os, runpy, signal, sys
from govsig.archive import journal

record = journal.Journal.record
done = 0

def record_then_ctrl_c(self, rows):
    global done
    record(self, rows)
    done += len(rows)
    if done >= 300 and not os.environ.get("CTRL_C_SENT"):
        os.environ["CTRL_C_SENT"] = "1"
        os.kill(os.getpid(), signal.SIGINT)

journal.Journal.record = record_then_ctrl_c
# As from a terminal: a launcher without job control (a CI runner's background shell) starts
# its children with SIGINT ignored, and Python then leaves it ignored.
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.argv[0] = "govsig"
runpy.run_module("govsig", run_name="__main__", alter_sys=True)
"""


def test_ctrl_c_prints_the_partial_summary_and_how_to_resume(pki, tmp_pki_dir, tmp_path) -> None:
    archive = tmp_path / "archive"
    n = 6000
    make_archive(archive, n, samples([pki.rsa_leaf]))
    journal = tmp_path / "job.sqlite"
    args = ["verify-archive", str(archive), "--trust", str(tmp_pki_dir / "roots.pem"), "--at", AT,
            "--journal", str(journal), "--chunk-size", "100", "--workers", "1", "--log-interval", "0"]
    (tmp_path / "ctrl_c.py").write_text(_CTRL_C_AFTER_300, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(tmp_path / "ctrl_c.py"), *args], env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    assert "Traceback" not in err
    assert "verified" in out and "ok " in out
    assert "interrupted:" in err and "--resume" in err and str(journal) in err
    # Not a terminal: progress came as log lines.
    assert "govsig.archive:" in err and "entries done in this run" in err
    done = run(*args, "--resume", "--report", str(tmp_path / "r.jsonl"), "--no-progress")
    assert done.returncode == 0, done.stderr
    report = lines((tmp_path / "r.jsonl").read_text(encoding="utf-8"))
    assert len(report) == n and {r["code"] for r in report} == {"ok"}
    assert "in this run, the rest recorded earlier" in done.stdout


# -- hostile trees ----------------------------------------------------------------------------


def _hostile_tree(root: Path, pki) -> dict[bytes, str]:
    """The tree, and the code each entry must get without --follow-symlinks."""
    root.mkdir(mode=0o755)
    good = P.sign_cms(CONTENT, pki.rsa_leaf, detached=False)
    (root / "good.p7m").write_bytes(good)
    os.symlink("does-not-exist.p7s", root / "dangling.p7s")
    os.symlink(".", root / "loop")
    os.mkfifo(root / "pipe.p7s")
    os.symlink("/dev/zero", root / "zero.p7s")
    bad_names = [b"line\nbreak.p7m", b"not-utf8-\xff\xfe.p7m"]
    for n in bad_names:
        with open(os.path.join(os.fsencode(root), n), "wb") as f:
            f.write(good)
    with open(root / "huge.p7m", "wb") as f:  # 2 GiB, sparse: costs no disk
        f.truncate(2 * 1024**3)
    locked = root / "locked.p7m"
    locked.write_bytes(good)
    locked.chmod(0)
    sub = root / "closed"
    sub.mkdir()
    (sub / "inside.p7m").write_bytes(good)
    sub.chmod(0)
    r = os.fsencode(root) + b"/"
    return {r + b"good.p7m": "ok", r + b"dangling.p7s": "file_skipped", r + b"loop": "file_skipped",
            r + b"pipe.p7s": "file_skipped", r + b"zero.p7s": "file_skipped",
            r + bad_names[0]: "ok", r + bad_names[1]: "ok", r + b"huge.p7m": "file_too_large",
            r + b"locked.p7m": "file_unreadable", r + b"closed": "file_unreadable"}


# Root opens any file. To see a mode-000 file refused as a user would, the job runs in a child
# that imports everything it will need (the interpreter lives under /root, which nobody cannot
# enter), then drops to nobody with os.setuid before walking.
_AS_NOBODY = """
import os, sys, pwd
import govsig, govsig.cli, govsig.archive, govsig.archive.report
import pyarrow, pyarrow.parquet, logging, shlex, signal, sqlite3, hashlib, json, base64, unicodedata, queue
govsig.archive.report.arrow_schema()
govsig.cli.build_parser()
if os.geteuid() == 0:
    n = pwd.getpwnam("nobody")
    os.setgroups([])
    os.setgid(n.pw_gid)
    os.setuid(n.pw_uid)
sys.exit(govsig.cli.main(sys.argv[1:]))
"""


def _run_unprivileged(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _AS_NOBODY, *args], capture_output=True, text=True, env=env(),
                          timeout=60)


def _raw_path(line: dict) -> bytes:
    import base64

    return base64.b64decode(line["path_bytes"]) if line["path_bytes"] else line["path"].encode()


@pytest.mark.parametrize("follow", [False, True], ids=["no-follow", "follow-symlinks"])
def test_hostile_tree_every_entry_gets_its_own_line_and_nothing_blocks(pki, tmp_path, follow) -> None:
    base = Path(tempfile_dir())
    root = base / "archive"
    expected = _hostile_tree(root, pki)
    trust = base / "roots.pem"
    trust.write_bytes(P.pem_bundle(pki.roots))
    out = base / "out"
    out.mkdir(mode=0o777)
    out.chmod(0o777)
    args = ["verify-archive", str(root), "--trust", str(trust), "--max-size", "1M", "--no-progress",
            "--report", str(out / "r.jsonl"), "--parquet", str(out / "r.parquet")]
    if follow:
        args.append("--follow-symlinks")
        r = os.fsencode(root) + b"/"
        expected[r + b"dangling.p7s"] = "file_unreadable"
        expected[r + b"loop"] = "file_symlink_loop"
        expected[r + b"zero.p7s"] = "file_skipped"
    try:
        proc = _run_unprivileged(*args)
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr
        report = lines((out / "r.jsonl").read_text(encoding="utf-8"))
    finally:
        (root / "closed").chmod(0o755)
        import shutil

        shutil.rmtree(base)
    got = {_raw_path(line): line["code"] for line in report}
    assert got == expected
    by = {_raw_path(line): line for line in report}
    huge = by[os.fsencode(root) + b"/huge.p7m"]
    assert huge["size"] == 2 * 1024**3 and huge["sha256"] is None and "--max-size" in huge["reason"]
    assert "FIFO" in by[os.fsencode(root) + b"/pipe.p7s"]["reason"]
    if follow:
        assert "character device" in by[os.fsencode(root) + b"/zero.p7s"]["reason"]
        assert "dangling" in by[os.fsencode(root) + b"/dangling.p7s"]["reason"]
    assert by[os.fsencode(root) + b"/not-utf8-\xff\xfe.p7m"]["path"].endswith("not-utf8-\\xff\\xfe.p7m")
    assert all(line["revocation_status"] == "not_checked" for line in report if line["code"] in FILE_CODES)
    _valid(report)


def tempfile_dir() -> str:
    """A folder others can enter (the job may run as nobody), removed by the test."""
    import tempfile

    d = tempfile.mkdtemp(prefix="govsig-hostile-")
    os.chmod(d, 0o755)
    return d


def test_read_refuses_what_changed_since_the_listing(tmp_path) -> None:
    fifo = tmp_path / "was-a-file.p7s"
    os.mkfifo(fifo)
    with pytest.raises(ReadRefused) as info:  # O_NONBLOCK: returns at once, no writer needed
        read_regular(os.fsencode(fifo), None, False)
    assert info.value.code == "file_skipped"
    with pytest.raises(ReadRefused) as info:
        read_regular(os.fsencode(tmp_path / "gone.p7s"), None, False)
    assert info.value.code == "file_vanished"
    target = tmp_path / "t.p7s"
    target.write_bytes(b"x")
    link = tmp_path / "now-a-link.p7s"
    os.symlink(target, link)
    with pytest.raises(ReadRefused) as info:  # O_NOFOLLOW
        read_regular(os.fsencode(link), None, False)
    assert info.value.code == "file_vanished" and "symbolic link" in info.value.reason
    assert read_regular(os.fsencode(link), None, True) == b"x"


# -- revocation from the command line -------------------------------------------------------


def _crl(issuer: P.Issued, revoked: tuple[int, ...] = (), number: int = 7) -> bytes:
    b = (x509.CertificateRevocationListBuilder().issuer_name(issuer.cert.subject)
         .last_update(NOW - dt.timedelta(hours=1)).next_update(NOW + dt.timedelta(days=7))
         .add_extension(x509.CRLNumber(number), critical=False))
    for serial in revoked:
        b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(serial)
                                      .revocation_date(NOW - dt.timedelta(days=1)).build())
    return b.sign(issuer.key, hashes.SHA256()).public_bytes(Encoding.DER)


def test_revocation_from_crl_files(tmp_path) -> None:
    root = P.make_root("Root CA lưu trữ", "p256", seed="archive-crl-root")
    good = P.make_leaf("Người ký còn hiệu lực", root, "p256", seed="archive-crl-good")
    bad = P.make_leaf("Người ký đã bị thu hồi", root, "p256", seed="archive-crl-bad")
    archive = tmp_path / "a"
    archive.mkdir()
    (archive / "good.p7m").write_bytes(P.sign_cms(CONTENT, good, detached=False))
    (archive / "revoked.p7m").write_bytes(P.sign_cms(CONTENT, bad, detached=False))
    (tmp_path / "root.pem").write_bytes(root.pem)
    crl = _crl(root, (bad.cert.serial_number,))
    (tmp_path / "root.crl").write_bytes(crl)
    pem = b"-----BEGIN X509 CRL-----\n" + __import__("base64").encodebytes(crl) + b"-----END X509 CRL-----\n"
    (tmp_path / "root.crl.pem").write_bytes(pem)
    base = ["verify-archive", str(archive), "--trust", str(tmp_path / "root.pem"), "--report", "-", "--no-progress"]

    for crl_file in ("root.crl", "root.crl.pem"):
        p = run(*base, "--revocation", "hard-fail", "--crl", str(tmp_path / crl_file))
        assert p.returncode == 1, p.stderr
        report = {Path(r["path"]).name: r for r in lines(p.stdout)}
        assert report["good.p7m"]["code"] == "ok" and report["good.p7m"]["revocation_status"] == "proven"
        assert report["revoked.p7m"]["code"] == "cert_revoked"
        assert report["revoked.p7m"]["revocation_status"] == "proven"
        ev = report["good.p7m"]["signers"][0]["revocation"]
        assert [(e["kind"], e["status"], e["crl_number"]) for e in ev] == [("crl", "good", "7")]
        assert ev[0]["this_update"].endswith("Z") and ev[0]["produced_at"] is None
        # The summary goes to stderr when the report takes stdout; it says what was proven.
        assert "revocation status: proven 2, unknown 0, not checked 0" in p.stderr
        _valid(list(report.values()))

    # Soft-fail without evidence: "ok", but the summary does not hide that nothing was proven.
    p = run(*base)
    assert p.returncode == 0
    report = {Path(r["path"]).name: r for r in lines(p.stdout)}
    assert report["good.p7m"]["code"] == "ok" and report["good.p7m"]["revocation_status"] == "unknown"
    assert "revocation status: proven 0, unknown 2, not checked 0" in p.stderr
    p = run(*base, "--revocation", "hard-fail")
    assert {r["code"] for r in lines(p.stdout)} == {"revocation_unknown"}
    assert "revocation status: proven 0, unknown 2, not checked 0" in p.stderr
    p = run(*base, "--revocation", "off")
    assert p.returncode == 0
    assert {r["revocation_status"] for r in lines(p.stdout)} == {"not_checked"}
    assert "not checked 2" in p.stderr


def _aia(url: str) -> tuple[x509.ExtensionType, bool]:
    from cryptography.x509.oid import AuthorityInformationAccessOID

    return x509.AuthorityInformationAccess(
        [x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(url))]), False


def _cdp(url: str) -> tuple[x509.ExtensionType, bool]:
    return x509.CRLDistributionPoints(
        [x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)]), False


def test_fetch_crls_and_ocsp_from_loopback_servers(tmp_path, openssl) -> None:
    with LoopbackServer() as crl_server:
        root = P.make_root("Root CA lưu trữ trực tuyến", "p256", seed="archive-online-root")
        with OcspResponder(tmp_path / "ocsp", openssl, ca=root, signer=root, entries=[]) as responder:
            by_crl = P.make_leaf("Người ký (CRL)", root, "p256", seed="archive-online-crl",
                                 extra_extensions=[_cdp(crl_server.url("/root.crl"))])
            by_ocsp = P.make_leaf("Người ký (OCSP)", root, "p256", seed="archive-online-ocsp",
                                  extra_extensions=[_aia(responder.url)])
            revoked = P.make_leaf("Người ký bị thu hồi (OCSP)", root, "p256", seed="archive-online-revoked",
                                  extra_extensions=[_aia(responder.url)])
            responder.set_entries([IndexEntry(by_ocsp),
                                   IndexEntry(revoked, NOW - dt.timedelta(days=2), x509.ReasonFlags.key_compromise)])
            crl_server.serve("/root.crl", _crl(root, number=42))
            archive = tmp_path / "a"
            archive.mkdir()
            for name, leaf in (("crl.p7m", by_crl), ("ocsp.p7m", by_ocsp), ("revoked.p7m", revoked)):
                (archive / name).write_bytes(P.sign_cms(CONTENT, leaf, detached=False))
            (tmp_path / "root.pem").write_bytes(root.pem)
            cache = tmp_path / "cache"
            args = ["verify-archive", str(archive), "--trust", str(tmp_path / "root.pem"), "--revocation",
                    "hard-fail", "--fetch", "--cache-dir", str(cache), "--report", str(tmp_path / "r.jsonl"),
                    "--no-progress"]
            p = run(*args)
            assert p.returncode == 1, p.stderr
            report = {Path(r["path"]).name: r for r in lines((tmp_path / "r.jsonl").read_text(encoding="utf-8"))}
            assert report["crl.p7m"]["code"] == "ok" and report["crl.p7m"]["revocation_status"] == "proven"
            (crl_ev,) = report["crl.p7m"]["signers"][0]["revocation"]
            assert crl_ev["kind"] == "crl" and crl_ev["crl_number"] == "42"
            assert report["ocsp.p7m"]["code"] == "ok" and report["ocsp.p7m"]["revocation_status"] == "proven"
            (ocsp_ev,) = report["ocsp.p7m"]["signers"][0]["revocation"]
            assert ocsp_ev["kind"] == "ocsp" and ocsp_ev["produced_at"] is not None
            assert report["revoked.p7m"]["code"] == "cert_revoked"
            assert crl_server.requests("/root.crl") == 1
            assert "proven 3" in p.stdout
            _valid(list(report.values()))

            # An OCSP response given as a file decides offline.
            req = govsig.ocsp.build_request(by_ocsp.der, root.der)
            (tmp_path / "resp.der").write_bytes(responder.answer(req))
            p = run("verify-archive", str(archive / "ocsp.p7m"), "--trust", str(tmp_path / "root.pem"),
                    "--revocation", "hard-fail", "--ocsp-response", str(tmp_path / "resp.der"), "--report", "-",
                    "--no-progress")
            assert p.returncode == 0, p.stderr
            (line,) = lines(p.stdout)
            assert line["revocation_status"] == "proven"
            assert line["signers"][0]["revocation"][0]["kind"] == "ocsp"


# -- reports ----------------------------------------------------------------------------------


def test_jsonl_and_parquet_hold_the_same_lines(pki, tmp_pki_dir, tmp_path) -> None:
    import pyarrow.parquet as pq

    archive = tmp_path / "a"
    make_archive(archive, 40, samples([pki.rsa_leaf, pki.p256_leaf, pki.expired_leaf]), per_dir=16)
    (archive / "unit0000" / "broken.p7s").write_bytes(b"\x30\x03\x02\x01")
    for journal in (None, tmp_path / "j.sqlite"):
        args = ["verify-archive", str(archive), "--trust", str(tmp_pki_dir / "roots.pem"),
                "--intermediates", str(tmp_pki_dir / "intermediates.pem"), "--at", AT, "--no-progress",
                "--report", str(tmp_path / "r.jsonl"), "--parquet", str(tmp_path / "r.parquet")]
        if journal is not None:
            args += ["--journal", str(journal)]
        p = run(*args)
        assert p.returncode == 1, p.stderr
        report = lines((tmp_path / "r.jsonl").read_text(encoding="utf-8"))
        assert len(report) == 41
        _valid(report)
        table = pq.read_table(tmp_path / "r.parquet")
        assert table.column_names == list(report[0].keys())
        assert table.to_pylist() == report
        first = report[0]
        assert first["schema"] == "govsig.report/1" and first["validated_at"] == "2030-06-01T00:00:00Z"
        assert first["govsig_version"] == govsig.__version__ and first["policy"]["at"] == "2030-06-01T00:00:00Z"
        s = first["signers"][0]
        assert len(s["cert_sha256"]) == 64 and s["chain_sha256"][0] == s["cert_sha256"]
        assert len(s["chain_sha256"]) == 3 and s["serial"] == format(pki.rsa_leaf.cert.serial_number, "x").rjust(
            len(s["serial"]), "0")
        import hashlib

        raw = Path(first["path"]).read_bytes()
        assert first["sha256"] == hashlib.sha256(raw).hexdigest() and first["size"] == len(raw)
        codes = {r["code"] for r in report}
        assert codes == {"ok", "cert_expired", "malformed"}


# -- operator mistakes ------------------------------------------------------------------------


def _mistake(*args: str) -> str:
    p = run(*args)
    assert p.returncode == 2, (args, p.stdout, p.stderr)
    assert "Traceback" not in p.stderr and p.stdout == ""
    assert 1 <= len(p.stderr.strip().splitlines()) <= 3, p.stderr
    return p.stderr


def test_operator_mistakes_are_one_line_and_exit_2(tmp_pki_dir, tmp_path) -> None:
    trust = str(tmp_pki_dir / "roots.pem")
    d = str(tmp_path)
    assert "no such file" in _mistake("verify-archive", d, "--trust", str(tmp_path / "missing.pem"))
    err = _mistake("verify-archive", d, "--trust", trust, "--report", str(tmp_path / "no" / "r.jsonl"))
    assert "does not exist" in err and "create it" in err
    assert "--workers/--threads" in _mistake("verify-archive", d, "--trust", trust, "--threads", "0")
    assert "--workers/--threads" in _mistake("verify-archive", d, "--trust", trust, "--workers", "100000")
    assert "unrecognized arguments: --frobnicate" in _mistake("verify-archive", d, "--trust", trust, "--frobnicate")
    assert "no such folder" in _mistake("verify-archive", str(tmp_path / "nowhere"), "--trust", trust)
    assert "needs --journal" in _mistake("verify-archive", d, "--trust", trust, "--resume")
    assert "add --fetch" in _mistake("verify-archive", d, "--trust", trust, "--cache-dir", d)
    assert "--crl" in _mistake("verify-archive", d, "--trust", trust, "--crl", str(tmp_path / "none.crl"))
    assert "not a size" in _mistake("verify-archive", d, "--trust", trust, "--max-size", "lots")
    j = str(tmp_path / "j.sqlite")
    assert run("verify-archive", d, "--trust", trust, "--journal", j, "--no-progress").returncode == 1  # empty
    assert "pass --resume" in _mistake("verify-archive", d, "--trust", trust, "--journal", j)
    assert "other folders or options" in _mistake("verify-archive", d, "--trust", trust, "--journal", j, "--resume",
                                                  "--revocation", "off")
    assert "no such journal" in _mistake("verify-archive", d, "--trust", trust, "--journal",
                                         str(tmp_path / "other.sqlite"), "--resume")


# -- the README's resumable job ---------------------------------------------------------------


def test_readme_resumable_job_runs_as_written(pki, tmp_path) -> None:
    import re
    import shlex

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    (block,) = [b for b in re.findall(r"```sh\n(.*?)```", readme, re.S) if "--journal" in b]
    commands = [shlex.split(line) for line in block.splitlines() if line.startswith("govsig ")]
    assert len(commands) == 2 and "--resume" in commands[1]
    make_archive(tmp_path / "ARCHIVE", 300, samples([pki.rsa_leaf]), per_dir=100)
    (tmp_path / "root.pem").write_bytes(pki.rsa_root.pem + pki.rsa_intermediate.pem)
    (tmp_path / "ca.crl").write_bytes(_crl(pki.rsa_intermediate))
    # rsa_root's own status: a CRL from the root too, given as a second --crl.
    (tmp_path / "root.crl").write_bytes(_crl(pki.rsa_root))
    first, again = ([*c[1:], "--crl", "root.crl", "--no-progress"] for c in commands)
    p = run(*first, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    report = (tmp_path / "report.jsonl").read_text(encoding="utf-8")
    assert {r["revocation_status"] for r in lines(report)} == {"proven"}
    p = run(*again, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "report.jsonl").read_text(encoding="utf-8") == report
    assert "300 documents" in p.stdout and "0 in this run" in p.stdout


@pytest.mark.parametrize("journal", [False, True], ids=["streamed", "journal"])
def test_html_report_of_a_job_in_chromium(tmp_path, journal: bool) -> None:
    """``--html`` writes the report page at the end of the job, from the journal or from the
    lines as they streamed (even with no --report); what a person sees is checked in the DOM."""
    import chromium

    root = P.make_root("Root CA báo cáo HTML", "p256", seed="archive-html-root")
    good = P.make_leaf("Người ký hợp lệ", root, "p256", seed="archive-html-good")
    other = P.make_root("Root CA lạ", "p256", seed="archive-html-other")
    stranger = P.make_leaf("Người ký lạ", other, "p256", seed="archive-html-stranger")
    archive = tmp_path / "a"
    archive.mkdir()
    for i in range(3):
        (archive / f"ok{i}.p7m").write_bytes(P.sign_cms(CONTENT + bytes([i]), good, detached=False))
    (archive / "untrusted.p7m").write_bytes(P.sign_cms(CONTENT, stranger, detached=False))
    (tmp_path / "root.pem").write_bytes(root.pem)
    page = tmp_path / "report.html"
    args = ["verify-archive", str(archive), "--trust", str(tmp_path / "root.pem"), "--no-progress",
            "--revocation", "off", "--html", str(page), "--lang", "vi"]
    if journal:
        args += ["--journal", str(tmp_path / "job.sqlite")]
    p = run(*args)
    assert p.returncode == 1, p.stderr
    dom = chromium.dump_dom(page)
    assert "untrusted.p7m" in dom and "chain_untrusted" in dom
    assert "<svg" in dom
    assert "Tổng" in dom or "tài liệu" in dom  # Vietnamese labels
    assert not (tmp_path / "report.jsonl").exists()
