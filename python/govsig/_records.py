"""Results that travel: pickling VerifyResult, SignerResult and BatchResult.

The live results hold the core's parsed objects, which do not leave the process. A result
pickles as its ``to_dict()`` form and unpickles as a record with the same read-only
attributes and the same ``to_dict()`` (a Dask worker hands the client a record it can read,
report and pickle again). What a record cannot carry is what needs the core: the DER of the
certificates and the evidence objects (``certificate``, ``chain``, ``needs``).
"""
from __future__ import annotations

import copyreg
import importlib
import datetime as _dt
from collections.abc import Iterator
from typing import Any, Optional, Union, overload

from govsig import _govsig
from govsig._govsig import BatchResult, SignerResult, VerifyResult

__all__ = ["VerifyRecord", "SignerRecord", "BatchRecords"]


def _time(text: Optional[str]) -> Optional[_dt.datetime]:
    return None if text is None else _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


class SignerRecord:
    """A SignerResult after a trip through pickle: the fields of its ``to_dict()``."""

    __slots__ = ("_d",)

    def __init__(self, d: dict[str, Any]) -> None:
        self._d = dict(d)

    def to_dict(self) -> dict[str, Any]:
        return dict(self._d)

    @property
    def ok(self) -> bool:
        return bool(self._d["code"] == "ok")

    @property
    def code(self) -> str:
        return str(self._d["code"])

    @property
    def reason(self) -> str:
        return str(self._d["reason"])

    @property
    def subject(self) -> Optional[str]:
        v: Optional[str] = self._d["subject"]
        return v

    @property
    def issuer(self) -> Optional[str]:
        v: Optional[str] = self._d["issuer"]
        return v

    @property
    def serial(self) -> Optional[int]:
        s = self._d["serial"]
        if s is None:
            return None
        raw = bytes.fromhex(s)
        return int.from_bytes(raw, "big", signed=True)

    @property
    def sid(self) -> str:
        return str(self._d["sid"])

    @property
    def signing_time(self) -> Optional[_dt.datetime]:
        return _time(self._d["signing_time"])

    @property
    def digest_algorithm(self) -> Optional[str]:
        v: Optional[str] = self._d["digest_algorithm"]
        return v

    @property
    def signature_algorithm(self) -> Optional[str]:
        v: Optional[str] = self._d["signature_algorithm"]
        return v

    def __reduce__(self) -> tuple[Any, ...]:
        return (SignerRecord, (self._d,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SignerRecord) and other._d == self._d

    def __hash__(self) -> int:
        return hash((self.code, self.subject, self._d.get("cert_sha256")))

    def __repr__(self) -> str:
        return f"SignerRecord(code={self.code!r}, subject={self.subject!r})"


class VerifyRecord:
    """A VerifyResult after a trip through pickle: the fields of its ``to_dict()``."""

    __slots__ = ("_d",)

    def __init__(self, d: dict[str, Any]) -> None:
        self._d = dict(d)

    def to_dict(self) -> dict[str, Any]:
        d = dict(self._d)
        d["signers"] = [dict(s) for s in d["signers"]]
        return d

    @property
    def ok(self) -> bool:
        return bool(self._d["ok"])

    @property
    def code(self) -> str:
        return str(self._d["code"])

    @property
    def code_number(self) -> int:
        return _govsig.codes().index(self.code)

    @property
    def reason(self) -> str:
        return str(self._d["reason"])

    @property
    def was_ber(self) -> bool:
        return bool(self._d["was_ber"])

    @property
    def detached(self) -> bool:
        return bool(self._d["detached"])

    @property
    def content_type(self) -> Optional[str]:
        v: Optional[str] = self._d["content_type"]
        return v

    @property
    def signers(self) -> list[SignerRecord]:
        return [SignerRecord(s) for s in self._d["signers"]]

    def __bool__(self) -> bool:
        return self.ok

    def __reduce__(self) -> tuple[Any, ...]:
        return (VerifyRecord, (self._d,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VerifyRecord) and other._d == self._d

    def __hash__(self) -> int:
        return hash((self.code, self.reason))

    def __repr__(self) -> str:
        return f"VerifyRecord(code={self.code!r}, signers={len(self._d['signers'])}, reason={self.reason!r})"


class BatchRecords:
    """A BatchResult after a trip through pickle: its records, with the same reading surface
    (len, indexing and slicing, ``codes``, ``ok``, ``counts()``, ``to_records()``,
    ``to_arrow()``, ``to_pandas()``)."""

    __slots__ = ("_records",)

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self._records = list(records)

    def __len__(self) -> int:
        return len(self._records)

    @overload
    def __getitem__(self, i: int) -> VerifyRecord: ...
    @overload
    def __getitem__(self, i: slice) -> "BatchRecords": ...
    def __getitem__(self, i: Union[int, slice]) -> Union[VerifyRecord, "BatchRecords"]:
        if isinstance(i, slice):
            return BatchRecords(self._records[i])
        return VerifyRecord(self._records[i])

    def __iter__(self) -> Iterator[VerifyRecord]:
        return (VerifyRecord(r) for r in self._records)

    @property
    def codes(self) -> Any:
        import numpy as np

        names = _govsig.codes()
        return np.array([names.index(r["code"]) for r in self._records], dtype=np.uint8)

    @property
    def ok(self) -> Any:
        import numpy as np

        return np.array([bool(r["ok"]) for r in self._records], dtype=bool)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self._records:
            out[r["code"]] = out.get(r["code"], 0) + 1
        return dict(sorted(out.items()))

    def to_records(self) -> list[dict[str, Any]]:
        return [VerifyRecord(r).to_dict() for r in self._records]

    def to_arrow(self) -> Any:
        try:
            pa = importlib.import_module("pyarrow")
        except ImportError as e:
            raise ImportError(f"to_arrow needs pyarrow, which is not installed ({e}); "
                              "install it with: pip install 'govsig[arrow]'") from e
        return pa.Table.from_pylist(self.to_records())

    def to_pandas(self) -> Any:
        try:
            importlib.import_module("pandas")
        except ImportError as e:
            raise ImportError(f"to_pandas needs pandas, which is not installed ({e}); "
                              "install it with: pip install 'govsig[pandas]'") from e
        return self.to_arrow().to_pandas()

    def __reduce__(self) -> tuple[Any, ...]:
        return (BatchRecords, (self._records,))

    def __repr__(self) -> str:
        return f"BatchRecords(n={len(self._records)}, counts={self.counts()})"


def _reduce_verify(r: VerifyResult) -> tuple[Any, ...]:
    return (VerifyRecord, (r.to_dict(),))


def _reduce_signer(s: SignerResult) -> tuple[Any, ...]:
    return (SignerRecord, (s.to_dict(),))


def _reduce_batch(b: BatchResult) -> tuple[Any, ...]:
    return (BatchRecords, (b.to_records(),))


copyreg.pickle(VerifyResult, _reduce_verify)
copyreg.pickle(SignerResult, _reduce_signer)
copyreg.pickle(BatchResult, _reduce_batch)
