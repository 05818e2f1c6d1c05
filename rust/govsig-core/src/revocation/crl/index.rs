//! Parsing a CRL once into an owned index.

use std::collections::HashMap;
use std::sync::Arc;

use asn1::ParseErrorKind;
use govsig_asn1::crl::{self as asn, oid};
use govsig_asn1::x509::{AuthorityKeyIdentifier, Extension};

use super::scope::{convert_dps, parse_general_names, GeneralNameValue, IssuingDistributionPoint};
use super::{CrlError, CrlNumber, DistributionPoint, HoldInstruction, Reason, RevokedEntry, SerialKey};
use crate::crypto::{PublicKey, SignatureScheme};
use crate::outcome::Code;
use crate::time::{self, UnixTime};
use crate::x509::cert::fingerprint;
use crate::x509::Name;

/// A CRL parsed once: header, extensions, and every entry in a hash map keyed by
/// (certificate issuer, serial). Immutable, `Send + Sync`; share it with `Arc`.
pub struct CrlIndex {
    der: Vec<u8>,
    tbs: std::ops::Range<usize>,
    signature: std::ops::Range<usize>,
    /// SHA-256 of the DER: the identity for caches.
    pub fingerprint: [u8; 32],
    /// 1 (no version field) or 2.
    pub version: u8,
    /// The outer `signatureAlgorithm` (full TLV), for [`SignatureScheme::from_algorithm_identifier`].
    pub signature_algorithm: Vec<u8>,
    pub issuer: Name,
    pub this_update: UnixTime,
    pub next_update: Option<UnixTime>,
    /// cRLNumber (RFC 5280 §5.2.3).
    pub crl_number: Option<CrlNumber>,
    /// deltaCRLIndicator's BaseCRLNumber (RFC 5280 §5.2.4): present means this is a delta CRL.
    pub delta_crl_indicator: Option<CrlNumber>,
    /// issuingDistributionPoint (RFC 5280 §5.2.5).
    pub issuing_distribution_point: Option<IssuingDistributionPoint>,
    /// authorityKeyIdentifier keyIdentifier (RFC 5280 §5.2.1).
    pub authority_key_id: Option<Vec<u8>>,
    /// freshestCRL: where the delta CRLs are (RFC 5280 §5.2.6).
    pub freshest_crl: Option<Vec<DistributionPoint>>,
    /// Dotted OIDs and criticality of every CRL extension, in order.
    pub extensions: Vec<(String, bool)>,
    entries: Vec<RevokedEntry>,
    map: HashMap<(u32, SerialKey), u32>,
    /// Certificate issuers named by the entries; index 0 is the CRL issuer.
    issuers: Vec<Arc<Name>>,
    issuer_ids: HashMap<Vec<u8>, u32>,
}

fn range_of(outer: &[u8], inner: &[u8]) -> std::ops::Range<usize> {
    let start = (inner.as_ptr() as usize).saturating_sub(outer.as_ptr() as usize);
    start..start + inner.len()
}

fn describe_parse_error(e: &asn1::ParseError) -> String {
    match e.kind() {
        ParseErrorKind::ShortData { needed } => {
            format!("truncated: {needed} more byte(s) needed ({e})")
        }
        ParseErrorKind::ExtraData => format!("trailing data after the CRL ({e})"),
        _ => format!("not DER ({e})"),
    }
}

/// Prefix for reasons: names the CRL by its issuer once it is known.
struct Who(String);

impl Who {
    fn err(&self, msg: impl std::fmt::Display) -> CrlError {
        CrlError::invalid(format!("{}: {msg}", self.0))
    }
}

impl From<asn1::ParseError> for CrlError {
    fn from(e: asn1::ParseError) -> CrlError {
        CrlError::invalid(format!("CRL is {}", describe_parse_error(&e)))
    }
}

const MAX_VERSION_V2: u64 = 1;

impl CrlIndex {
    /// Parses and indexes a DER CRL (RFC 5280 §5). Refuses: non-DER or truncated input, a
    /// version other than v1/v2, extensions in a v1 CRL, signature algorithm fields that
    /// differ (§5.1.1.2), duplicate or malformed known extensions, unknown critical CRL or
    /// entry extensions (§5.2, §5.3), certificateIssuer outside an indirect CRL (§5.3.3),
    /// and two entries for the same serial of the same certificate issuer.
    pub fn from_der(der: &[u8]) -> Result<CrlIndex, CrlError> {
        let list = asn1::parse_single::<asn::CertificateList<'_>>(der)
            .map_err(|e| CrlError::invalid(format!("CRL is {}", describe_parse_error(&e))))?;
        let tbs_bytes = list.tbs_cert_list.full_data();
        let tbs = asn1::parse_single::<asn::TbsCertList<'_>>(tbs_bytes)
            .map_err(|e| CrlError::invalid(format!("CRL TBSCertList is {}", describe_parse_error(&e))))?;
        let issuer = Name::from_der(tbs.issuer.full_data())
            .map_err(|e| CrlError::invalid(format!("CRL issuer name: {}", e.0)))?;
        let who = Who(format!("CRL of '{issuer}'"));
        let version = match tbs.version {
            None => 1,
            Some(MAX_VERSION_V2) => 2,
            Some(v) => {
                return Err(who.err(format!(
                    "bad version: {} (only v1, absent, and v2, encoded 1, exist; RFC 5280 §5.1.2.1)",
                    v.saturating_add(1)
                )))
            }
        };
        // RFC 5280 §5.1.1.2: signatureAlgorithm MUST equal TBSCertList.signature.
        if tbs.signature_alg.full_data() != list.signature_alg.full_data() {
            return Err(who.err("signatureAlgorithm differs from TBSCertList.signature (RFC 5280 §5.1.1.2)"));
        }
        if list.signature.padding_bits() != 0 {
            return Err(who.err("signature BIT STRING has unused bits"));
        }
        let this_update = time::from_time(&tbs.this_update);
        let next_update = tbs.next_update.as_ref().map(time::from_time);
        if next_update.is_some_and(|n| n < this_update) {
            return Err(who.err("nextUpdate is before thisUpdate (RFC 5280 §5.1.2.5)"));
        }
        let issuer = Arc::new(issuer);
        let mut idx = CrlIndex {
            der: der.to_vec(),
            tbs: range_of(der, tbs_bytes),
            signature: range_of(der, list.signature.as_bytes()),
            fingerprint: fingerprint(der),
            version,
            signature_algorithm: list.signature_alg.full_data().to_vec(),
            issuer: Name::clone(&issuer),
            this_update,
            next_update,
            crl_number: None,
            delta_crl_indicator: None,
            issuing_distribution_point: None,
            authority_key_id: None,
            freshest_crl: None,
            extensions: Vec::new(),
            entries: Vec::new(),
            map: HashMap::new(),
            issuers: vec![Arc::clone(&issuer)],
            issuer_ids: HashMap::from([(issuer.key().to_vec(), 0u32)]),
        };
        if let Some(exts) = tbs.crl_extensions {
            if version != 2 {
                return Err(who.err("CRL extensions in a v1 CRL (RFC 5280 §5.1.2.1: version MUST be v2)"));
            }
            for ext in exts {
                idx.crl_extension(&who, &ext)?;
            }
        }
        if let Some(revoked) = tbs.revoked_certificates {
            idx.index_entries(&who, revoked)?;
        }
        Ok(idx)
    }

    fn crl_extension(&mut self, who: &Who, ext: &Extension<'_>) -> Result<(), CrlError> {
        let dotted = ext.extn_id.to_string();
        if self.extensions.iter().any(|(o, _)| *o == dotted) {
            return Err(who.err(format!("duplicate CRL extension {dotted} (RFC 5280 §4.2, §5.2)")));
        }
        let v = ext.extn_value;
        let bad = |what: &str, e: asn1::ParseError| who.err(format!("{what} extension is {}", describe_parse_error(&e)));
        if ext.extn_id == oid::CRL_NUMBER {
            let n = asn1::parse_single::<asn1::BigInt<'_>>(v).map_err(|e| bad("cRLNumber", e))?;
            self.crl_number = Some(
                CrlNumber::from_integer_bytes(n.as_bytes())
                    .ok_or_else(|| who.err("cRLNumber is negative (RFC 5280 §5.2.3: 0..MAX)"))?,
            );
        } else if ext.extn_id == oid::DELTA_CRL_INDICATOR {
            let n = asn1::parse_single::<asn1::BigInt<'_>>(v).map_err(|e| bad("deltaCRLIndicator", e))?;
            self.delta_crl_indicator = Some(
                CrlNumber::from_integer_bytes(n.as_bytes())
                    .ok_or_else(|| who.err("deltaCRLIndicator BaseCRLNumber is negative (RFC 5280 §5.2.4)"))?,
            );
        } else if ext.extn_id == oid::ISSUING_DISTRIBUTION_POINT {
            let idp = asn1::parse_single::<asn::IssuingDistributionPoint<'_>>(v)
                .map_err(|e| bad("issuingDistributionPoint", e))?;
            let idp = IssuingDistributionPoint::from_asn1(&idp).map_err(|m| who.err(format!("issuingDistributionPoint: {m}")))?;
            self.issuing_distribution_point = Some(idp);
        } else if ext.extn_id == oid::AUTHORITY_KEY_IDENTIFIER {
            let aki = asn1::parse_single::<AuthorityKeyIdentifier<'_>>(v).map_err(|e| bad("authorityKeyIdentifier", e))?;
            self.authority_key_id = aki.key_identifier.map(<[u8]>::to_vec);
        } else if ext.extn_id == oid::FRESHEST_CRL {
            let dps = asn1::parse_single::<asn::CrlDistributionPoints<'_>>(v).map_err(|e| bad("freshestCRL", e))?;
            self.freshest_crl = Some(convert_dps(dps).map_err(|m| who.err(format!("freshestCRL: {m}")))?);
        } else if ext.extn_id == oid::ISSUER_ALT_NAME {
            parse_general_names(v).map_err(|m| who.err(format!("issuerAltName: {m}")))?;
        } else if ext.extn_id == oid::AUTHORITY_INFO_ACCESS {
            // Read by fetchers for the CRL signer's certificate; nothing to judge here.
        } else if ext.critical {
            // RFC 5280 §5.2: a CRL with an unrecognised critical extension MUST NOT be used
            // to determine revocation status.
            return Err(CrlError {
                code: Code::CrlInvalid,
                reason: format!("{}: unknown critical CRL extension {dotted} (RFC 5280 §5.2)", who.0),
            });
        }
        self.extensions.push((dotted, ext.critical));
        Ok(())
    }

    fn issuer_id(&mut self, name: Name) -> u32 {
        if let Some(&id) = self.issuer_ids.get(name.key()) {
            return id;
        }
        let id = u32::try_from(self.issuers.len()).unwrap_or(u32::MAX);
        self.issuer_ids.insert(name.key().to_vec(), id);
        self.issuers.push(Arc::new(name));
        id
    }

    fn index_entries(&mut self, who: &Who, revoked: asn::RawSequence<'_>) -> Result<(), CrlError> {
        let indirect = self.is_indirect();
        // RFC 5280 §5.3.3: entries belong to the CRL issuer until a certificateIssuer
        // extension names another issuer, and that issuer holds for the following entries.
        let mut current: Vec<u32> = vec![0];
        let mut current_ext: Vec<u8> = Vec::new();
        let mut entries = std::mem::take(&mut self.entries);
        let mut map = std::mem::take(&mut self.map);
        let result = asn1::parse(revoked.content(), |p| -> Result<(), CrlError> {
            let mut n: usize = 0;
            while !p.is_empty() {
                let e = asn::read_revoked_entry(p).map_err(|e| {
                    who.err(format!("revokedCertificates entry {n} is {}", describe_parse_error(&e)))
                })?;
                let serial = SerialKey::from_integer_bytes(e.user_certificate.as_bytes());
                let mut entry = RevokedEntry {
                    serial,
                    revocation_date: time::from_time(&e.revocation_date),
                    reason: None,
                    invalidity_date: None,
                    hold_instruction: None,
                    certificate_issuer: None,
                };
                if let Some(exts) = e.crl_entry_extensions {
                    if self.version != 2 {
                        return Err(who.err(format!(
                            "entry {n} (serial {}) has extensions in a v1 CRL (RFC 5280 §5.1.2.1)",
                            entry.serial.to_hex()
                        )));
                    }
                    let mut seen: Vec<asn1::ObjectIdentifier> = Vec::new();
                    for ext in exts {
                        if seen.contains(&ext.extn_id) {
                            return Err(who.err(format!(
                                "entry {n} (serial {}) has a duplicate extension {} (RFC 5280 §5.3)",
                                entry.serial.to_hex(),
                                ext.extn_id
                            )));
                        }
                        let at = |what: String| who.err(format!("entry {n} (serial {}): {what}", entry.serial.to_hex()));
                        if ext.extn_id == oid::REASON_CODE {
                            let code = asn1::parse_single::<asn1::Enumerated>(ext.extn_value)
                                .map_err(|e| at(format!("reasonCode is {}", describe_parse_error(&e))))?;
                            entry.reason = Some(Reason::from_code(code.value()).ok_or_else(|| {
                                at(format!("reasonCode {} is not a CRLReason (RFC 5280 §5.3.1)", code.value()))
                            })?);
                        } else if ext.extn_id == oid::INVALIDITY_DATE {
                            // GeneralizedTime (RFC 5280 §5.3.2); fractional seconds are
                            // tolerated and dropped: the date is advisory.
                            let t = asn1::parse_single::<asn1::GeneralizedTime>(ext.extn_value)
                                .map_err(|e| at(format!("invalidityDate is {}", describe_parse_error(&e))))?;
                            entry.invalidity_date = Some(time::from_asn1(t.as_datetime()));
                        } else if ext.extn_id == oid::HOLD_INSTRUCTION_CODE {
                            let o = asn1::parse_single::<asn1::ObjectIdentifier>(ext.extn_value)
                                .map_err(|e| at(format!("holdInstructionCode is {}", describe_parse_error(&e))))?;
                            entry.hold_instruction = Some(hold_instruction(&o));
                        } else if ext.extn_id == oid::CERTIFICATE_ISSUER {
                            if !indirect {
                                return Err(at(
                                    "certificateIssuer entry extension in a CRL that is not indirect (RFC 5280 §5.3.3: \
                                     only indirect CRLs, with indirectCRL set in issuingDistributionPoint, carry it)"
                                        .into(),
                                ));
                            }
                            if ext.extn_value != current_ext.as_slice() {
                                let names = parse_general_names(ext.extn_value)
                                    .map_err(|m| at(format!("certificateIssuer: {m}")))?;
                                let mut ids = Vec::new();
                                for g in names {
                                    if let GeneralNameValue::Directory(name) = g {
                                        let id = self.issuer_id(name);
                                        if !ids.contains(&id) {
                                            ids.push(id);
                                        }
                                    }
                                }
                                if ids.is_empty() {
                                    return Err(at("certificateIssuer names no directoryName, so no certificate \
                                                   issuer can match its entries"
                                        .into()));
                                }
                                current = ids;
                                current_ext = ext.extn_value.to_vec();
                            }
                        } else if ext.critical {
                            // RFC 5280 §5.3: an unrecognised critical entry extension makes
                            // the CRL unusable.
                            return Err(at(format!("unknown critical CRL entry extension {} (RFC 5280 §5.3)", ext.extn_id)));
                        }
                        seen.push(ext.extn_id);
                    }
                }
                if current.first().is_some_and(|&id| id != 0) {
                    entry.certificate_issuer = current.first().and_then(|&id| self.issuers.get(usize_of(id))).cloned();
                }
                let pos = u32::try_from(entries.len())
                    .map_err(|_| who.err("more than 4,294,967,295 entries"))?;
                for &id in &current {
                    if map.insert((id, entry.serial.clone()), pos).is_some() {
                        let issuer_name = self.issuers.get(usize_of(id)).map(|n| n.to_string()).unwrap_or_default();
                        return Err(who.err(format!(
                            "duplicate entries for serial {} of certificate issuer '{issuer_name}'",
                            entry.serial.to_hex()
                        )));
                    }
                }
                entries.push(entry);
                n = n.saturating_add(1);
            }
            Ok(())
        });
        self.entries = entries;
        self.map = map;
        result
    }

    /// The exact DER received.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The exact TBSCertList bytes the signature covers.
    pub fn tbs(&self) -> &[u8] {
        self.der.get(self.tbs.clone()).unwrap_or(&[])
    }

    /// The signature value.
    pub fn signature(&self) -> &[u8] {
        self.der.get(self.signature.clone()).unwrap_or(&[])
    }

    /// Number of revoked certificate entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries in CRL order.
    pub fn entries(&self) -> &[RevokedEntry] {
        &self.entries
    }

    pub fn is_delta(&self) -> bool {
        self.delta_crl_indicator.is_some()
    }

    /// issuingDistributionPoint with indirectCRL set (RFC 5280 §5.2.5).
    pub fn is_indirect(&self) -> bool {
        self.issuing_distribution_point.as_ref().is_some_and(|i| i.indirect_crl)
    }

    /// Certificate issuers that have entries, the CRL issuer first.
    pub fn certificate_issuers(&self) -> &[Arc<Name>] {
        &self.issuers
    }

    /// O(1): the entry for the certificate with this issuer and serial (INTEGER content
    /// octets, as in `Certificate::serial`). This is the raw entry: removeFromCRL entries
    /// are returned too; [`super::revocation_status`] applies RFC 5280 §6.3.3 (g)-(i).
    pub fn lookup(&self, cert_issuer: &Name, serial: &[u8]) -> Option<&RevokedEntry> {
        let id = *self.issuer_ids.get(cert_issuer.key())?;
        self.lookup_key(id, &SerialKey::from_integer_bytes(serial))
    }

    /// Like [`CrlIndex::lookup`], with the issuer given by its name key (`Name::key`).
    pub fn lookup_by_issuer_key(&self, issuer_key: &[u8], serial: &[u8]) -> Option<&RevokedEntry> {
        let id = *self.issuer_ids.get(issuer_key)?;
        self.lookup_key(id, &SerialKey::from_integer_bytes(serial))
    }

    /// Every entry for this serial, whatever its certificate issuer (at most one per issuer;
    /// O(number of issuers)).
    pub fn lookup_any_issuer(&self, serial: &[u8]) -> Vec<&RevokedEntry> {
        let key = SerialKey::from_integer_bytes(serial);
        let mut out: Vec<&RevokedEntry> = Vec::new();
        for id in 0..u32::try_from(self.issuers.len()).unwrap_or(u32::MAX) {
            if let Some(e) = self.lookup_key(id, &key) {
                if !out.iter().any(|x| std::ptr::eq(*x, e)) {
                    out.push(e);
                }
            }
        }
        out
    }

    fn lookup_key(&self, id: u32, key: &SerialKey) -> Option<&RevokedEntry> {
        // The key is rebuilt for the probe; SerialKey is inline for real-world serials.
        let pos = *self.map.get(&(id, key.clone()))?;
        self.entries.get(usize_of(pos))
    }

    /// `'<issuer>' CRL #<number>`, for reasons.
    pub fn describe(&self) -> String {
        match (&self.crl_number, &self.delta_crl_indicator) {
            (Some(n), Some(_)) => format!("delta CRL #{n} of '{}'", self.issuer),
            (Some(n), None) => format!("CRL #{n} of '{}'", self.issuer),
            (None, Some(_)) => format!("delta CRL of '{}'", self.issuer),
            (None, None) => format!("CRL of '{}'", self.issuer),
        }
    }

    /// RFC 5280 §6.3.3 (g): verifies the CRL signature with the CRL signer's key. Unsupported,
    /// legacy-refused and weak-key cases keep their own codes; anything else is crl_invalid.
    pub fn verify_signature(&self, signer_key: &PublicKey, legacy: bool, min_rsa_bits: usize) -> Result<(), CrlError> {
        let scheme = SignatureScheme::from_algorithm_identifier(&self.signature_algorithm)
            .map_err(|e| CrlError { code: crypto_code(&e), reason: format!("{}: {e}", self.describe()) })?;
        scheme.verify(signer_key, self.tbs(), self.signature(), legacy, min_rsa_bits).map_err(|e| CrlError {
            code: crypto_code(&e),
            reason: format!("signature of {} does not verify: {e}", self.describe()),
        })
    }

    /// The signature algorithm's name (e.g. `sha256WithRSAEncryption`), or its dotted OID
    /// when govsig does not support it.
    pub fn signature_algorithm_name(&self) -> String {
        match SignatureScheme::from_algorithm_identifier(&self.signature_algorithm) {
            Ok(s) => s.name().to_string(),
            Err(_) => asn1::parse_single::<govsig_asn1::common::AlgorithmIdentifier<'_>>(&self.signature_algorithm)
                .map(|a| a.oid.to_string())
                .unwrap_or_else(|_| "unknown".into()),
        }
    }

    /// RFC 5280 §6.3.3 (a)(2) and §5.1.2.4-5: usable at `at` when thisUpdate <= at (+
    /// `tolerance` seconds for clock skew) and nextUpdate, when present, is not before `at`.
    /// A CRL without nextUpdate is not stale by this check (RFC 5280 §5.1.2.5 requires the
    /// field; a policy that refuses such CRLs checks `next_update` itself).
    pub fn check_freshness(&self, at: UnixTime, tolerance: i64) -> Result<(), CrlError> {
        if self.this_update > at.saturating_add(tolerance) {
            return Err(CrlError::invalid(format!(
                "{} is not yet valid at {}: thisUpdate is {}",
                self.describe(),
                time::to_rfc3339(at),
                time::to_rfc3339(self.this_update)
            )));
        }
        if let Some(next) = self.next_update {
            if next < at.saturating_sub(tolerance) {
                return Err(CrlError::invalid(format!(
                    "{} is stale at {}: nextUpdate was {}",
                    self.describe(),
                    time::to_rfc3339(at),
                    time::to_rfc3339(next)
                )));
            }
        }
        Ok(())
    }
}

fn usize_of(id: u32) -> usize {
    usize::try_from(id).unwrap_or(usize::MAX)
}

fn hold_instruction(o: &asn1::ObjectIdentifier) -> HoldInstruction {
    const NONE: asn1::ObjectIdentifier = asn1::oid!(1, 2, 840, 10040, 2, 1);
    const CALL: asn1::ObjectIdentifier = asn1::oid!(1, 2, 840, 10040, 2, 2);
    const REJECT: asn1::ObjectIdentifier = asn1::oid!(1, 2, 840, 10040, 2, 3);
    if *o == NONE {
        HoldInstruction::None
    } else if *o == CALL {
        HoldInstruction::CallIssuer
    } else if *o == REJECT {
        HoldInstruction::Reject
    } else {
        HoldInstruction::Other(o.to_string().into_boxed_str())
    }
}

/// Outcome code of a crypto failure on a CRL signature.
pub(crate) fn crypto_code(e: &crate::crypto::CryptoError) -> Code {
    use crate::crypto::CryptoError as C;
    match e {
        C::UnsupportedAlgorithm(_) => Code::UnsupportedAlgorithm,
        C::LegacyNotAllowed(_) => Code::AlgorithmNotAllowed,
        C::WeakKey(_) => Code::WeakKey,
        C::InvalidKey(_) | C::KeyAlgorithmMismatch(_) | C::BadSignature => Code::CrlInvalid,
    }
}

impl std::fmt::Debug for CrlIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrlIndex")
            .field("issuer", &self.issuer.to_string())
            .field("number", &self.crl_number)
            .field("delta_base", &self.delta_crl_indicator)
            .field("entries", &self.entries.len())
            .finish()
    }
}
