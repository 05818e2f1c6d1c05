//! PKCS#11 signing through cryptoki: tokens, sessions, keys, mechanisms.
//!
//! This is the only govsig crate near FFI. It loads a token vendor's PKCS#11 library, logs in
//! to a token, finds signing keys and their certificates, and signs from many threads through
//! a pool of sessions, returning signatures in the encodings CMS and X.509 expect.
//!
//! It builds on govsig-core (never the other way): the signature schemes and digests are the
//! core's [`SignScheme`] and [`DigestAlgorithm`], the DER it writes goes through the core's
//! writer, and [`TokenKey`] is a token key as the core's CMS `Signer`.
//!
//! ```no_run
//! use govsig_pkcs11::{DigestAlgorithm, KeySelector, Module, Pin, SignScheme, TokenSelector};
//! # fn main() -> Result<(), govsig_pkcs11::Pkcs11Error> {
//! let module = Module::load("/usr/lib/softhsm/libsofthsm2.so")?;
//! let token = module.open_token(TokenSelector::Label("official".into()), Pin::new("1234".into()))?;
//! let signer = token.signer(KeySelector::Label("signing".into()), 4)?;
//! let signature = signer.sign(SignScheme::RsaPkcs1(DigestAlgorithm::Sha256), b"signed attributes DER")?;
//! # let _ = signature; Ok(()) }
//! ```
#![deny(missing_docs)]

mod cms;
mod der;
mod error;
mod module;
mod pin;
mod signer;
mod token;

pub use cms::TokenKey;
pub use error::{rv_name, Pkcs11Error};
pub use govsig_core::cms::sign::SignScheme;
pub use govsig_core::crypto::DigestAlgorithm;
pub use module::{Module, TokenFlags, TokenInfo, TokenSelector};
pub use pin::Pin;
pub use signer::{OfferedMechanism, TokenSigner};
pub use token::{EcCurve, KeyInfo, KeyKind, KeySelector, Token};

/// The signer is shared by worker threads; the token and module are handed between them.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<TokenSigner>();
    assert_send_sync::<Token>();
    assert_send_sync::<Module>();
};
