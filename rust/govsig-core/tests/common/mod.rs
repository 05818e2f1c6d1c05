//! What the integration tests share: where the conformance corpus lives.

use std::path::PathBuf;

/// The conformance corpus copied into the repository (`tests/conformance/`: NIST PKITS and
/// Wycheproof, sources and licences in its README). Missing data fails the test; it never
/// skips, and nothing outside the checkout is read.
pub fn conformance_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance");
    assert!(
        dir.join("pkits").is_dir() && dir.join("wycheproof").is_dir(),
        "conformance corpus missing at {}: it ships with the repository (tests/conformance)",
        dir.display()
    );
    dir
}
