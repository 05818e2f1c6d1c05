//! Parsing a CRL once into an owned index.

use std::collections::HashMap;
use std::hash::BuildHasher;
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
    /// SHA-256 of the DER, computed on first use: hashing a multi-megabyte CRL would be a
    /// large share of indexing it.
    fingerprint: std::sync::OnceLock<[u8; 32]>,
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
    /// Why this CRL, which is a CRL (its header parses), cannot be used as evidence: a
    /// profile violation found after the header (RFC 5280 §5.1-§5.3). Such a CRL is kept so
    /// that a result can say which CRL of the issuer was refused and why; it decides nothing.
    /// Its entries are not indexed.
    pub defect: Option<CrlError>,
    entries: Vec<RevokedEntry>,
    /// (issuer id, serial) hashed with `hasher` -> position in `entries`. Keys are hashes,
    /// not copies of the serial: the table stays small (16 octets a slot), and the entry is
    /// compared on every hit, so a hash collision can never return a wrong entry.
    map: HashMap<u64, u32, PreHashed>,
    /// The rare entries whose key hash collided with another's (a 64-bit keyed hash: this is
    /// empty in practice and cannot be filled on purpose without the random key).
    overflow: Vec<(u64, u32)>,
    hasher: std::hash::RandomState,
    /// Certificate issuers named by the entries; index 0 is the CRL issuer.
    issuers: Vec<Arc<Name>>,
    issuer_ids: HashMap<Vec<u8>, u32>,
    /// Sets of issuer ids an entry can belong to (a certificateIssuer may list several
    /// directory names); group 0 is the CRL issuer alone.
    groups: Vec<Box<[u32]>>,
}

/// `BuildHasher` for keys that already are keyed SipHash outputs: passes them through.
/// HashDoS resistance comes from the random SipHash key, which an attacker who writes the
/// CRL does not know.
#[derive(Clone, Copy, Default)]
struct PreHashed;

struct PreHashedHasher(u64);

impl std::hash::BuildHasher for PreHashed {
    type Hasher = PreHashedHasher;
    fn build_hasher(&self) -> PreHashedHasher {
        PreHashedHasher(0)
    }
}

impl std::hash::Hasher for PreHashedHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// The position of the entry (issuer id, serial) in `entries`, if any.
fn find(
    map: &HashMap<u64, u32, PreHashed>,
    overflow: &[(u64, u32)],
    entries: &[RevokedEntry],
    groups: &[Box<[u32]>],
    h: u64,
    id: u32,
    serial: &[u8],
) -> Option<u32> {
    let is = |pos: u32| {
        entries.get(usize_of(pos)).is_some_and(|e| {
            e.serial.as_bytes() == serial && groups.get(usize_of(e.group)).is_some_and(|g| g.contains(&id))
        })
    };
    if let Some(&pos) = map.get(&h) {
        if is(pos) {
            return Some(pos);
        }
    }
    overflow
        .iter()
        .find(|(k, pos)| *k == h && is(*pos))
        .map(|(_, pos)| *pos)
}

fn range_of(outer: &[u8], inner: &[u8]) -> std::ops::Range<usize> {
    let start = (inner.as_ptr() as usize).saturating_sub(outer.as_ptr() as usize);
    start..start + inner.len()
}

fn describe_parse_error(e: &asn1::ParseError) -> String {
    let why = govsig_asn1::common::explain(e);
    match e.kind() {
        ParseErrorKind::ShortData { .. } => format!("{why}"),
        ParseErrorKind::ExtraData => format!("followed by trailing data ({why})"),
        _ => format!("not DER ({why})"),
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
        let idx = CrlIndex::from_der_as_evidence(der)?;
        match idx.defect {
            Some(e) => Err(e),
            None => Ok(idx),
        }
    }

    /// Like [`CrlIndex::from_der`], but a CRL whose header parses (a CertificateList with a
    /// TBSCertList and an issuer name) is returned even when it cannot be used, with
    /// [`CrlIndex::defect`] saying why: bad evidence is a verdict ("this CRL of that issuer
    /// was refused because ..."), not an error that loses the rest of the evidence. `Err`
    /// only for bytes that are not a CRL at all.
    pub fn from_der_as_evidence(der: &[u8]) -> Result<CrlIndex, CrlError> {
        let list = asn1::parse_single::<asn::CertificateList<'_>>(der)
            .map_err(|e| CrlError::invalid(format!("CRL is {}", describe_parse_error(&e))))?;
        let tbs_bytes = list.tbs_cert_list.full_data();
        let tbs = asn1::parse_single::<asn::TbsCertList<'_>>(tbs_bytes)
            .map_err(|e| CrlError::invalid(format!("CRL TBSCertList is {}", describe_parse_error(&e))))?;
        let issuer = Name::from_der(tbs.issuer.full_data())
            .map_err(|e| CrlError::invalid(format!("CRL issuer name: {}", e.0)))?;
        let who = Who(format!("CRL of '{issuer}'"));
        // Defects of a readable header: the CRL is kept as refused evidence (see `defect`).
        let mut profile: Result<(), CrlError> = Ok(());
        let version = match tbs.version {
            None => 1,
            Some(MAX_VERSION_V2) => 2,
            Some(v) => {
                profile = Err(who.err(format!(
                    "bad version: {} (only v1, absent, and v2, encoded 1, exist; RFC 5280 §5.1.2.1)",
                    v.saturating_add(1)
                )));
                2
            }
        };
        // RFC 5280 §5.1.1.2: signatureAlgorithm MUST equal TBSCertList.signature.
        if profile.is_ok() && tbs.signature_alg.full_data() != list.signature_alg.full_data() {
            profile = Err(who.err("signatureAlgorithm differs from TBSCertList.signature (RFC 5280 §5.1.1.2)"));
        }
        if profile.is_ok() && list.signature.padding_bits() != 0 {
            profile = Err(who.err("signature BIT STRING has unused bits"));
        }
        let this_update = time::from_time(&tbs.this_update);
        let next_update = tbs.next_update.as_ref().map(time::from_time);
        if profile.is_ok() && next_update.is_some_and(|n| n < this_update) {
            profile = Err(who.err("nextUpdate is before thisUpdate (RFC 5280 §5.1.2.5)"));
        }
        let issuer = Arc::new(issuer);
        let mut idx = CrlIndex {
            der: der.to_vec(),
            tbs: range_of(der, tbs_bytes),
            signature: range_of(der, list.signature.as_bytes()),
            fingerprint: std::sync::OnceLock::new(),
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
            defect: None,
            entries: Vec::new(),
            map: HashMap::with_hasher(PreHashed),
            overflow: Vec::new(),
            hasher: std::hash::RandomState::new(),
            issuers: vec![Arc::clone(&issuer)],
            issuer_ids: HashMap::from([(issuer.key().to_vec(), 0u32)]),
            groups: vec![Box::new([0u32])],
        };
        let checked = (|| {
            // Extensions are read even after a header defect, so that a refused CRL is still
            // named by its number; the header's defect is the one reported.
            let extensions = (|| {
                if let Some(exts) = tbs.crl_extensions {
                    if idx.version != 2 {
                        return Err(who.err("CRL extensions in a v1 CRL (RFC 5280 §5.1.2.1: version MUST be v2)"));
                    }
                    // Every extension is read (the number, for naming) and the first
                    // defect is reported.
                    let mut first = Ok(());
                    for ext in exts {
                        if let Err(e) = idx.crl_extension(&who, &ext) {
                            first = first.and(Err(e));
                        }
                    }
                    first?;
                }
                Ok(())
            })();
            profile?;
            extensions?;
            // RFC 5280 §5.2.3: conforming CRL issuers MUST include cRLNumber in every CRL
            // (a v2 CRL can carry it) and MUST mark it non-critical. Without a number, CRLs
            // of one scope cannot be ordered, so "the newest says good" has no meaning.
            if idx.version == 2 {
                match idx.extensions.iter().find(|(o, _)| o == "2.5.29.20") {
                    None => return Err(who.err("a v2 CRL without a cRLNumber (RFC 5280 §5.2.3: MUST include it)")),
                    Some((_, true)) => {
                        return Err(who.err("cRLNumber is marked critical (RFC 5280 §5.2.3: MUST be non-critical)"))
                    }
                    Some(_) => {}
                }
            }
            if let Some(revoked) = tbs.revoked_certificates {
                idx.index_entries(&who, revoked)?;
            }
            Ok(())
        })();
        if let Err(e) = checked {
            // Nothing indexed from a refused CRL may be looked up by mistake.
            idx.entries = Vec::new();
            idx.map = HashMap::with_hasher(PreHashed);
            idx.overflow = Vec::new();
            idx.defect = Some(e);
        }
        Ok(idx)
    }

    fn crl_extension(&mut self, who: &Who, ext: &Extension<'_>) -> Result<(), CrlError> {
        let dotted = ext.extn_id.to_string();
        if self.extensions.iter().any(|(o, _)| *o == dotted) {
            return Err(who.err(format!("duplicate CRL extension {dotted} (RFC 5280 §4.2, §5.2)")));
        }
        let v = ext.extn_value;
        let bad =
            |what: &str, e: asn1::ParseError| who.err(format!("{what} extension is {}", describe_parse_error(&e)));
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
            let idp = IssuingDistributionPoint::from_asn1(&idp)
                .map_err(|m| who.err(format!("issuingDistributionPoint: {m}")))?;
            self.issuing_distribution_point = Some(idp);
        } else if ext.extn_id == oid::AUTHORITY_KEY_IDENTIFIER {
            let aki =
                asn1::parse_single::<AuthorityKeyIdentifier<'_>>(v).map_err(|e| bad("authorityKeyIdentifier", e))?;
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
        let v2 = self.version == 2;
        // RFC 5280 §5.3.3: entries belong to the CRL issuer until a certificateIssuer
        // extension names another issuer, and that issuer holds for the following entries.
        let mut group: u32 = 0;
        let mut current_ext: Vec<u8> = Vec::new();
        // Counting the entries first (a walk over TLV headers) sizes the vector and the map
        // exactly: no regrowth, no copy of a multi-megabyte table while it fills.
        let count = count_tlvs(revoked.content());
        let mut entries: Vec<RevokedEntry> = Vec::with_capacity(count);
        let mut map: HashMap<u64, u32, PreHashed> = HashMap::with_capacity_and_hasher(count, PreHashed);
        let mut overflow: Vec<(u64, u32)> = Vec::new();
        let mut rest = revoked.content();
        let mut n: usize = 0;
        while !rest.is_empty() {
            let fast = asn::fast_revoked_entry(rest).and_then(|(parts, tail)| {
                utc_time_fast(parts.utc_time).map(|t| (parts.serial, t, parts.extensions, tail))
            });
            let before = rest;
            let fast_serial = fast.is_some();
            let (serial_bytes, revocation_date, ext_content, tail) = match fast {
                Some(x) => x,
                None => {
                    // Any other shape: the generic parser accepts the other valid forms and
                    // names what is wrong with the invalid ones.
                    let (tlv, tail) = asn1::strip_tlv(rest).map_err(|e| {
                        who.err(format!("revokedCertificates entry {n} is {}", describe_parse_error(&e)))
                    })?;
                    let e = asn1::parse_single::<asn::RevokedCertificate<'_>>(tlv.full_data()).map_err(|e| {
                        who.err(format!("revokedCertificates entry {n} is {}", describe_parse_error(&e)))
                    })?;
                    let t = entry_time(&e.revocation_date).map_err(|m| {
                        who.err(format!(
                            "entry {n} (serial {}): revocationDate {m}",
                            hex::encode(e.user_certificate.as_bytes())
                        ))
                    })?;
                    (
                        e.user_certificate.as_bytes(),
                        t,
                        e.crl_entry_extensions.map(|r| r.content()),
                        tail,
                    )
                }
            };
            rest = tail;
            // The fast path's serial is minimal DER inside `before`: build the key with one
            // fixed-size copy of the octets starting there (a byte-wise copy followed by
            // wide reads of the key stalls store forwarding, once per entry).
            let serial = offset_in(before, serial_bytes)
                .filter(|_| fast_serial)
                .and_then(|off| before.get(off..))
                .and_then(|window| SerialKey::from_der_window(window, serial_bytes.len()))
                .unwrap_or_else(|| SerialKey::from_integer_bytes(serial_bytes));
            let mut entry = RevokedEntry {
                serial,
                revocation_date,
                reason: None,
                invalidity_date: None,
                hold_instruction: None,
                certificate_issuer: None,
                group,
            };
            if let Some(raw) = ext_content {
                let at = |what: String| who.err(format!("entry {n} (serial {}): {what}", entry.serial.to_hex()));
                if !v2 {
                    return Err(at("has extensions in a v1 CRL (RFC 5280 §5.1.2.1)".into()));
                }
                let exts = entry_extensions(raw).map_err(at)?;
                if let Some(code) = exts.reason {
                    entry.reason = Some(
                        Reason::from_code(code)
                            .ok_or_else(|| at(format!("reasonCode {code} is not a CRLReason (RFC 5280 §5.3.1)")))?,
                    );
                }
                entry.invalidity_date = exts.invalidity_date;
                entry.hold_instruction = exts.hold_instruction;
                if let Some(value) = exts.certificate_issuer {
                    if !indirect {
                        return Err(at(
                            "certificateIssuer entry extension in a CRL that is not indirect (RFC 5280 \
                                       §5.3.3: only indirect CRLs, with indirectCRL set in \
                                       issuingDistributionPoint, carry it)"
                                .into(),
                        ));
                    }
                    if value != current_ext.as_slice() {
                        let names = parse_general_names(value).map_err(|m| at(format!("certificateIssuer: {m}")))?;
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
                            return Err(at(
                                "certificateIssuer names no directoryName, so no certificate issuer \
                                           can match its entries"
                                    .into(),
                            ));
                        }
                        group = match self.groups.iter().position(|g| **g == *ids) {
                            Some(i) => u32::try_from(i).map_err(|_| at("too many certificate issuers".into()))?,
                            None => {
                                self.groups.push(ids.into_boxed_slice());
                                u32::try_from(self.groups.len() - 1)
                                    .map_err(|_| at("too many certificate issuers".into()))?
                            }
                        };
                        current_ext = value.to_vec();
                    }
                    entry.group = group;
                }
            }
            let ids: &[u32] = self.groups.get(usize_of(group)).map(|g| &g[..]).unwrap_or(&[0]);
            if let Some(&first) = ids.first().filter(|&&id| id != 0) {
                entry.certificate_issuer = self.issuers.get(usize_of(first)).cloned();
            }
            let pos = u32::try_from(entries.len()).map_err(|_| who.err("more than 4,294,967,295 entries"))?;
            for &id in ids {
                let h = self.hasher.hash_one((id, entry.serial.as_bytes()));
                let duplicate = match map.entry(h) {
                    std::collections::hash_map::Entry::Vacant(v) => {
                        // No overflow entry can carry `h` while its map slot is vacant.
                        v.insert(pos);
                        false
                    }
                    std::collections::hash_map::Entry::Occupied(o) => {
                        let same = |p: u32| {
                            entries.get(usize_of(p)).is_some_and(|e| {
                                e.serial == entry.serial
                                    && self.groups.get(usize_of(e.group)).is_some_and(|g| g.contains(&id))
                            })
                        };
                        let dup = same(*o.get()) || overflow.iter().any(|&(k, p)| k == h && same(p));
                        if !dup {
                            overflow.push((h, pos));
                        }
                        dup
                    }
                };
                if duplicate {
                    let issuer_name = self
                        .issuers
                        .get(usize_of(id))
                        .map(|n| n.to_string())
                        .unwrap_or_default();
                    return Err(who.err(format!(
                        "duplicate entries for serial {} of certificate issuer '{issuer_name}'",
                        entry.serial.to_hex()
                    )));
                }
            }
            entries.push(entry);
            n = n.saturating_add(1);
        }
        self.entries = entries;
        self.map = map;
        self.overflow = overflow;
        Ok(())
    }

    /// SHA-256 of the DER: the identity for caches.
    pub fn fingerprint(&self) -> [u8; 32] {
        *self.fingerprint.get_or_init(|| fingerprint(&self.der))
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
        self.lookup_by_issuer_key(cert_issuer.key(), serial)
    }

    /// Like [`CrlIndex::lookup`], with the issuer given by its name key (`Name::key`).
    pub fn lookup_by_issuer_key(&self, issuer_key: &[u8], serial: &[u8]) -> Option<&RevokedEntry> {
        let id = *self.issuer_ids.get(issuer_key)?;
        self.lookup_id(id, SerialKey::from_integer_bytes(serial).as_bytes())
    }

    /// The entry for a serial already in key form (as [`RevokedEntry::serial`]).
    pub(crate) fn lookup_key(&self, issuer_key: &[u8], serial: &SerialKey) -> Option<&RevokedEntry> {
        let id = *self.issuer_ids.get(issuer_key)?;
        self.lookup_id(id, serial.as_bytes())
    }

    /// Every entry for this serial, whatever its certificate issuer (at most one per issuer;
    /// O(number of issuers)).
    pub fn lookup_any_issuer(&self, serial: &[u8]) -> Vec<&RevokedEntry> {
        let key = SerialKey::from_integer_bytes(serial);
        let mut out: Vec<&RevokedEntry> = Vec::new();
        for id in 0..u32::try_from(self.issuers.len()).unwrap_or(u32::MAX) {
            if let Some(e) = self.lookup_id(id, key.as_bytes()) {
                if !out.iter().any(|x| std::ptr::eq(*x, e)) {
                    out.push(e);
                }
            }
        }
        out
    }

    fn lookup_id(&self, id: u32, serial: &[u8]) -> Option<&RevokedEntry> {
        let h = self.hasher.hash_one((id, serial));
        let pos = find(&self.map, &self.overflow, &self.entries, &self.groups, h, id, serial)?;
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
        let scheme = SignatureScheme::from_algorithm_identifier(&self.signature_algorithm).map_err(|e| CrlError {
            code: crypto_code(&e),
            reason: format!("{}: {e}", self.describe()),
        })?;
        scheme
            .verify(signer_key, self.tbs(), self.signature(), legacy, min_rsa_bits)
            .map_err(|e| CrlError {
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

/// How many top-level TLVs `content` holds, stopping at the first malformed header (the
/// entry loop reports it). Only sizes allocations, so it never fails.
fn count_tlvs(content: &[u8]) -> usize {
    let mut rest = content;
    let mut n = 0usize;
    while let Ok((_, tail)) = asn1::strip_tlv(rest) {
        n = n.saturating_add(1);
        if tail.is_empty() {
            break;
        }
        rest = tail;
    }
    n
}

/// The entry extensions of one entry (RFC 5280 §5.3), read once from the raw SEQUENCE.
#[derive(Default)]
struct EntryExtensions<'a> {
    reason: Option<u32>,
    invalidity_date: Option<UnixTime>,
    hold_instruction: Option<HoldInstruction>,
    certificate_issuer: Option<&'a [u8]>,
}

/// A reason inside `asn1::parse` closures (which need `From<ParseError>`).
struct Msg(String);

impl From<asn1::ParseError> for Msg {
    fn from(e: asn1::ParseError) -> Msg {
        Msg(format!("extensions are {}", describe_parse_error(&e)))
    }
}

fn entry_extensions(content: &[u8]) -> Result<EntryExtensions<'_>, String> {
    let mut out = EntryExtensions::default();
    // The usual case, a lone non-critical reasonCode, matched by its exact DER.
    if let [0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01, code] = content {
        out.reason = Some(u32::from(*code));
        return Ok(out);
    }
    // Known extensions are tracked in a bit set; unknown ones (rare) in a vector.
    let mut seen_known: u8 = 0;
    let mut seen_other: Vec<&[u8]> = Vec::new();
    asn1::parse(content, |p| -> Result<(), Msg> {
        while !p.is_empty() {
            let ext = p
                .read_element::<asn::RawExtension<'_>>()
                .map_err(|e| Msg(format!("extension is {}", describe_parse_error(&e))))?;
            let id = ext.extn_id.full_data();
            let bit = match id {
                oid::REASON_CODE_DER => 1u8,
                oid::INVALIDITY_DATE_DER => 2,
                oid::HOLD_INSTRUCTION_CODE_DER => 4,
                oid::CERTIFICATE_ISSUER_DER => 8,
                _ => 0,
            };
            let dup = if bit != 0 {
                let d = seen_known & bit != 0;
                seen_known |= bit;
                d
            } else {
                let d = seen_other.contains(&id);
                seen_other.push(id);
                d
            };
            let v = ext.extn_value;
            match bit {
                1 => {
                    let code = asn1::parse_single::<asn1::Enumerated>(v)
                        .map_err(|e| Msg(format!("reasonCode is {}", describe_parse_error(&e))))?;
                    out.reason = Some(code.value());
                }
                2 => {
                    // GeneralizedTime (RFC 5280 §5.3.2); fractional seconds are tolerated
                    // and dropped: the date is advisory.
                    let t = asn1::parse_single::<asn1::GeneralizedTime>(v)
                        .map_err(|e| Msg(format!("invalidityDate is {}", describe_parse_error(&e))))?;
                    out.invalidity_date = Some(time::from_asn1(t.as_datetime()));
                }
                4 => {
                    let o = asn1::parse_single::<asn1::ObjectIdentifier>(v)
                        .map_err(|e| Msg(format!("holdInstructionCode is {}", describe_parse_error(&e))))?;
                    out.hold_instruction = Some(hold_instruction(&o));
                }
                8 => out.certificate_issuer = Some(v),
                _ => {
                    let o = asn1::parse_single::<asn1::ObjectIdentifier>(id)
                        .map_err(|e| Msg(format!("extension OID is {}", describe_parse_error(&e))))?;
                    if ext.critical {
                        // RFC 5280 §5.3: an unrecognised critical entry extension makes the
                        // CRL unusable.
                        return Err(Msg(format!("unknown critical CRL entry extension {o} (RFC 5280 §5.3)")));
                    }
                    if dup {
                        return Err(Msg(format!("has a duplicate extension {o} (RFC 5280 §5.3)")));
                    }
                }
            }
            if dup {
                let o = asn1::parse_single::<asn1::ObjectIdentifier>(id)
                    .map(|o| o.to_string())
                    .unwrap_or_default();
                return Err(Msg(format!("has a duplicate extension {o} (RFC 5280 §5.3)")));
            }
        }
        Ok(())
    })
    .map_err(|m| m.0)?;
    Ok(out)
}

/// A revocationDate (`Time`, RFC 5280 §5.1.2.6) in Unix seconds. The common DER UTCTime form
/// (`YYMMDDHHMMSSZ`) is decoded directly; anything else goes through the full `Time` parser,
/// which also produces the error.
fn entry_time(tlv: &asn1::Tlv<'_>) -> Result<UnixTime, String> {
    if tlv.tag() == <asn1::UtcTime as asn1::SimpleAsn1Readable<'_>>::TAG {
        if let Some(t) = utc_time_fast(tlv.data()) {
            return Ok(t);
        }
    }
    asn1::parse_single::<govsig_asn1::common::Time>(tlv.full_data())
        .map(|t| time::from_time(&t))
        .map_err(|e| format!("is {}", describe_parse_error(&e)))
}

/// DER UTCTime content with seconds and `Z` (RFC 5280 §4.1.2.5.1: YY >= 50 is 19YY), in
/// Unix seconds. `None` for anything else, left to the full parser. Written out rather than
/// going through `asn1::DateTime`: a large CRL has one date per entry, and this is the
/// hottest step of indexing it.
fn utc_time_fast(data: &[u8]) -> Option<UnixTime> {
    let d: &[u8; 13] = data.try_into().ok()?;
    if d[12] != b'Z' {
        return None;
    }
    let two = |i: usize| -> Option<i64> {
        let (a, b) = (d[i].wrapping_sub(b'0'), d[i + 1].wrapping_sub(b'0'));
        (a <= 9 && b <= 9).then(|| i64::from(a * 10 + b))
    };
    let yy = two(0)?;
    let (month, day, hour, minute, second) = (two(2)?, two(4)?, two(6)?, two(8)?, two(10)?);
    let year = if yy >= 50 { 1900 + yy } else { 2000 + yy };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day < 1 || day > days_in_month || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days from 1970-01-01 to a proleptic Gregorian date (the days_from_civil algorithm
/// published by Howard Hinnant; same formula as `crate::time`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Offset of `inner` inside `outer`, when it is a subslice of it.
fn offset_in(outer: &[u8], inner: &[u8]) -> Option<usize> {
    let (o, i) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
    (i >= o && i.saturating_add(inner.len()) <= o.saturating_add(outer.len())).then(|| i - o)
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
        HoldInstruction::Other
    }
}

/// Outcome code of a crypto failure on a CRL signature.
pub(crate) fn crypto_code(e: &crate::crypto::CryptoError) -> Code {
    Code::for_crypto_error(e, Code::CrlInvalid)
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
