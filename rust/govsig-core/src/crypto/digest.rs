//! Message digests named by CMS / X.509 AlgorithmIdentifiers (RFC 5754 §2).

use aws_lc_rs::digest as lc;

use super::der;
use super::CryptoError;

/// A hash function usable in signatures and CMS `digestAlgorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    /// SHA-1: legacy only (collision attacks, SHAttered 2017).
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    /// SHA3-256 (FIPS 202; RFC 9688 in CMS). Circular 15/2025/TT-BKHCN admits SHA-3.
    Sha3_256,
    Sha3_384,
    Sha3_512,
}

/// Every digest, in the order "unsupported" messages list them.
pub(crate) const ALL_DIGESTS: [DigestAlgorithm; 8] = [
    DigestAlgorithm::Sha1,
    DigestAlgorithm::Sha224,
    DigestAlgorithm::Sha256,
    DigestAlgorithm::Sha384,
    DigestAlgorithm::Sha512,
    DigestAlgorithm::Sha3_256,
    DigestAlgorithm::Sha3_384,
    DigestAlgorithm::Sha3_512,
];

/// id-sha3-224 (NIST CSOR hashAlgs 7, 2.16.840.1.101.3.4.2.7): recognised so that it is
/// refused by name. aws-lc-rs, the crypto backend, has no SHA3-224.
pub(crate) const SHA3_224_OID: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x07];

/// The refusal of SHA3-224, wherever it appears (alone or inside a signature algorithm).
pub(crate) fn sha3_224_unsupported(context: &str) -> CryptoError {
    CryptoError::UnsupportedAlgorithm(format!(
        "{context}sha3-224 (2.16.840.1.101.3.4.2.7) is not supported: the crypto backend (aws-lc-rs) \
         does not provide SHA3-224; supported digests: {}",
        supported_digest_names()
    ))
}

/// Digest algorithms with practical collisions (RFC 6150 on MD4, RFC 6151 on MD5; MD2,
/// RFC 6149): never admitted, under any policy.
const BROKEN_DIGEST_OIDS: &[(&str, &str)] = &[
    ("1.2.840.113549.2.2", "md2"),
    ("1.2.840.113549.2.4", "md4"),
    ("1.2.840.113549.2.5", "md5"),
];

impl DigestAlgorithm {
    /// Parses a hash AlgorithmIdentifier (full TLV). RFC 5754 §2: parameters may be absent or
    /// NULL, and both must be accepted; anything else is refused.
    pub fn from_algorithm_identifier(der: &[u8]) -> Result<Self, CryptoError> {
        let (oid, params) = der::parse_algorithm_identifier(der)?;
        if oid.as_der() == SHA3_224_OID {
            return Err(sha3_224_unsupported(""));
        }
        // Matched on the OID's content octets: formatting it dotted is for error messages
        // only (it cost a string per document on the bulk path).
        let alg = ALL_DIGESTS
            .into_iter()
            .find(|d| d.oid_der() == oid.as_der())
            .ok_or_else(|| {
                let dotted = oid.to_string();
                // Broken hashes are refused by policy whatever the policy, and said so (as
                // their signature algorithms are): "not allowed", never "unsupported".
                if let Some(name) = BROKEN_DIGEST_OIDS.iter().find(|(o, _)| *o == dotted).map(|(_, n)| n) {
                    return CryptoError::LegacyNotAllowed(format!(
                        "{name} ({dotted}) is a broken hash and is never allowed, even with legacy=True"
                    ));
                }
                CryptoError::UnsupportedAlgorithm(format!(
                    "digest algorithm {dotted}{} is not supported; supported: {}",
                    der::oid_name_suffix(&dotted),
                    supported_digest_names()
                ))
            })?;
        match params {
            None => Ok(alg),
            Some(p) if p == der::NULL => Ok(alg),
            Some(_) => Err(CryptoError::UnsupportedAlgorithm(format!(
                "digest algorithm {} ({}) has parameters other than absent or NULL \
                 (RFC 5754 §2 allows only those)",
                alg.name(),
                alg.oid_dotted()
            ))),
        }
    }

    /// Content octets of the OID (no tag, no length).
    fn oid_der(&self) -> &'static [u8] {
        match self {
            Self::Sha1 => &[0x2b, 0x0e, 0x03, 0x02, 0x1a],
            Self::Sha224 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04],
            Self::Sha256 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01],
            Self::Sha384 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02],
            Self::Sha512 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03],
            Self::Sha3_256 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x08],
            Self::Sha3_384 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x09],
            Self::Sha3_512 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x0a],
        }
    }

    /// Looks a digest up by its dotted OID.
    pub fn from_oid_dotted(s: &str) -> Option<Self> {
        ALL_DIGESTS.into_iter().find(|d| d.oid_dotted() == s)
    }

    /// Looks a digest up by its report name ("sha256"), as callers of the API spell it.
    pub fn from_name(s: &str) -> Option<Self> {
        ALL_DIGESTS.into_iter().find(|d| d.name() == s)
    }

    /// Lower-case name as used in reports: "sha256".
    pub fn name(&self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Sha224 => "sha224",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
            Self::Sha3_256 => "sha3-256",
            Self::Sha3_384 => "sha3-384",
            Self::Sha3_512 => "sha3-512",
        }
    }

    /// Dotted OID (RFC 3279 for SHA-1, RFC 5754 / NIST CSOR hashAlgs for SHA-2 and SHA-3).
    pub fn oid_dotted(&self) -> &'static str {
        match self {
            Self::Sha1 => "1.3.14.3.2.26",
            Self::Sha224 => "2.16.840.1.101.3.4.2.4",
            Self::Sha256 => "2.16.840.1.101.3.4.2.1",
            Self::Sha384 => "2.16.840.1.101.3.4.2.2",
            Self::Sha512 => "2.16.840.1.101.3.4.2.3",
            Self::Sha3_256 => "2.16.840.1.101.3.4.2.8",
            Self::Sha3_384 => "2.16.840.1.101.3.4.2.9",
            Self::Sha3_512 => "2.16.840.1.101.3.4.2.10",
        }
    }

    /// Digest length in bytes.
    pub fn output_len(&self) -> usize {
        self.lc().output_len()
    }

    /// SHA-1 is legacy: chosen-prefix collisions are practical (Shambles, 2020).
    pub fn is_legacy(&self) -> bool {
        matches!(self, Self::Sha1)
    }

    /// One-shot digest of `data`.
    pub fn digest(&self, data: &[u8]) -> Vec<u8> {
        lc::digest(self.lc(), data).as_ref().to_vec()
    }

    /// Incremental hashing (aws-lc; uses SHA-NI / ARMv8 SHA extensions where present).
    pub fn hasher(&self) -> Hasher {
        Hasher {
            alg: *self,
            ctx: lc::Context::new(self.lc()),
        }
    }

    /// Canonical DER AlgorithmIdentifier with parameters absent (RFC 5754 §2: "SHOULD omit").
    pub fn algorithm_identifier_der(&self) -> Vec<u8> {
        der::algorithm_identifier(self.oid_der_body(), None)
    }

    /// The AlgorithmIdentifier with NULL parameters, as in PKCS#1 DigestInfo and RFC 4055.
    pub(crate) fn algorithm_identifier_der_with_null(&self) -> Vec<u8> {
        der::algorithm_identifier(self.oid_der_body(), Some(der::NULL))
    }

    /// DER DigestInfo (RFC 8017 §9.2 step 2, NULL parameters) of a hash made with this
    /// algorithm: what EMSA-PKCS1-v1_5 pads, and what a token's raw CKM_RSA_PKCS signs.
    pub fn digest_info(&self, hash: &[u8]) -> Vec<u8> {
        let mut out = self.digest_info_prefix();
        out.extend_from_slice(hash);
        out
    }

    /// The DigestInfo octets that precede the hash (RFC 8017 §9.2 note 1).
    pub(crate) fn digest_info_prefix(&self) -> Vec<u8> {
        let mut inner = self.algorithm_identifier_der_with_null();
        let hash_len = self.output_len();
        inner.push(0x04);
        der::push_len(&mut inner, hash_len);
        let mut out = vec![0x30];
        der::push_len(&mut out, inner.len() + hash_len);
        out.extend_from_slice(&inner);
        out
    }

    pub(crate) fn lc(&self) -> &'static lc::Algorithm {
        match self {
            Self::Sha1 => &lc::SHA1_FOR_LEGACY_USE_ONLY,
            Self::Sha224 => &lc::SHA224,
            Self::Sha256 => &lc::SHA256,
            Self::Sha384 => &lc::SHA384,
            Self::Sha512 => &lc::SHA512,
            Self::Sha3_256 => &lc::SHA3_256,
            Self::Sha3_384 => &lc::SHA3_384,
            Self::Sha3_512 => &lc::SHA3_512,
        }
    }

    /// The OID's content octets (no tag/length), for building DER.
    pub(crate) fn oid_der_body(&self) -> &'static [u8] {
        self.oid_der()
    }
}

pub(crate) fn supported_digest_names() -> String {
    ALL_DIGESTS.iter().map(|d| d.name()).collect::<Vec<_>>().join(", ")
}

/// Incremental hash state; `finish` consumes it.
#[derive(Clone)]
pub struct Hasher {
    alg: DigestAlgorithm,
    ctx: lc::Context,
}

impl Hasher {
    /// Feeds more data.
    pub fn update(&mut self, data: &[u8]) {
        self.ctx.update(data);
    }

    /// Finishes and returns the digest.
    pub fn finish(self) -> Vec<u8> {
        self.ctx.finish().as_ref().to_vec()
    }

    /// Which algorithm this hasher computes.
    pub fn algorithm(&self) -> DigestAlgorithm {
        self.alg
    }
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hasher({})", self.algorithm().name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oid_content_octets_match_the_dotted_form() {
        for d in ALL_DIGESTS {
            let oid = asn1::ObjectIdentifier::from_string(d.oid_dotted()).expect("valid OID");
            assert_eq!(oid.as_der(), d.oid_der(), "{}", d.name());
            for params in [None, Some(der::NULL)] {
                let id = der::algorithm_identifier(d.oid_der(), params);
                assert_eq!(DigestAlgorithm::from_algorithm_identifier(&id).expect("known"), d);
            }
        }
    }
}
