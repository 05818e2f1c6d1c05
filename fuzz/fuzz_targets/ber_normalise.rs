//! Fuzzes the BER -> DER normaliser. Beyond "never panics", each run checks the contract the
//! DER parser relies on: the output is DER, normalising it again changes nothing, and
//! `is_der_encoded` accepts exactly the inputs that come back unchanged.
//!
//! Seeds: the test signatures, DER and BER (fuzz/seed.py). Running: fuzz/README.md.
#![no_main]

use govsig_asn1::ber::{is_der_encoded, normalise, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Small limits make the depth, element and size caps reachable by the fuzzer.
    let limits = Limits {
        max_depth: 16,
        max_output: 1 << 20,
        max_elements: 4096,
    };
    let out = normalise(data, &limits);
    assert_eq!(is_der_encoded(data, &limits), out.as_ref() == Ok(&data.to_vec()));
    if let Ok(der) = out {
        assert!(is_der_encoded(&der, &limits), "output is not DER");
        assert_eq!(normalise(&der, &limits).as_ref(), Ok(&der), "not idempotent");
    }
});
