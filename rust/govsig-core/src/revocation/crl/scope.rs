//! Distribution points, CRL scope (RFC 5280 §6.3.3 (b)-(d)), delta CRLs and status.

use govsig_asn1::crl as asn;
use govsig_asn1::x509::{key_usage, GeneralName};

use super::{CrlError, CrlIndex, ReasonMask, RevokedEntry, ScopeMismatch};
use crate::outcome::Code;
use crate::x509::{Certificate, Name};

/// One `GeneralName` of a distribution point or issuer field. Directory names compare by
/// RFC 5280 §7.1 (through `Name::matches`); URIs and every other form by exact encoding.
#[derive(Clone, Debug)]
pub enum GeneralNameValue {
    Directory(Name),
    Uri(String),
    /// Any other form, as its full DER TLV.
    Other(Vec<u8>),
}

impl PartialEq for GeneralNameValue {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (GeneralNameValue::Directory(a), GeneralNameValue::Directory(b)) => a.matches(b),
            (GeneralNameValue::Uri(a), GeneralNameValue::Uri(b)) => a == b,
            (GeneralNameValue::Other(a), GeneralNameValue::Other(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for GeneralNameValue {}

impl std::fmt::Display for GeneralNameValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GeneralNameValue::Directory(n) => write!(f, "DirName:{n}"),
            GeneralNameValue::Uri(u) => write!(f, "URI:{u}"),
            GeneralNameValue::Other(d) => write!(f, "#{}", hex::encode(d)),
        }
    }
}

/// `DistributionPointName` (RFC 5280 §4.2.1.13).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DistributionPointName {
    FullName(Vec<GeneralNameValue>),
    /// nameRelativeToCRLIssuer: the RDN, as a DER SET, to append to a base name.
    RelativeToIssuer(Vec<u8>),
}

impl DistributionPointName {
    /// The full names: a relative name is appended to `base` (the CRL issuer for an IDP;
    /// the cRLIssuer, else the certificate issuer, for a certificate's DP).
    pub fn resolve(&self, base: &Name) -> Result<Vec<GeneralNameValue>, String> {
        match self {
            DistributionPointName::FullName(names) => Ok(names.clone()),
            DistributionPointName::RelativeToIssuer(rdn) => {
                let base_tlv = asn1::parse_single::<asn1::Tlv<'_>>(base.der())
                    .map_err(|e| format!("base name is not DER: {}", govsig_asn1::common::explain(&e)))?;
                let mut content = base_tlv.data().to_vec();
                content.extend_from_slice(rdn);
                let mut der = vec![0x30];
                crate::crypto::der::push_len(&mut der, content.len());
                der.extend_from_slice(&content);
                let name = Name::from_der(&der).map_err(|e| format!("nameRelativeToCRLIssuer: {}", e.0))?;
                Ok(vec![GeneralNameValue::Directory(name)])
            }
        }
    }

    fn from_asn1(n: &asn::DistributionPointName<'_>) -> Result<DistributionPointName, String> {
        Ok(match n {
            asn::DistributionPointName::FullName(names) => {
                let v = convert_general_names(names.clone())?;
                if v.is_empty() {
                    return Err("fullName is an empty GeneralNames (SIZE (1..MAX))".into());
                }
                DistributionPointName::FullName(v)
            }
            asn::DistributionPointName::NameRelativeToCrlIssuer(set) => {
                let mut der = vec![0x31];
                crate::crypto::der::push_len(&mut der, set.content().len());
                der.extend_from_slice(set.content());
                DistributionPointName::RelativeToIssuer(der)
            }
        })
    }
}

/// `DistributionPoint` (RFC 5280 §4.2.1.13), from cRLDistributionPoints or freshestCRL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistributionPoint {
    pub name: Option<DistributionPointName>,
    pub reasons: Option<ReasonMask>,
    pub crl_issuer: Option<Vec<GeneralNameValue>>,
}

impl DistributionPoint {
    /// URIs of the fullName, where a fetcher can get the CRL.
    pub fn uris(&self) -> Vec<&str> {
        match &self.name {
            Some(DistributionPointName::FullName(names)) => names
                .iter()
                .filter_map(|n| match n {
                    GeneralNameValue::Uri(u) => Some(u.as_str()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The directory names of cRLIssuer.
    fn crl_issuer_dns(&self) -> impl Iterator<Item = &Name> {
        self.crl_issuer.iter().flatten().filter_map(|g| match g {
            GeneralNameValue::Directory(n) => Some(n),
            _ => None,
        })
    }
}

/// `IssuingDistributionPoint` (RFC 5280 §5.2.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuingDistributionPoint {
    pub distribution_point: Option<DistributionPointName>,
    pub only_contains_user_certs: bool,
    pub only_contains_ca_certs: bool,
    pub only_some_reasons: Option<ReasonMask>,
    pub indirect_crl: bool,
    pub only_contains_attribute_certs: bool,
}

impl IssuingDistributionPoint {
    pub(crate) fn from_asn1(i: &asn::IssuingDistributionPoint<'_>) -> Result<IssuingDistributionPoint, String> {
        let only = [
            i.only_contains_user_certs,
            i.only_contains_ca_certs,
            i.only_contains_attribute_certs,
        ];
        if only.iter().filter(|b| **b).count() > 1 {
            return Err("more than one of onlyContainsUserCerts, onlyContainsCACerts and \
                        onlyContainsAttributeCerts is set (RFC 5280 §5.2.5)"
                .into());
        }
        let out = IssuingDistributionPoint {
            distribution_point: i
                .distribution_point
                .as_ref()
                .map(DistributionPointName::from_asn1)
                .transpose()?,
            only_contains_user_certs: i.only_contains_user_certs,
            only_contains_ca_certs: i.only_contains_ca_certs,
            only_some_reasons: i.only_some_reasons.as_ref().map(ReasonMask::from_bit_string),
            indirect_crl: i.indirect_crl,
            only_contains_attribute_certs: i.only_contains_attribute_certs,
        };
        if out.distribution_point.is_none()
            && !out.indirect_crl
            && out.only_some_reasons.is_none()
            && !only.contains(&true)
        {
            return Err("empty sequence (RFC 5280 §5.2.5: conforming CRL issuers MUST NOT issue it)".into());
        }
        Ok(out)
    }
}

/// Parses a DER `GeneralNames`.
pub(crate) fn parse_general_names(der: &[u8]) -> Result<Vec<GeneralNameValue>, String> {
    let seq = asn1::parse_single::<asn::GeneralNames<'_>>(der)
        .map_err(|e| format!("GeneralNames is not DER: {}", govsig_asn1::common::explain(&e)))?;
    convert_general_names(seq)
}

fn convert_general_names(seq: asn::GeneralNames<'_>) -> Result<Vec<GeneralNameValue>, String> {
    let mut out = Vec::new();
    for tlv in seq {
        let g = asn::general_name(&tlv)
            .map_err(|e| format!("GeneralName is not DER: {}", govsig_asn1::common::explain(&e)))?;
        out.push(match g {
            GeneralName::DirectoryName(inner) => GeneralNameValue::Directory(
                Name::from_der(inner.full_data()).map_err(|e| format!("directoryName: {}", e.0))?,
            ),
            GeneralName::UniformResourceIdentifier(u) => GeneralNameValue::Uri(u.as_str().to_owned()),
            _ => GeneralNameValue::Other(tlv.full_data().to_vec()),
        });
    }
    Ok(out)
}

pub(crate) fn convert_dps(dps: asn::CrlDistributionPoints<'_>) -> Result<Vec<DistributionPoint>, String> {
    let mut out = Vec::new();
    for dp in dps {
        let converted = DistributionPoint {
            name: dp
                .distribution_point
                .as_ref()
                .map(DistributionPointName::from_asn1)
                .transpose()?,
            reasons: dp.reasons.as_ref().map(ReasonMask::from_bit_string),
            crl_issuer: dp.crl_issuer.map(convert_general_names).transpose()?,
        };
        // RFC 5280 §4.2.1.13: a DistributionPoint MUST NOT consist of only the reasons field.
        if converted.name.is_none() && converted.crl_issuer.is_none() {
            return Err("a DistributionPoint has neither distributionPoint nor cRLIssuer (RFC 5280 §4.2.1.13)".into());
        }
        out.push(converted);
    }
    Ok(out)
}

/// The certificate's cRLDistributionPoints (RFC 5280 §4.2.1.13); empty when absent.
/// A malformed extension is cert_malformed, naming the certificate.
pub fn distribution_points(cert: &Certificate) -> Result<Vec<DistributionPoint>, CrlError> {
    let Some(ext) = cert.extension("2.5.29.31") else {
        return Ok(Vec::new());
    };
    let fail = |m: String| CrlError {
        code: Code::CertMalformed,
        reason: format!("cRLDistributionPoints of {}: {m}", cert.describe()),
    };
    let dps =
        asn1::parse_single::<asn::CrlDistributionPoints<'_>>(&ext.value).map_err(|e| fail(format!("not DER: {e}")))?;
    convert_dps(dps).map_err(fail)
}

fn names_intersect(a: &[GeneralNameValue], b: &[GeneralNameValue]) -> bool {
    a.iter().any(|x| b.iter().any(|y| x == y))
}

impl CrlIndex {
    /// RFC 5280 §6.3.3 (b) and (d) for one distribution point of `cert` (`None` when the
    /// certificate has no cRLDistributionPoints: then the CRL must be the certificate
    /// issuer's and must not be restricted to a named distribution point). Returns the
    /// interim reasons mask: the reasons for which this CRL can vouch.
    pub fn scope_for(&self, cert: &Certificate, dp: Option<&DistributionPoint>) -> Result<ReasonMask, ScopeMismatch> {
        if self.is_delta() {
            return Err(ScopeMismatch(format!(
                "{} is a delta CRL: it applies only on top of a complete CRL (RFC 5280 §5.2.4)",
                self.describe()
            )));
        }
        let idp = self.issuing_distribution_point.as_ref();
        // (b)(1)
        match dp.filter(|d| d.crl_issuer.is_some()) {
            Some(d) => {
                if !d.crl_issuer_dns().any(|n| n.matches(&self.issuer)) {
                    return Err(ScopeMismatch(format!(
                        "{} is not from the cRLIssuer named by the distribution point of {}",
                        self.describe(),
                        cert.describe()
                    )));
                }
                // Deliberate deviation from the letter of §6.3.3 (b)(1), as OpenSSL does:
                // a cRLIssuer that is the certificate's own issuer names a direct CRL. Public
                // CAs in Vietnam (BKAV, Viettel, FastCA, VNPT SmartCA) publish exactly this
                // shape, with no indirectCRL flag; read to the letter their CRLs never
                // match, and under soft-fail a revoked certificate would pass.
                let direct = self.issuer.matches(&cert.issuer);
                if !self.is_indirect() && !direct {
                    return Err(ScopeMismatch(format!(
                        "the distribution point of {} names a cRLIssuer but {} is not an indirect CRL \
                         (RFC 5280 §6.3.3 (b)(1))",
                        cert.describe(),
                        self.describe()
                    )));
                }
            }
            None => {
                if !self.issuer.matches(&cert.issuer) {
                    return Err(ScopeMismatch(format!(
                        "{} is not from the issuer '{}' of {}",
                        self.describe(),
                        cert.issuer,
                        cert.describe()
                    )));
                }
            }
        }
        // (b)(2)
        if let Some(idp) = idp {
            if let Some(idp_name) = &idp.distribution_point {
                let idp_names = idp_name.resolve(&self.issuer).map_err(ScopeMismatch)?;
                let matched = match dp {
                    Some(d) => match &d.name {
                        Some(dp_name) => {
                            let base = d.crl_issuer_dns().next().unwrap_or(&cert.issuer);
                            let dp_names = dp_name.resolve(base).map_err(ScopeMismatch)?;
                            names_intersect(&idp_names, &dp_names)
                        }
                        None => names_intersect(&idp_names, d.crl_issuer.as_deref().unwrap_or(&[])),
                    },
                    None => false,
                };
                if !matched {
                    return Err(ScopeMismatch(format!(
                        "the issuingDistributionPoint of {} ({}) does not match any distribution point of {} \
                         (RFC 5280 §6.3.3 (b)(2)(i))",
                        self.describe(),
                        idp_names.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", "),
                        cert.describe()
                    )));
                }
            }
            let is_ca = cert.is_ca();
            if idp.only_contains_user_certs && is_ca {
                return Err(ScopeMismatch(format!(
                    "{} covers only end-entity certificates and {} is a CA (RFC 5280 §6.3.3 (b)(2)(ii))",
                    self.describe(),
                    cert.describe()
                )));
            }
            if idp.only_contains_ca_certs && !is_ca {
                return Err(ScopeMismatch(format!(
                    "{} covers only CA certificates and {} is not a CA (RFC 5280 §6.3.3 (b)(2)(iii))",
                    self.describe(),
                    cert.describe()
                )));
            }
            if idp.only_contains_attribute_certs {
                return Err(ScopeMismatch(format!(
                    "{} covers only attribute certificates (RFC 5280 §6.3.3 (b)(2)(iv))",
                    self.describe()
                )));
            }
        }
        // (d)
        let idp_reasons = idp.and_then(|i| i.only_some_reasons);
        let dp_reasons = dp.and_then(|d| d.reasons);
        Ok(match (idp_reasons, dp_reasons) {
            (Some(a), Some(b)) => a.intersect(b),
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => ReasonMask::ALL,
        })
    }

    /// [`CrlIndex::scope_for`] over every distribution point of the certificate (as returned
    /// by [`distribution_points`]; empty when it has none): the union of the reasons masks of
    /// the points this CRL serves, or why it serves none.
    pub fn scope_covers(
        &self,
        cert: &Certificate,
        cert_dps: &[DistributionPoint],
    ) -> Result<ReasonMask, ScopeMismatch> {
        if cert_dps.is_empty() {
            return self.scope_for(cert, None);
        }
        let mut mask: Option<ReasonMask> = None;
        let mut why: Vec<String> = Vec::new();
        for dp in cert_dps {
            match self.scope_for(cert, Some(dp)) {
                Ok(m) => mask = Some(mask.unwrap_or(ReasonMask::NONE).union(m)),
                Err(e) => why.push(e.0),
            }
        }
        mask.ok_or_else(|| {
            why.dedup();
            ScopeMismatch(why.join("; "))
        })
    }

    /// RFC 5280 §6.3.3 (c) and §5.2.4: whether `self`, a delta CRL, may be applied on top of
    /// `complete`: same issuer, the same issuingDistributionPoint (or none on both), the same
    /// authority key identifier, the complete CRL's number at least the delta's BaseCRLNumber,
    /// and the delta newer than the complete CRL (an older delta replayed on a newer base
    /// could un-revoke a certificate through a stale removeFromCRL entry).
    pub fn delta_applies_to(&self, complete: &CrlIndex) -> Result<(), ScopeMismatch> {
        let fail = |m: &str| {
            Err(ScopeMismatch(format!(
                "{} cannot be applied to {}: {m}",
                self.describe(),
                complete.describe()
            )))
        };
        let Some(base) = &self.delta_crl_indicator else {
            return fail("it is not a delta CRL (no deltaCRLIndicator)");
        };
        if complete.is_delta() {
            return fail("the base is itself a delta CRL");
        }
        if !self.issuer.matches(&complete.issuer) {
            return fail("different issuers (RFC 5280 §5.2.4)");
        }
        if self.issuing_distribution_point != complete.issuing_distribution_point {
            return fail("issuingDistributionPoint differs (RFC 5280 §6.3.3 (c)(2)-(3))");
        }
        if self.authority_key_id != complete.authority_key_id {
            return fail("authorityKeyIdentifier differs (RFC 5280 §6.3.3 (c)(4))");
        }
        let Some(complete_number) = &complete.crl_number else {
            return fail("the complete CRL has no cRLNumber (RFC 5280 §5.2.4)");
        };
        if complete_number < base {
            return fail(&format!(
                "the complete CRL's number {complete_number} is below the BaseCRLNumber {base}"
            ));
        }
        match &self.crl_number {
            None => return fail("the delta CRL has no cRLNumber (RFC 5280 §5.2.4: MUST include it)"),
            Some(n) if n <= complete_number => {
                return fail(&format!(
                    "the delta's number {n} is not above the complete CRL's {complete_number}"
                ))
            }
            Some(_) => {}
        }
        Ok(())
    }

    /// Cheap pre-filter of CRL signer candidates: the subject is the CRL issuer and, when both
    /// identifiers are present, the CRL's authorityKeyIdentifier is the subjectKeyIdentifier.
    pub fn is_signer_candidate(&self, cert: &Certificate) -> bool {
        cert.subject.matches(&self.issuer)
            && match (&self.authority_key_id, &cert.subject_key_id) {
                (Some(a), Some(s)) => a == s,
                _ => true,
            }
    }

    /// RFC 5280 §6.3.3 (f): the CRL signer certificate's name is the CRL issuer and, when it
    /// has keyUsage, cRLSign is set. The signer's own path (which may differ from the
    /// certificate's issuer: indirect CRLs, separate CRL keys) is the caller's to validate.
    pub fn check_signer(&self, signer: &Certificate) -> Result<(), CrlError> {
        if !signer.subject.matches(&self.issuer) {
            return Err(CrlError::invalid(format!(
                "{} cannot be signed by {}: the subject is not the CRL issuer",
                self.describe(),
                signer.describe()
            )));
        }
        if !signer.has_key_usage(key_usage::CRL_SIGN) {
            return Err(CrlError::invalid(format!(
                "{} cannot be signed by {}: its keyUsage lacks cRLSign (RFC 5280 §6.3.3 (f))",
                self.describe(),
                signer.describe()
            )));
        }
        Ok(())
    }

    /// [`CrlIndex::check_signer`] then [`CrlIndex::verify_signature`] with the signer's key.
    pub fn verify_signed_by(&self, signer: &Certificate, legacy: bool, min_rsa_bits: usize) -> Result<(), CrlError> {
        self.check_signer(signer)?;
        let key = signer.public_key.as_ref().map_err(|e| CrlError {
            code: super::index::crypto_code(e),
            reason: format!("cannot use the key of CRL signer {}: {e}", signer.describe()),
        })?;
        self.verify_signature(key, legacy, min_rsa_bits)
    }
}

/// RFC 5280 §6.3.3 (g)-(i): the entry that revokes the certificate, or `None` when it is not
/// revoked by these CRLs. The delta CRL, when given, is consulted first and must apply to
/// `complete` ([`CrlIndex::delta_applies_to`]); a removeFromCRL entry (in either) means not
/// revoked; a certificateHold entry is returned (the certificate is on hold: revoked for now).
pub fn revocation_status<'a>(
    complete: &'a CrlIndex,
    delta: Option<&'a CrlIndex>,
    cert_issuer: &Name,
    serial: &[u8],
) -> Result<Option<&'a RevokedEntry>, ScopeMismatch> {
    if let Some(d) = delta {
        d.delta_applies_to(complete)?;
        if let Some(e) = d.lookup(cert_issuer, serial) {
            return Ok(if e.is_removal() { None } else { Some(e) });
        }
    }
    Ok(complete.lookup(cert_issuer, serial).filter(|e| !e.is_removal()))
}
