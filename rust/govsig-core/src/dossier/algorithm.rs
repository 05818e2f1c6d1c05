//! The digest algorithms a dossier can use, named as BagIt names them (RFC 8493 §2.4:
//! lowercase, no punctuation, as in `manifest-sha256.txt`).

use aws_lc_rs::digest;

use super::error::DossierError;

/// A dossier's digest algorithm: for the payload files, the manifest and the Merkle tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlgorithm {
    /// Every supported algorithm, strongest last.
    pub const ALL: [HashAlgorithm; 3] = [Self::Sha256, Self::Sha384, Self::Sha512];

    /// The BagIt name (`sha256`), also used in proofs and in the bag-info root label.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// Accepts the BagIt name, case-insensitively, with or without a hyphen (`SHA-256`).
    pub fn from_name(name: &str) -> Result<Self, DossierError> {
        let folded: String = name
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .flat_map(char::to_lowercase)
            .collect();
        Self::ALL
            .into_iter()
            .find(|a| a.name() == folded)
            .ok_or_else(|| DossierError::UnknownAlgorithm { name: name.to_owned() })
    }

    /// Digest length in bytes.
    pub fn output_len(self) -> usize {
        self.aws().output_len()
    }

    /// The one-byte code used in the binary proof encoding.
    pub fn code(self) -> u8 {
        match self {
            Self::Sha256 => 1,
            Self::Sha384 => 2,
            Self::Sha512 => 3,
        }
    }

    /// Inverse of [`HashAlgorithm::code`].
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }

    /// One-shot digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        digest::digest(self.aws(), data).as_ref().to_vec()
    }

    pub(crate) fn aws(self) -> &'static digest::Algorithm {
        match self {
            Self::Sha256 => &digest::SHA256,
            Self::Sha384 => &digest::SHA384,
            Self::Sha512 => &digest::SHA512,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_aliases() {
        for a in HashAlgorithm::ALL {
            assert_eq!(HashAlgorithm::from_name(a.name()), Ok(a));
            assert_eq!(HashAlgorithm::from_code(a.code()), Some(a));
        }
        assert_eq!(HashAlgorithm::from_name("SHA-384"), Ok(HashAlgorithm::Sha384));
        assert!(matches!(
            HashAlgorithm::from_name("md5"),
            Err(DossierError::UnknownAlgorithm { .. })
        ));
        assert_eq!(HashAlgorithm::Sha512.output_len(), 64);
    }

    #[test]
    fn empty_string_digest_is_the_fips_value() {
        // FIPS 180-4 / RFC 9162 §2.1.1: MTH({}) = SHA-256("").
        assert_eq!(
            hex::encode(HashAlgorithm::Sha256.digest(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
