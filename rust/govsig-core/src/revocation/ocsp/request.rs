//! OCSP requests (RFC 6960 §4.1) and the CertID that names a certificate in them and in
//! responses; where to send them (authorityInfoAccess id-ad-ocsp, RFC 5280 §4.2.2.1).

use govsig_asn1::ocsp as asn;
use govsig_asn1::x509::{GeneralName, SubjectPublicKeyInfo};

use super::OcspError;
use crate::crypto::DigestAlgorithm;
use crate::x509::Certificate;

/// The bytes `issuerKeyHash` and `KeyHash` are computed over: the value of the
/// subjectPublicKey BIT STRING, without tag, length and unused-bits octet (RFC 6960 §4.1.1,
/// §4.2.1).
pub fn subject_public_key_bits(cert: &Certificate) -> Result<Vec<u8>, OcspError> {
    let spki = asn1::parse_single::<SubjectPublicKeyInfo<'_>>(&cert.spki)
        .map_err(|e| OcspError::invalid(format!("the public key of {} cannot be read: {e}", cert.describe())))?;
    Ok(spki.subject_public_key.as_bytes().to_vec())
}

/// A `CertID` (RFC 6960 §4.1.1), owned.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CertId {
    pub hash: DigestAlgorithm,
    /// Hash of the DER of the certificate's `issuer` field.
    pub issuer_name_hash: Vec<u8>,
    /// Hash of the issuer's subjectPublicKey bits.
    pub issuer_key_hash: Vec<u8>,
    /// Serial number content octets (two's complement, as in the certificate).
    pub serial: Vec<u8>,
}

impl CertId {
    /// The CertID of `cert` issued by `issuer`, hashed with `hash`.
    pub fn new(cert: &Certificate, issuer: &Certificate, hash: DigestAlgorithm) -> Result<CertId, OcspError> {
        Ok(CertId {
            hash,
            issuer_name_hash: hash.digest(cert.issuer.der()),
            issuer_key_hash: hash.digest(&subject_public_key_bits(issuer)?),
            serial: cert.serial.clone(),
        })
    }

    /// Whether a CertID received in a response names this certificate: same hash algorithm,
    /// both hashes and the serial equal. Each value is compared as received, so a
    /// responder cannot make one certificate's answer pass for another's.
    pub fn matches(
        &self,
        hash: DigestAlgorithm,
        issuer_name_hash: &[u8],
        issuer_key_hash: &[u8],
        serial: &[u8],
    ) -> bool {
        self.hash == hash
            && self.issuer_name_hash == issuer_name_hash
            && self.issuer_key_hash == issuer_key_hash
            && self.serial == serial
    }

    /// DER `CertID`; the hash AlgorithmIdentifier carries NULL parameters, as OpenSSL and
    /// pyca/cryptography write it (responders that compare CertIDs byte for byte expect it).
    pub fn to_der(&self) -> Result<Vec<u8>, OcspError> {
        let alg = self.hash.algorithm_identifier_der_with_null();
        asn1::write_single(&self.as_asn1(&alg)?)
            .map_err(|e| OcspError::invalid(format!("CertID cannot be encoded: {e}")))
    }

    fn as_asn1<'a>(&'a self, alg: &'a [u8]) -> Result<asn::CertId<'a>, OcspError> {
        Ok(asn::CertId {
            hash_algorithm: asn1::parse_single::<asn1::Tlv<'_>>(alg)
                .map_err(|e| OcspError::invalid(format!("hash AlgorithmIdentifier: {e}")))?,
            issuer_name_hash: &self.issuer_name_hash,
            issuer_key_hash: &self.issuer_key_hash,
            serial_number: asn1::BigInt::new(&self.serial)
                .ok_or_else(|| OcspError::invalid("the serial number is not a minimal INTEGER".into()))?,
        })
    }
}

/// Bounds of a nonce: RFC 8954 §2.1 gives SIZE(1..32) (responders MUST accept 32 octets).
pub const MAX_NONCE_LEN: usize = 32;

/// An unsigned OCSP request for one certificate.
pub struct OcspRequest;

impl OcspRequest {
    /// DER `OCSPRequest` (RFC 6960 §4.1.1) for `cert` issued by `issuer`, with the CertID
    /// hashed by `hash` (SHA-1 is what RFC 5019 §2.1.1 responders are required to accept;
    /// SHA-256 for those that accept it), and a nonce extension (RFC 8954) when given.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(
        cert: &Certificate,
        issuer: &Certificate,
        hash: DigestAlgorithm,
        nonce: Option<&[u8]>,
    ) -> Result<Vec<u8>, OcspError> {
        if let Some(n) = nonce {
            if n.is_empty() || n.len() > MAX_NONCE_LEN {
                return Err(OcspError::invalid(format!(
                    "a nonce must be 1 to {MAX_NONCE_LEN} octets (RFC 8954 §2.1), not {}",
                    n.len()
                )));
            }
        }
        if !cert.issuer.matches(&issuer.subject) {
            return Err(OcspError::invalid(format!(
                "{} was issued by '{}', not by {}",
                cert.describe(),
                cert.issuer,
                issuer.describe()
            )));
        }
        let id = CertId::new(cert, issuer, hash)?;
        let alg = hash.algorithm_identifier_der_with_null();
        let nonce_value = nonce
            .map(|n| asn1::write_single(&n))
            .transpose()
            .map_err(|e| OcspError::invalid(format!("nonce cannot be encoded: {e}")))?;
        let extensions = nonce_value.as_deref().map(|v| {
            asn1::SequenceOfWriter::new(vec![asn::ExtensionWrite {
                extn_id: govsig_asn1::ocsp::oid::NONCE,
                extn_value: v,
            }])
        });
        let req = asn::OcspRequestWrite {
            tbs_request: asn::TbsRequestWrite {
                request_list: asn1::SequenceOfWriter::new(vec![asn::RequestWrite {
                    req_cert: id.as_asn1(&alg)?,
                }]),
                request_extensions: extensions,
            },
        };
        asn1::write_single(&req).map_err(|e| OcspError::invalid(format!("OCSP request cannot be encoded: {e}")))
    }
}

/// The OCSP responder URIs of `cert`'s authorityInfoAccess (accessMethod id-ad-ocsp,
/// RFC 5280 §4.2.2.1), in the certificate's order. Locations that are not URIs are
/// skipped; an unreadable extension is an error (the caller reports it, it does not guess).
pub fn ocsp_urls(cert: &Certificate) -> Result<Vec<String>, OcspError> {
    let Some(ext) = cert.extension("1.3.6.1.5.5.7.1.1") else {
        return Ok(Vec::new());
    };
    let aia = asn1::parse_single::<asn::AuthorityInfoAccess<'_>>(&ext.value).map_err(|e| {
        OcspError::invalid(format!(
            "authorityInfoAccess of {} cannot be read: {e}",
            cert.describe()
        ))
    })?;
    let mut out = Vec::new();
    for ad in aia {
        if ad.access_method != asn::oid::AD_OCSP {
            continue;
        }
        let name = asn1::parse_single::<GeneralName<'_>>(ad.access_location.full_data()).map_err(|e| {
            OcspError::invalid(format!(
                "an accessLocation in authorityInfoAccess of {} cannot be read: {e}",
                cert.describe()
            ))
        })?;
        if let GeneralName::UniformResourceIdentifier(u) = name {
            out.push(u.as_str().to_owned());
        }
    }
    Ok(out)
}
