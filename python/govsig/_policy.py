"""The trust surface: the outcome-code and knob catalogues, TrustStore and Policy.

Everything here is defined once in the Rust core (codes, knobs, defaults, refusals); this
module normalises anchors and evidence from the forms users hold them in.
"""
from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Iterable, Iterator
from typing import Any

from govsig import _govsig
from govsig._certs import many_to_ders, read_cert_file, to_ders
from govsig._pem import is_pem

__all__ = ["TrustStore", "Policy", "codes", "code_descriptions", "KEY_USAGE_NAMES",
           "REVOCATION_MODES", "TIME_SOURCES", "ANY_POLICY", "policy_knobs", "policy_defaults"]


KEY_USAGE_NAMES: tuple[str, ...] = tuple(_govsig.KEY_USAGE_NAMES)

_CERT_SUFFIXES = (".pem", ".crt", ".cer", ".der", ".p7b", ".p7c")


def codes() -> list[str]:
    """Every outcome code; ``codes()[0] == "ok"`` and a code's index is its number."""
    return list(_govsig.codes())


def code_descriptions() -> dict[str, str]:
    """``{code: what it means}`` for every outcome code."""
    return dict(_govsig.code_descriptions())


def policy_knobs() -> dict[str, str]:
    """``{knob: what it does}`` for every :class:`Policy` knob, in the core's order."""
    return dict(_govsig.policy_knobs())


def policy_defaults() -> dict[str, Any]:
    """``{knob: default value}`` for every :class:`Policy` knob, in the core's order."""
    return dict(_govsig.policy_defaults())


class _Frozen:
    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; use .replace(...) to derive a new one")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")


class TrustStore(_Frozen):
    """Trust anchors. An anchor is a name and a key (RFC 5280 §6.1.1(d)): it need not be
    self-signed, and its own validity is not checked. Immutable and picklable."""

    __slots__ = ("_ders",)
    _ders: tuple[bytes, ...]

    def __init__(self, certificates: Iterable[Any] = ()) -> None:
        ders = many_to_ders(certificates)
        for d in ders:
            _govsig.parse_certificate(d)  # raises ValueError naming the problem
        object.__setattr__(self, "_ders", tuple(dict.fromkeys(ders)))

    @classmethod
    def from_pem(cls, data: bytes | str) -> "TrustStore":
        """Anchors from a PEM bundle."""
        return cls(to_ders(data))

    @classmethod
    def from_der(cls, ders: Iterable[bytes]) -> "TrustStore":
        """Anchors from DER certificates."""
        return cls(list(ders))

    @classmethod
    def from_files(cls, paths: Iterable[str | os.PathLike[str]]) -> "TrustStore":
        """Anchors from PEM or DER files (a PEM file may hold several), or PKCS#7 certs-only
        bundles (.p7b/.p7c, DER or PEM) as CAs publish them."""
        ders: list[bytes] = []
        for p in paths:
            ders.extend(read_cert_file(p))
        return cls(ders)

    @classmethod
    def from_dir(cls, path: str | os.PathLike[str]) -> "TrustStore":
        """Anchors from every .pem/.crt/.cer/.der/.p7b/.p7c file in a directory (not recursive)."""
        names = sorted(n for n in os.listdir(path) if n.lower().endswith(_CERT_SUFFIXES))
        if not names:
            raise ValueError(f"{os.fspath(path)}: no certificate files (*.pem, *.crt, *.cer, *.der, *.p7b, *.p7c)")
        return cls.from_files(os.path.join(path, n) for n in names)

    @property
    def certificates(self) -> tuple[bytes, ...]:
        """The anchors, as DER."""
        return self._ders

    def __len__(self) -> int:
        return len(self._ders)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TrustStore) and self._ders == other._ders

    def __hash__(self) -> int:
        return hash(self._ders)

    def __reduce__(self) -> tuple[Any, ...]:
        return (TrustStore.from_der, (list(self._ders),))

    def __repr__(self) -> str:
        subjects = [_govsig.parse_certificate(d).subject for d in self._ders[:3]]
        more = "" if len(self._ders) <= 3 else f", ... {len(self._ders) - 3} more"
        return f"TrustStore([{', '.join(repr(s) for s in subjects)}{more}])"


REVOCATION_MODES: tuple[str, ...] = tuple(_govsig.REVOCATION_MODES)
#: Where a signer's signature time came from, by the number in ``BatchResult.time_source``.
TIME_SOURCES: tuple[str, ...] = tuple(_govsig.TIME_SOURCES)
ANY_POLICY = "2.5.29.32.0"


class _FrozenClass(type):
    """The metaclass of :class:`Policy`: its attributes cannot be set, replaced or deleted
    once it is defined (``govsig.Policy.max_paths = ...`` would otherwise change what every
    policy reads). PyO3 can mark the compiled base immutable (``immutable_type``) only for
    Python >= 3.14 under the stable ABI, and govsig builds abi3 for 3.11, so the class is
    frozen here, and :class:`Policy` holds its own copy of the base's descriptors: a property
    replaced on ``govsig._govsig.Policy`` changes nothing a ``govsig.Policy`` reads. (The
    engine never reads knobs through Python attributes: it takes the core's policy.)"""

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> "_FrozenClass":
        for base in bases:
            if not isinstance(base, _FrozenClass):
                for attr, d in _own_descriptors(base).items():
                    namespace.setdefault(attr, d)
        return super().__new__(mcs, name, bases, namespace)

    def __setattr__(cls, name: str, value: object) -> None:
        raise TypeError(f"cannot set {name!r} on {cls.__qualname__}: the class is immutable "
                        f"(a policy's knobs are fixed; derive one with policy.replace(...))")

    def __delattr__(cls, name: str) -> None:
        raise TypeError(f"cannot delete {name!r} from {cls.__qualname__}: the class is immutable")


def _own_descriptors(base: type) -> dict[str, Any]:
    """The base's properties and methods, to be held by the subclass itself."""
    return {name: d for name, d in vars(base).items()
            if not (name.startswith("__") and name.endswith("__")) and hasattr(d, "__get__")}


class Policy(_govsig.Policy, metaclass=_FrozenClass):
    """Every verification knob in one immutable, picklable object.

    The knobs are defined, defaulted and validated once, in the Rust core (its table is
    :func:`govsig.policy_knobs`; :func:`govsig.policy_defaults` gives the defaults). A value
    the core cannot mean raises at ``Policy(...)`` naming its knob: ``ValueError`` for a
    value out of range or of the wrong kind, ``TypeError`` for a knob that does not exist.
    Everything after ``intermediates`` is keyword-only.

    Evidence and anchors (normalised here from the forms users hold them in):

    - ``trust``: a TrustStore (or certificates); ``None`` means integrity only: signatures
      are checked but no trust decision is made, and results say ``integrity_only``.
    - ``intermediates``: untrusted certificates available for path building.
    - ``crls``: CRLs (DER/PEM bytes or ``govsig.Crl``) used as revocation evidence, with the
      CRLs a CMS carries. Only bytes that are not a CRL at all raise ``ValueError`` (naming
      the index, ``crls[i] is not a CRL: ...``); a CRL that cannot be used (unknown critical
      extension, bad signature encoding, v2 without cRLNumber, ...) is kept as evidence that
      decides nothing, and results name it and why.
    - ``ocsp_responses``: OCSP responses (DER) given up front (offline evidence). Only bytes
      that are not an OCSPResponse raise (``ocsp_responses[i] is not an OCSP response``);
      an unsuccessful or unusable response is refused evidence, named in results.

    Knobs:

    - ``at``: validation time (aware datetime; naive means UTC; whole seconds); ``None`` = now.
    - ``legacy``: accept SHA-1 and DSA (see ``legacy_certificates`` below).
    - ``max_chain_depth`` (0..64): maximum intermediates between signer and anchor.
    - ``min_rsa_bits`` (0..16384): minimum RSA modulus size for every key.
    - ``key_usage``: names (:data:`KEY_USAGE_NAMES`) the signer's keyUsage must include at
      least one of (default digital_signature or non_repudiation); ``()`` requires none.
    - ``extended_key_usage``: dotted OIDs the signer must carry one of; ``None`` = unchecked
      (``()`` is refused: it would accept no signer).
    - ``max_signature_checks`` / ``max_paths`` (0..1,000,000): path-building budget per signer.
    - ``user_initial_policy_set``, ``initial_explicit_policy``,
      ``initial_policy_mapping_inhibit``, ``initial_any_policy_inhibit``: the certificate
      policy inputs of RFC 5280 §6.1.1 (c), (e), (f), (g) (dotted OIDs; default anyPolicy).
    - ``require_acceptable_policy``: when the user policy set is not anyPolicy, also refuse a
      path on which none of the user's policies is valid (PKITS's reading, the default);
      ``False`` applies only the bare RFC 5280 §6.1.5 success rule.
    - ``revocation``: ``"off"``, ``"soft-fail"`` (default: a revoked certificate fails, an
      undetermined status passes) or ``"hard-fail"`` (undetermined fails with
      ``revocation_unknown``). Every certificate on the path is checked, CAs included. The
      status is decided from *all* the evidence, whatever its order: valid evidence of a
      revocation at or before the validation time wins over any "good" (``cert_revoked``), a
      certificateHold in force is ``cert_on_hold`` until newer evidence releases it.
    - ``revocation_sources``: ``("ocsp", "crl")`` (default) or ``("crl", "ocsp")`` or one of
      them: the order in which missing evidence is fetched (with a fetcher, the first
      source's first, the next only if that fails). It never decides which evidence is
      believed: every CRL and OCSP response at hand counts.
    - ``ocsp_skew`` (0..604800, a week): seconds of clock skew forgiven on OCSP
      thisUpdate/nextUpdate.
    - ``anchor_constraints`` (default True): a trust anchor's own constraints apply (RFC 5937,
      as OpenSSL, Go and pyca do): its validity period at the validation time, its
      nameConstraints over the whole path, its unknown critical extensions refused. False
      treats anchors as bare keys (name and key, RFC 5280 §6.1.1 (d)).
    - ``strict_profile`` (default False): also refuse what RFC 5280 §4 tells CAs not to write
      but older CAs did: authorityKeyIdentifier missing (not self-issued) or critical,
      subjectKeyIdentifier missing on a CA or critical, serial numbers zero, negative or over
      20 octets, a CA's basicConstraints not critical. Off by default so that archives of
      older government CAs still verify. Always on, whatever this knob: an extendedKeyUsage
      with no purposes, keyCertSign without cA, a malformed or empty subjectAltName, an
      empty subject without a critical subjectAltName.
    - ``legacy`` admits SHA-1 and DSA in every signature (documents, certificates, CRLs, OCSP
      responses, time-stamps). ``legacy_certificates`` admits them in the signatures of
      certificates, CRLs and OCSP responses only, while document signatures stay SHA-2/SHA-3
      (the first-generation Vietnamese government CA signs its certificates with SHA-1).
      MD2 and MD5 are never admitted. A refusal is ``algorithm_not_allowed`` naming the
      algorithm and the certificate (under hard-fail also when the only CRL or OCSP answer
      that could decide a status was refused for its algorithm); an admission is a signer
      warning saying where (``legacy_algorithm_certificate``, ``_crl``, ``_ocsp``,
      ``_signature``), nested paths included: a separate CRL signer's, a delegated OCSP
      responder's, a valid time-stamp's TSA.
    - ``signature_time``: the time each signer is judged at. ``"at"`` (default): every check
      at ``at``. ``"timestamp"``: the earliest valid RFC 3161 signature time-stamp proves it,
      else ``at``. ``"claimed"``: as ``"timestamp"``, else the signer's own signingTime
      (reported as claimed), else ``at``. The path and revocation are judged at that time: a
      certificate revoked after it is ok (its revocation is reported, with the warning
      ``revoked_after_signature``); revoked at or before it fails.
    - ``require_timestamp``: a signer without a valid signature time-stamp fails
      (``timestamp_missing``, or the code of its best-ranked invalid token).
    - ``tsa_trust``: a TrustStore (or certificates) of time-stamping authorities; ``None``:
      the ``trust`` store.
    - ``signing_time_tolerance`` (seconds or a timedelta, 0..1 year; default 3600): a
      signingTime further than this from the time-stamped time gives the warning
      ``signing_time_mismatch``.
    - ``tsa_validation``: ``"at"`` (default: the TSA's chain judged at ``at``) or
      ``"gen_time"`` (at the token's genTime; the TSA's revocation still as of ``at``).

    ``replace(**changes)`` derives a new Policy; equality, hashing and pickling cover every
    knob and every piece of evidence.
    """

    __slots__ = ()

    def __new__(
        cls,
        trust: Any = None,
        intermediates: Iterable[Any] = (),
        *,
        crls: Iterable[Any] = (),
        ocsp_responses: Iterable[bytes] = (),
        tsa_trust: Any = None,
        **knobs: Any,
    ) -> "Policy":
        if trust is not None and not isinstance(trust, TrustStore):
            trust = TrustStore(trust)
        if tsa_trust is not None and not isinstance(tsa_trust, TrustStore):
            tsa_trust = TrustStore(tsa_trust)
        tolerance = knobs.get("signing_time_tolerance")
        if isinstance(tolerance, _dt.timedelta):
            knobs["signing_time_tolerance"] = int(tolerance.total_seconds())
        inter = tuple(many_to_ders(intermediates))
        for d in inter:
            _govsig.parse_certificate(d)
        crl_cores = tuple(c._core for c in _crl_objects(crls))
        ocsp_ders = tuple(_as_bytes(r, "an OCSP response") for r in ocsp_responses)
        # A response that cannot be used (unsuccessful, badly signed, ...) is evidence that
        # decides nothing, kept and named in results; only non-OCSP bytes are misuse.
        for i, der in enumerate(ocsp_ders):
            why = _govsig.ocsp_not_a_response(der)
            if why is not None:
                raise ValueError(f"ocsp_responses[{i}] is not an OCSP response: {why}")
        return super().__new__(
            cls, trust, None if trust is None else list(trust.certificates), list(inter),
            list(crl_cores), list(ocsp_ders), knobs,
            tsa_trust, None if tsa_trust is None else list(tsa_trust.certificates),
        )


def _crl_objects(crls: Any) -> Iterator[Any]:
    """CRLs as evidence: one that is a CRL but cannot be used is kept (results say which
    and why, its ``defect``); only bytes that are not a CRL at all raise, naming the index."""
    from govsig._crl import Crl, _pem_der

    if crls is None:
        return
    if isinstance(crls, (bytes, bytearray, memoryview, Crl)):
        crls = [crls]
    for i, c in enumerate(crls):
        if isinstance(c, Crl):
            yield c
        elif isinstance(c, (bytes, bytearray, memoryview)):
            data = bytes(c)
            try:
                if is_pem(data):
                    data = _pem_der(data)
                yield Crl._evidence(data)
            except ValueError as e:
                raise ValueError(f"crls[{i}] is not a CRL: {e}") from None
        else:
            raise TypeError(f"crls must hold DER/PEM bytes or govsig.Crl objects, got {type(c).__name__}")


def _as_bytes(x: Any, what: str) -> bytes:
    if isinstance(x, bytes):
        return x
    if isinstance(x, (bytearray, memoryview)):
        return bytes(x)
    raise TypeError(f"{what} must be bytes, got {type(x).__name__}")
