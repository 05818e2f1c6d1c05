//! Fuzzes the BER -> DER normaliser. Beyond "never panics", each run checks the contract the
//! DER parser relies on: the output is DER, normalising it again changes nothing, and
//! `is_der_encoded` accepts exactly the inputs that come back unchanged.
//!
//! With cargo-fuzz (nightly): `cargo fuzz run ber_normalise` from this directory.
//! On stable, without cargo-fuzz: build with the coverage flags cargo-fuzz would pass (no
//! sanitizer), naming the target so the flags skip build scripts and proc macros:
//! ```sh
//! T=$(rustc -vV | sed -n 's/host: //p')
//! RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
//!   -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
//!   -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks" \
//!   cargo build --release --target $T
//! mkdir -p corpus artifacts
//! ./target/$T/release/ber_normalise corpus -max_total_time=300 -artifact_prefix=artifacts/
//! ```
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
    assert_eq!(
        is_der_encoded(data, &limits),
        out.as_ref() == Ok(&data.to_vec())
    );
    if let Ok(der) = out {
        assert!(is_der_encoded(&der, &limits), "output is not DER");
        assert_eq!(
            normalise(&der, &limits).as_ref(),
            Ok(&der),
            "not idempotent"
        );
    }
});
