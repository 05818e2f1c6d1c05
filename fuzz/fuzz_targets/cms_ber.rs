//! CMS SignedData through the BER normaliser: the same entry as `cms_signed_data`, seeded
//! with BER re-encodings of the test signatures (indefinite lengths, constructed OCTET
//! STRINGs; fuzz/seed.py), so the fuzzer starts inside the fallback path. Beyond "never
//! panics": what `decode` hands the DER parser is DER, and the outcome code for BER input is
//! the code for its normalised form (the normaliser must not change what is verified; the
//! reasons may differ, as they name the step that refused the input).
#![no_main]

use govsig_asn1::ber::{is_der_encoded, Limits};
use govsig_core::cms::signed_data;
use govsig_fuzz::{engine, CONTENT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(decoded) = signed_data::decode(data) else {
        return;
    };
    if decoded.was_ber {
        assert!(
            is_der_encoded(&decoded.der, &Limits::default()),
            "normalised CMS is not DER"
        );
    }
    let _ = signed_data::parse(&decoded.der);
    let from_input = engine(Vec::new()).verify(data, Some(CONTENT));
    assert_eq!(from_input.was_ber, decoded.was_ber);
    if decoded.was_ber {
        let from_der = engine(Vec::new()).verify(&decoded.der, Some(CONTENT));
        assert!(!from_der.was_ber);
        assert_eq!(
            from_input.code, from_der.code,
            "BER input and its DER form get different verdicts: {:?} / {:?}",
            from_input.reason, from_der.reason
        );
    }
});
