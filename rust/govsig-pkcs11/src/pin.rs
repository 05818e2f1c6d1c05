//! The user PIN: held only until `C_Login` has seen it.

use std::fmt;
use zeroize::Zeroizing;

/// A token user PIN.
///
/// The bytes are wiped when the value is dropped, and nothing in this crate formats them:
/// `Debug` prints `Pin(***)`, and there is no `Display`, `Clone` or accessor. PINs are bytes,
/// not text, because some tokens accept non-UTF-8 PINs (PKCS#11 v3.1 §5.6, `C_Login`).
pub struct Pin(Zeroizing<Vec<u8>>);

impl Pin {
    /// Take ownership of a PIN string; its buffer is wiped on drop.
    pub fn new(pin: String) -> Pin {
        Pin(Zeroizing::new(pin.into_bytes()))
    }

    /// Take ownership of PIN bytes; the buffer is wiped on drop.
    pub fn from_bytes(pin: Vec<u8>) -> Pin {
        Pin(Zeroizing::new(pin))
    }

    /// No PIN: for tokens whose PIN is entered on a PIN pad
    /// (`CKF_PROTECTED_AUTHENTICATION_PATH`), where `C_Login` gets a NULL PIN.
    pub fn protected_path() -> Pin {
        Pin(Zeroizing::new(Vec::new()))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A copy in the form cryptoki's `C_Login` wrapper takes; it is wiped when dropped too.
    pub(crate) fn to_auth(&self) -> cryptoki::types::RawAuthPin {
        cryptoki::types::RawAuthPin::new(Box::new(self.0.to_vec()))
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(***)")
    }
}

impl From<String> for Pin {
    fn from(pin: String) -> Pin {
        Pin::new(pin)
    }
}

impl From<&str> for Pin {
    fn from(pin: &str) -> Pin {
        Pin(Zeroizing::new(pin.as_bytes().to_vec()))
    }
}
