"""Results people can take elsewhere: JSON-safe dicts, batch slicing, records, Arrow, pandas,
and pickling (a Dask worker hands its results to the client)."""
from __future__ import annotations

import datetime as dt
import json
import pickle
import sys

import pytest

import govsig
import pki as P

CONTENT = "Tờ trình số 3".encode()


@pytest.fixture(scope="module")
def batch(pki) -> govsig.BatchResult:
    v = govsig.Verifier(govsig.Policy(trust=[c.cert for c in pki.roots]))
    items = [(P.sign_cms(CONTENT, pki.rsa_leaf), CONTENT), (P.sign_cms(CONTENT, pki.expired_leaf), CONTENT),
             (b"\x30\x00", None), (P.sign_cms(CONTENT, pki.p256_leaf, extra_signers=[pki.ed25519_leaf]), CONTENT)]
    return v.verify_many(items)


def test_to_dict_is_json_safe_and_says_what_the_result_says(batch, pki) -> None:
    r = batch[0]
    d = r.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert (d["ok"], d["code"], d["reason"], d["detached"]) == (True, "ok", "", True)
    (s,) = d["signers"]
    assert s == r.signers[0].to_dict()
    assert s["subject"] == r.signers[0].subject and s["issuer"] == r.signers[0].issuer
    assert int(s["serial"], 16) == pki.rsa_leaf.cert.serial_number
    import hashlib

    assert s["cert_sha256"] == hashlib.sha256(pki.rsa_leaf.der).hexdigest()
    assert s["chain_sha256"] == [hashlib.sha256(c).hexdigest() for c in r.signers[0].chain]
    assert dt.datetime.fromisoformat(s["signing_time"]) == r.signers[0].signing_time
    # Judged at the policy's time (signature_time="at"), and said so.
    assert s["signature_time_source"] == "at" == r.signers[0].signature_time_source
    assert dt.datetime.fromisoformat(s["signature_time"].replace("Z", "+00:00")) == r.signers[0].signature_time
    assert batch[1].to_dict()["code"] == "cert_expired" and "Đỗ Văn Hùng" in batch[1].to_dict()["reason"]
    assert batch[2].to_dict()["signers"] == []
    assert len(batch[3].to_dict()["signers"]) == 2


def test_batch_slicing_and_records(batch) -> None:
    part = batch[1:3]
    assert isinstance(part, govsig.BatchResult) and len(part) == 2
    assert [r.code for r in (part[0], part[1])] == [batch[1].code, batch[2].code]
    assert list(batch[::-1].codes) == list(batch.codes[::-1])
    assert len(batch[10:]) == 0
    assert batch[-1].code == batch[3].code
    with pytest.raises(IndexError):
        batch[4]
    assert batch.to_records() == [batch[i].to_dict() for i in range(len(batch))]


def test_to_arrow_and_to_pandas(batch) -> None:
    t = batch.to_arrow()
    assert t.num_rows == 4 and t.column("code").to_pylist() == [batch[i].code for i in range(4)]
    assert t.to_pylist()[0]["signers"][0]["code"] == "ok"
    df = batch.to_pandas()
    assert list(df["code"]) == [batch[i].code for i in range(4)]


@pytest.mark.parametrize("module, extra", [("pyarrow", "arrow"), ("pandas", "pandas")])
def test_a_missing_optional_dependency_says_what_to_install(batch, monkeypatch, module, extra) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import now raises ImportError
    method = batch.to_arrow if module == "pyarrow" else batch.to_pandas
    with pytest.raises(ImportError, match=rf"pip install 'govsig\[{extra}\]'"):
        method()


def test_results_pickle_as_records_with_the_same_reading_surface(batch) -> None:
    r = pickle.loads(pickle.dumps(batch[0]))
    assert isinstance(r, govsig.VerifyRecord)
    assert (r.ok, r.code, r.reason, r.detached, bool(r)) == (True, "ok", "", True, True)
    assert r.to_dict() == batch[0].to_dict()
    s = r.signers[0]
    live = batch[0].signers[0]
    assert (s.subject, s.issuer, s.serial, s.signing_time, s.code) == (
        live.subject, live.issuer, live.serial, live.signing_time, live.code)
    assert pickle.loads(pickle.dumps(live)).to_dict() == live.to_dict()
    b = pickle.loads(pickle.dumps(batch))
    assert isinstance(b, govsig.BatchRecords)
    assert len(b) == 4 and b.counts() == batch.counts()
    assert list(b.codes) == list(batch.codes) and list(b.ok) == list(batch.ok)
    assert b.to_records() == batch.to_records()
    assert b[1:3].to_records() == batch[1:3].to_records()
    assert pickle.loads(pickle.dumps(b)).to_records() == batch.to_records()
    assert b[2].code_number == govsig.codes().index("malformed")
