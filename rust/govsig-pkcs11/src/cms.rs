//! A token key as the core's CMS [`Signer`]: the token signs what `CmsSigner` hands it (the
//! DER of the signed attributes), with the scheme the core picked.

use std::sync::Arc;

use govsig_core::cms::sign::{SignError, SignScheme, Signer};
use govsig_core::crypto::KeyType;

use crate::error::Pkcs11Error;
use crate::signer::TokenSigner;
use crate::token::{EcCurve, KeyKind};

/// A private key on a token together with its certificate, ready for `CmsSigner::new`.
pub struct TokenKey {
    signer: TokenSigner,
    certificate: Vec<u8>,
    key_type: KeyType,
}

impl TokenKey {
    /// The signer's key must be one govsig signs with (RSA, EC P-256/384/521, Ed25519) and
    /// have a certificate (found on the token or given with `TokenSigner::with_certificate`).
    pub fn new(signer: TokenSigner) -> Result<TokenKey, Pkcs11Error> {
        let key = signer.key();
        let key_type = match &key.key_type {
            KeyKind::Rsa { .. } => KeyType::Rsa,
            KeyKind::Ec { curve: EcCurve::P256 } => KeyType::EcP256,
            KeyKind::Ec { curve: EcCurve::P384 } => KeyType::EcP384,
            KeyKind::Ec { curve: EcCurve::P521 } => KeyType::EcP521,
            KeyKind::Ed25519 => KeyType::Ed25519,
            KeyKind::Unsupported { description } => {
                return Err(Pkcs11Error::MechanismNotSupported {
                    mechanism: description.clone(),
                    reason: "govsig signs with RSA, EC P-256/P-384/P-521 and Ed25519 keys only".to_owned(),
                    offered: Vec::new(),
                    ckr: None,
                })
            }
        };
        let certificate = match signer.certificate_der() {
            Some(c) => c.to_vec(),
            None => {
                return Err(Pkcs11Error::CertificateNotFound {
                    key: if key.label.is_empty() {
                        "the key".to_owned()
                    } else {
                        format!("key {:?}", key.label)
                    },
                })
            }
        };
        Ok(TokenKey {
            signer,
            certificate,
            key_type,
        })
    }

    /// The token signer underneath (key information, mechanisms, session pool).
    pub fn token_signer(&self) -> &TokenSigner {
        &self.signer
    }
}

impl Signer for TokenKey {
    fn key_type(&self) -> KeyType {
        self.key_type
    }

    fn certificate_der(&self) -> &[u8] {
        &self.certificate
    }

    fn sign(&self, scheme: SignScheme, message: &[u8]) -> Result<Vec<u8>, SignError> {
        self.signer
            .sign(scheme, message)
            .map_err(|e| SignError::Signer(Arc::new(e)))
    }
}
