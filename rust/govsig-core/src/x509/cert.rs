//! A certificate parsed once into an owned, immutable view. In a batch, each distinct
//! certificate is parsed once and shared (`Arc<Certificate>`), interned (see `CertInterner`).

use std::sync::Arc;

use govsig_asn1::x509 as asn;
use govsig_asn1::x509::oid;

use crate::crypto::{CryptoError, DigestAlgorithm, KeyType, PublicKey};
use crate::time::{self, UnixTime};
use crate::x509::name::Name;

/// One extension, raw.
#[derive(Clone, Debug)]
pub struct RawExtension {
    pub oid: String,
    pub critical: bool,
    pub value: Vec<u8>,
}

/// basicConstraints (RFC 5280 §4.2.1.9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BasicConstraints {
    pub ca: bool,
    pub path_len: Option<u64>,
}

/// An X.509 certificate, parsed.
pub struct Certificate {
    der: Vec<u8>,
    tbs: std::ops::Range<usize>,
    pub fingerprint: [u8; 32],
    pub version: u8,
    /// Serial number content octets (two's complement, as encoded).
    pub serial: Vec<u8>,
    pub signature_algorithm: Vec<u8>,
    pub tbs_signature_algorithm: Vec<u8>,
    pub signature: Vec<u8>,
    /// The signature BIT STRING had no unused bits; otherwise no signature can verify.
    pub signature_octet_aligned: bool,
    pub issuer: Name,
    pub subject: Name,
    pub not_before: UnixTime,
    pub not_after: UnixTime,
    pub spki: Vec<u8>,
    /// The parsed key, or why it could not be parsed (reported when the key is used).
    pub public_key: Result<PublicKey, CryptoError>,
    pub extensions: Vec<RawExtension>,
    pub subject_key_id: Option<Vec<u8>>,
    pub authority_key_id: Option<Vec<u8>>,
    pub basic_constraints: Option<BasicConstraints>,
    /// keyUsage bits (bit 0 = digitalSignature), when the extension is present.
    pub key_usage: Option<u16>,
    /// extendedKeyUsage OIDs (dotted), when present.
    pub extended_key_usage: Option<Vec<String>>,
}

/// Why a certificate could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertError(pub String);

impl std::fmt::Display for CertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err(what: &str) -> impl FnOnce(asn1::ParseError) -> CertError + '_ {
    move |e| CertError(format!("{what}: {}", govsig_asn1::common::explain(&e)))
}

fn range_of(outer: &[u8], inner: &[u8]) -> std::ops::Range<usize> {
    let start = (inner.as_ptr() as usize).saturating_sub(outer.as_ptr() as usize);
    start..start + inner.len()
}

impl Certificate {
    /// Parses a DER certificate (strict DER, RFC 5280 §4.1).
    pub fn from_der(der: &[u8]) -> Result<Certificate, CertError> {
        let cert = asn1::parse_single::<asn::Certificate<'_>>(der).map_err(|e| {
            if crate::cms::input::is_content_info(der) {
                CertError(
                    "this is a PKCS#7/CMS ContentInfo (a signed document or a certs-only bundle), not a \
                     certificate"
                        .to_owned(),
                )
            } else {
                err("certificate is not DER")(e)
            }
        })?;
        let tbs_bytes = cert.tbs_cert.full_data();
        let tbs = asn1::parse_single::<asn::TbsCertificate<'_>>(tbs_bytes).map_err(err("TBSCertificate"))?;
        if tbs.version > 2 {
            return Err(CertError(format!(
                "unknown certificate version {}",
                u32::from(tbs.version) + 1
            )));
        }
        // RFC 5280 §4.1.1.2: the two signature algorithm fields must be identical.
        if tbs.signature_alg.full_data() != cert.signature_alg.full_data() {
            return Err(CertError(
                "signatureAlgorithm differs from TBSCertificate.signature (RFC 5280 §4.1.1.2)".into(),
            ));
        }
        let issuer = Name::from_der(tbs.issuer.full_data()).map_err(|e| CertError(format!("issuer: {}", e.0)))?;
        let subject = Name::from_der(tbs.subject.full_data()).map_err(|e| CertError(format!("subject: {}", e.0)))?;
        let spki = tbs.spki.full_data().to_vec();
        let mut c = Certificate {
            der: der.to_vec(),
            tbs: range_of(der, tbs_bytes),
            fingerprint: fingerprint(der),
            version: tbs.version,
            serial: tbs.serial.as_bytes().to_vec(),
            signature_algorithm: cert.signature_alg.full_data().to_vec(),
            tbs_signature_algorithm: tbs.signature_alg.full_data().to_vec(),
            signature: cert.signature.as_bytes().to_vec(),
            signature_octet_aligned: cert.signature.padding_bits() == 0,
            issuer,
            subject,
            not_before: time::from_time(&tbs.validity.not_before),
            not_after: time::from_time(&tbs.validity.not_after),
            public_key: PublicKey::from_spki(&spki),
            spki,
            extensions: Vec::new(),
            subject_key_id: None,
            authority_key_id: None,
            basic_constraints: None,
            key_usage: None,
            extended_key_usage: None,
        };
        if let Some(exts) = tbs.extensions {
            if tbs.version != 2 {
                return Err(CertError(
                    "extensions in a certificate that is not v3 (RFC 5280 §4.1.2.9)".into(),
                ));
            }
            for ext in exts {
                let oid_s = crate::oidtext::dotted(&ext.extn_id);
                if c.extensions.iter().any(|e| e.oid == oid_s) {
                    // RFC 5280 §4.2: at most one instance of a particular extension.
                    return Err(CertError(format!("duplicate extension {oid_s} (RFC 5280 §4.2)")));
                }
                c.parse_known_extension(&ext)?;
                c.extensions.push(RawExtension {
                    oid: oid_s,
                    critical: ext.critical,
                    value: ext.extn_value.to_vec(),
                });
            }
        }
        Ok(c)
    }

    fn parse_known_extension(&mut self, ext: &asn::Extension<'_>) -> Result<(), CertError> {
        let v = ext.extn_value;
        if ext.extn_id == oid::SUBJECT_KEY_IDENTIFIER {
            self.subject_key_id = Some(
                asn1::parse_single::<&[u8]>(v)
                    .map_err(err("subjectKeyIdentifier"))?
                    .to_vec(),
            );
        } else if ext.extn_id == oid::AUTHORITY_KEY_IDENTIFIER {
            let aki =
                asn1::parse_single::<asn::AuthorityKeyIdentifier<'_>>(v).map_err(err("authorityKeyIdentifier"))?;
            self.authority_key_id = aki.key_identifier.map(<[u8]>::to_vec);
        } else if ext.extn_id == oid::BASIC_CONSTRAINTS {
            let bc = asn1::parse_single::<asn::BasicConstraints>(v).map_err(err("basicConstraints"))?;
            self.basic_constraints = Some(BasicConstraints {
                ca: bc.ca,
                path_len: bc.path_length,
            });
        } else if ext.extn_id == oid::KEY_USAGE {
            let bits = asn1::parse_single::<asn1::BitString<'_>>(v).map_err(err("keyUsage"))?;
            let mut ku: u16 = 0;
            for i in 0..9usize {
                if bits.has_bit_set(i) {
                    ku |= 1 << i;
                }
            }
            self.key_usage = Some(ku);
        } else if ext.extn_id == oid::EXTENDED_KEY_USAGE {
            let eku = asn1::parse_single::<asn::ExtendedKeyUsage<'_>>(v).map_err(err("extendedKeyUsage"))?;
            self.extended_key_usage = Some(eku.map(|o| crate::oidtext::dotted(&o)).collect());
        }
        Ok(())
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The exact TBSCertificate bytes the signature covers.
    pub fn tbs(&self) -> &[u8] {
        self.der.get(self.tbs.clone()).unwrap_or(&[])
    }

    /// RFC 5280 §6.1: self-issued means subject and issuer names match.
    pub fn is_self_issued(&self) -> bool {
        self.subject.matches(&self.issuer)
    }

    pub fn is_ca(&self) -> bool {
        self.basic_constraints.map(|b| b.ca).unwrap_or(false)
    }

    pub fn has_key_usage(&self, bit: usize) -> bool {
        match self.key_usage {
            None => true,
            Some(ku) => bit < 16 && ku & (1 << bit) != 0,
        }
    }

    pub fn extension(&self, oid: &str) -> Option<&RawExtension> {
        self.extensions.iter().find(|e| e.oid == oid)
    }

    /// The URIs of this certificate's authorityInfoAccess id-ad-caIssuers (RFC 5280
    /// §4.2.2.1: "the certificates issued to the CA that issued the certificate"), in the
    /// certificate's order, at most 4 (a certificate cannot make a batch fetch without
    /// bound). An unreadable extension names none: the issuer is then simply not found.
    pub fn ca_issuers_urls(&self) -> Vec<String> {
        use govsig_asn1::ocsp::{oid::AD_CA_ISSUERS, AuthorityInfoAccess};
        let Some(ext) = self.extension("1.3.6.1.5.5.7.1.1") else {
            return Vec::new();
        };
        let Ok(aia) = asn1::parse_single::<AuthorityInfoAccess<'_>>(&ext.value) else {
            return Vec::new();
        };
        aia.filter(|ad| ad.access_method == AD_CA_ISSUERS)
            .filter_map(
                |ad| match asn1::parse_single::<asn::GeneralName<'_>>(ad.access_location.full_data()) {
                    Ok(asn::GeneralName::UniformResourceIdentifier(u)) => Some(u.as_str().to_owned()),
                    _ => None,
                },
            )
            .take(4)
            .collect()
    }

    /// Serial as lowercase hex of its content octets.
    pub fn serial_hex(&self) -> String {
        hex::encode(&self.serial)
    }

    /// `subject` plus serial, for reasons that must name a certificate unambiguously.
    pub fn describe(&self) -> String {
        format!("'{}' (serial {})", self.subject, self.serial_hex())
    }

    /// The key with DSA parameters inherited from the nearest issuer that has them
    /// (RFC 3279 §2.3.2, RFC 5280 §6.1.4 (k)); `issuers` yields candidate issuers by name.
    pub fn effective_key(&self, issuers: &dyn Fn(&Certificate) -> Option<CertRef>) -> Result<PublicKey, CryptoError> {
        // Only a DSA key can lack its parameters; the common case skips re-reading the SPKI.
        let parsed_non_dsa = matches!(&self.public_key, Ok(k) if k.key_type() != KeyType::Dsa);
        if parsed_non_dsa || !PublicKey::needs_inherited_dsa_params(&self.spki) {
            return self.public_key.clone();
        }
        let mut cur = issuers(self);
        // Bounded walk: inheritance chains longer than a path are not real.
        for _ in 0..16 {
            let Some(iss) = cur else { break };
            if let Ok(k) = &iss.public_key {
                if let Some(params) = k.dsa_params_der() {
                    return PublicKey::from_spki_with_inherited_dsa_params(&self.spki, &params);
                }
            }
            if !PublicKey::needs_inherited_dsa_params(&iss.spki) || iss.is_self_issued() {
                break;
            }
            cur = issuers(&iss);
        }
        self.public_key.clone()
    }

    /// Hash of the whole certificate with the given algorithm (ESS certHash, RFC 5035).
    /// SHA-256, what nearly every signing-certificate-v2 uses, is the fingerprint computed
    /// when the certificate was parsed: a batch whose documents all name one TSA certificate
    /// does not hash it again for each of them.
    pub fn hash_with(&self, alg: DigestAlgorithm) -> std::borrow::Cow<'_, [u8]> {
        match alg {
            DigestAlgorithm::Sha256 => std::borrow::Cow::Borrowed(&self.fingerprint),
            _ => std::borrow::Cow::Owned(alg.digest(&self.der)),
        }
    }
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.subject.to_string())
            .field("issuer", &self.issuer.to_string())
            .field("serial", &self.serial_hex())
            .finish()
    }
}

/// SHA-256 of a DER certificate: the identity caches key on (and its ESS certHash by SHA-256).
pub fn fingerprint(der: &[u8]) -> [u8; 32] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// A shared, parsed certificate.
pub type CertRef = Arc<Certificate>;
