"""Signed PDFs for the tests, made by other libraries: base documents by reportlab, signatures
and changes after signing by pyHanko (its own signer, its own incremental writer), keys and
certificates from the deterministic test PKI (tests/pki.py).

Everything is built in memory from fixed inputs; what depends on the clock is only the /M
and the CMS time that pyHanko writes (the verdicts do not).
"""

from __future__ import annotations

import io
import warnings
from typing import Any, Optional

from cryptography.hazmat.primitives import serialization
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

import pki as _pki

with warnings.catch_warnings():
    # pyHanko imports DSA support, which cryptography marks deprecated.
    warnings.simplefilter("ignore")
    from asn1crypto import keys as a_keys
    from asn1crypto import x509 as a_x509
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import fields, signers, timestamps
    from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.registry import SimpleCertificateStore


def base_pdf(text: str = "Quyết định số 123/QĐ-UBND", *, pages: int = 1, text_field: bool = False,
             compress: bool = False) -> bytes:
    """A plain document by reportlab (classic xref table); optionally with a text form field."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, pageCompression=1 if compress else 0, invariant=1)
    for i in range(pages):
        c.setFont("Helvetica", 14)
        c.drawString(72, 760, text.encode("ascii", "replace").decode())
        c.drawString(72, 740, f"page {i + 1} of {pages}")
        if text_field and i == 0:
            c.acroForm.textfield(name="so_van_ban", x=72, y=600, width=200, height=24, value="")
        c.showPage()
    c.save()
    return buf.getvalue()


def _asn1_cert(c: _pki.Issued) -> a_x509.Certificate:
    return a_x509.Certificate.load(c.der)


def pyhanko_signer(leaf: _pki.Issued) -> signers.SimpleSigner:
    key_der = leaf.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
    return signers.SimpleSigner(
        signing_cert=_asn1_cert(leaf),
        signing_key=a_keys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore.from_certs([_asn1_cert(c) for c in leaf.path[1:]]),
    )


def validation_context(roots: list[_pki.Issued], *, crls: Optional[list[bytes]] = None,
                       allow_fetching: bool = False, **kw: Any) -> ValidationContext:
    return ValidationContext(trust_roots=[_asn1_cert(r) for r in roots], crls=crls or [],
                             allow_fetching=allow_fetching, **kw)


def sign(pdf: bytes, leaf: _pki.Issued, *, field: str = "Signature1", reason: Optional[str] = None,
         location: Optional[str] = None, certify: Optional[int] = None,
         subfilter: str = "pades", tsa_url: Optional[str] = None,
         embed_validation_info: bool = False, vc: Optional[ValidationContext] = None,
         lock_fields: Optional[list[str]] = None) -> bytes:
    """An incremental update by pyHanko adding a signed (invisible) signature field;
    ``lock_fields``: the field gets a FieldMDP lock (Include) on those fields."""
    meta = signers.PdfSignatureMetadata(
        field_name=field, reason=reason, location=location,
        subfilter=(fields.SigSeedSubFilter.PADES if subfilter == "pades"
                   else fields.SigSeedSubFilter.ADOBE_PKCS7_DETACHED),
        certify=certify is not None,
        docmdp_permissions=fields.MDPPerm(certify) if certify is not None else fields.MDPPerm.FILL_FORMS,
        embed_validation_info=embed_validation_info, validation_context=vc,
        use_pades_lta=embed_validation_info and tsa_url is not None,
    )
    ts = timestamps.HTTPTimeStamper(tsa_url) if tsa_url else None
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    if lock_fields is not None:
        fields.append_signature_field(w, fields.SigFieldSpec(
            sig_field_name=field,
            field_mdp_spec=fields.FieldMDPSpec(action=fields.FieldMDPAction.INCLUDE, fields=lock_fields)))
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        signers.sign_pdf(w, meta, signer=pyhanko_signer(leaf), timestamper=ts, output=out)
    return out.getvalue()


def timestamp_document(pdf: bytes, tsa_url: str, field: str = "DocTS") -> bytes:
    """An incremental update by pyHanko adding a document time-stamp (ETSI.RFC3161)."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        signers.PdfTimeStamper(timestamps.HTTPTimeStamper(tsa_url), field_name=field).timestamp_pdf(
            w, md_algorithm="sha256", output=out)
    return out.getvalue()


def fill_text_field(pdf: bytes, value: str, name: str = "so_van_ban") -> bytes:
    """An incremental update by pyHanko setting a text field's /V (a form fill)."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    for ref in w.root["/AcroForm"]["/Fields"]:
        f = ref.get_object()
        if f.get("/T") == name:
            f["/V"] = generic.TextStringObject(value)
            w.mark_update(ref)
            break
    else:
        raise ValueError(f"no field {name!r}")
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def add_page_content(pdf: bytes, text: str = "KHÔNG CÓ GIÁ TRỊ") -> bytes:
    """An incremental update by pyHanko drawing new text over page 1 (the incremental saving
    attack)."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    body = f"BT /F1 24 Tf 72 500 Td ({text.encode('ascii', 'replace').decode()}) Tj ET".encode()
    stream = generic.StreamObject(stream_data=body)
    w.add_stream_to_page(0, w.add_object(stream))
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def replace_page(pdf: bytes, text: str = "trang đã bị thay") -> bytes:
    """An incremental update that points the page tree at a new page (a replaced page)."""
    other = PdfFileReader(io.BytesIO(base_pdf(text)))
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    new_page = w.import_object(other.root["/Pages"]["/Kids"][0].get_object())
    pages_ref = w.root.raw_get("/Pages")
    pages = pages_ref.get_object()
    page = new_page if isinstance(new_page, generic.IndirectObject) else w.add_object(new_page)
    page.get_object()["/Parent"] = pages_ref
    pages["/Kids"] = generic.ArrayObject([page])
    w.mark_update(pages_ref)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def add_annotation(pdf: bytes) -> bytes:
    """An incremental update adding a text (sticky-note) annotation to page 1."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    annot = generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Annot"),
        generic.NameObject("/Subtype"): generic.NameObject("/Text"),
        generic.NameObject("/Rect"): generic.ArrayObject([generic.NumberObject(x) for x in (100, 100, 120, 120)]),
        generic.NameObject("/Contents"): generic.TextStringObject("đã xem"),
    })
    w.register_annotation(w.root["/Pages"]["/Kids"].raw_get(0), w.add_object(annot))
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def pyhanko_verdicts(pdf: bytes, vc_kwargs: dict[str, Any]) -> list[tuple[str, bool, bool, str]]:
    """pyHanko's validation of every signature: (field, intact+valid, bottom line, modification
    level name). ``bottom_line`` is pyHanko's own overall verdict (intact, valid, trusted, and
    no disallowed change)."""
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = PdfFileReader(io.BytesIO(pdf))
        for emb in r.embedded_signatures:
            vc = ValidationContext(**vc_kwargs)
            if emb.sig_object.get("/Type") == "/DocTimeStamp":
                st: Any = validate_pdf_timestamp(emb, validation_context=vc)
            else:
                st = validate_pdf_signature(emb, signer_validation_context=vc)
            level = getattr(st, "modification_level", None)
            bottom = getattr(st, "bottom_line", None)
            if bottom is None:  # a document time-stamp's status has no bottom line of its own
                bottom = st.intact and st.valid and st.trusted
            out.append((emb.field_name, bool(st.intact and st.valid), bool(bottom),
                        level.name if level is not None else "NONE"))
    return out


def with_object_streams(pdf: bytes) -> bytes:
    """The same document rewritten by pikepdf (qpdf) with object streams and a
    cross-reference stream instead of a classic xref table."""
    import pikepdf

    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        doc.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate, deterministic_id=True)
    return out.getvalue()


def add_vri(pdf: bytes, *, crls: list[bytes], for_signature: int = 0, key: Optional[str] = None) -> bytes:
    """An incremental update by pyHanko's writer adding a DSS whose only validation data is a
    /VRI entry (ETSI EN 319 142-1 §5.4.2.2) holding ``crls`` for one signature, named as
    pyHanko names it (SHA-1 of the whole /Contents, uppercase hex) unless ``key`` is given."""
    import hashlib

    r = PdfFileReader(io.BytesIO(pdf))
    contents = r.embedded_signatures[for_signature].pkcs7_content
    name = key or hashlib.sha1(contents).hexdigest().upper()
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    refs = generic.ArrayObject(w.add_object(generic.StreamObject(stream_data=c)) for c in crls)
    entry = w.add_object(generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/VRI"), generic.NameObject("/CRL"): refs}))
    dss = generic.DictionaryObject({generic.NameObject("/VRI"): generic.DictionaryObject(
        {generic.NameObject("/" + name): entry})})
    w.root[generic.NameObject("/DSS")] = w.add_object(dss)
    w.update_root()
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def empty_signature_field(pdf: bytes, name: str, *, visible: bool = True,
                          lock: Optional[tuple[str, list[str]]] = None,
                          lock_p: Optional[int] = None) -> bytes:
    """An incremental update by pyHanko adding an unsigned signature field ``name`` (a form
    prepared for signing), visible on the first page unless ``visible`` is False; ``lock``
    gives the field a /Lock dictionary: (action "all" | "include" | "exclude", field names),
    ``lock_p`` its PDF 2.0 /P (the DocMDP level the document gets once the field is signed)."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    mdp = None
    if lock is not None:
        action, names = lock
        mdp = fields.FieldMDPSpec(action=fields.FieldMDPAction[action.upper()],
                                  fields=None if action == "all" else names)
    fields.append_signature_field(w, fields.SigFieldSpec(
        sig_field_name=name, on_page=0, box=(72, 72, 272, 132) if visible else None,
        field_mdp_spec=mdp,
        doc_mdp_update_value=fields.MDPPerm(lock_p) if lock_p is not None else None))
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def signature_field_names(pdf: bytes) -> list[tuple[str, bool]]:
    """Every signature field pyHanko finds: its name and whether it is signed."""
    r = PdfFileReader(io.BytesIO(pdf))
    return [(name, value is not None) for name, value, _ in fields.enumerate_sig_fields(r)]


def remove_signature_field(pdf: bytes, name: str) -> bytes:
    """An incremental update by pyHanko taking the field ``name`` out of /AcroForm /Fields and
    its widget off the pages: a signature made, then hidden from the form."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    form = w.root["/AcroForm"]
    form[generic.NameObject("/Fields")] = generic.ArrayObject(
        f for f in form["/Fields"] if f.get_object().get("/T") != name)
    w.update_container(form)
    for page_ref in w.root["/Pages"]["/Kids"]:
        page = page_ref.get_object()
        if "/Annots" in page:
            page[generic.NameObject("/Annots")] = generic.ArrayObject(
                a for a in page["/Annots"] if a.get_object().get("/T") != name)
            w.update_container(page)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def add_dss(pdf: bytes, *, certs: list[bytes] = (), crls: list[bytes] = (),  # type: ignore[assignment]
            ocsps: list[bytes] = ()) -> bytes:  # type: ignore[assignment]
    """An incremental update by pyHanko's writer replacing the DSS with one holding ``certs``,
    ``crls`` and ``ocsps`` (ETSI EN 319 142-1 §5.4.2.2 /Certs, /CRLs, /OCSPs): what a B-LT
    writer adds, or what an attacker stuffs in."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))

    def streams(items: list[bytes]) -> generic.ArrayObject:
        return generic.ArrayObject(w.add_object(generic.StreamObject(stream_data=d)) for d in items)

    dss = generic.DictionaryObject({generic.NameObject("/Certs"): streams(list(certs)),
                                    generic.NameObject("/CRLs"): streams(list(crls)),
                                    generic.NameObject("/OCSPs"): streams(list(ocsps))})
    w.root[generic.NameObject("/DSS")] = w.add_object(dss)
    w.update_root()
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()
