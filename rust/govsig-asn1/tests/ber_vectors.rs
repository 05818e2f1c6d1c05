//! Hand-built vectors for each BER -> DER rule of `govsig_asn1::ber` (X.690 §8 vs §10/§11).

use govsig_asn1::ber::{is_der_encoded, normalise, BerError, Limits};

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let pairs = digits.chunks_exact(2);
    assert!(pairs.remainder().is_empty(), "odd hex in test vector {s:?}");
    pairs
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).expect("ascii"), 16).expect("hex"))
        .collect()
}

/// `ber` normalises to `der`, `der` is recognised as DER and is a fixed point.
fn converts(ber: &str, der: &str) {
    let (ber, der) = (hex(ber), hex(der));
    let limits = Limits::default();
    assert_eq!(normalise(&ber, &limits), Ok(der.clone()), "normalising {ber:02x?}");
    assert!(is_der_encoded(&der, &limits), "{der:02x?} should be DER");
    assert_eq!(normalise(&der, &limits), Ok(der.clone()), "DER must be a fixed point");
    assert_eq!(is_der_encoded(&ber, &limits), ber == der);
}

fn fails(ber: &str, err: BerError) {
    let ber = hex(ber);
    assert_eq!(normalise(&ber, &Limits::default()), Err(err), "normalising {ber:02x?}");
    assert!(!is_der_encoded(&ber, &Limits::default()));
}

#[test]
fn indefinite_length_becomes_definite() {
    converts("30 80 02 01 05 00 00", "30 03 02 01 05");
    converts("30 80 00 00", "30 00");
    // Context-specific constructed elements keep their form but get definite lengths.
    converts("A0 80 02 01 05 00 00", "A0 03 02 01 05");
}

#[test]
fn nested_indefinite_lengths() {
    converts(
        "30 80 30 80 02 01 01 00 00 04 00 A1 80 30 80 00 00 00 00 00 00",
        "30 0B 30 03 02 01 01 04 00 A1 02 30 00",
    );
    // Indefinite inside definite, whose length shrinks once the EOC octets go.
    converts("30 07 30 80 02 01 01 00 00", "30 05 30 03 02 01 01");
}

#[test]
fn long_form_lengths_become_minimal() {
    converts("30 84 00 00 00 04 02 81 01 05", "30 03 02 01 05");
    converts("04 82 00 00", "04 00");
    let body = "AB ".repeat(200);
    converts(&format!("04 83 00 00 C8 {body}"), &format!("04 81 C8 {body}"));
    let body = "CD ".repeat(300);
    converts(
        &format!("04 88 00 00 00 00 00 00 01 2C {body}"),
        &format!("04 82 01 2C {body}"),
    );
}

#[test]
fn constructed_octet_string_becomes_primitive() {
    converts("24 80 04 02 AA BB 04 01 CC 00 00", "04 03 AA BB CC");
    converts("24 07 04 02 AA BB 04 01 CC", "04 03 AA BB CC");
    converts("24 80 00 00", "04 00");
    converts("24 80 04 00 04 00 00 00", "04 00");
    // Segments may themselves be constructed (X.690 §8.7.3.2).
    converts(
        "24 80 24 80 04 01 AA 00 00 24 03 04 01 BB 04 01 CC 00 00",
        "04 03 AA BB CC",
    );
    // CMS eContent as OpenSSL streams it: [0] EXPLICIT OCTET STRING, both indefinite.
    converts("A0 80 24 80 04 02 68 69 00 00 00 00", "A0 04 04 02 68 69");
}

#[test]
fn constructed_bit_string_takes_last_segment_unused_bits() {
    converts("23 80 03 02 00 AA 03 02 04 B0 00 00", "03 03 04 AA B0");
    // The padding bits are zeroed (X.690 §11.2.1), here in the last segment.
    converts("23 80 03 02 00 AA 03 02 04 BF 00 00", "03 03 04 AA B0");
    converts("23 80 03 01 00 00 00", "03 01 00");
    converts("23 80 00 00", "03 01 00");
    converts("23 80 23 80 03 02 00 01 00 00 03 02 07 80 00 00", "03 03 07 01 80");
}

#[test]
fn primitive_bit_string_padding_is_zeroed() {
    converts("03 02 07 FF", "03 02 07 80");
    converts("03 02 00 FF", "03 02 00 FF");
}

#[test]
fn constructed_bit_string_rejects_bad_segments() {
    let m = |offset| BerError::MismatchedConstructedString { offset };
    // Unused bits in a segment that is not the last one (X.690 §8.6.4).
    fails("23 08 03 02 04 A0 03 02 00 BB", m(6));
    // More than 7 unused bits.
    fails("23 04 03 02 08 00", m(2));
    // A segment without its unused-bits octet.
    fails("23 02 03 00", m(2));
    // ... also when more input follows, which must not be read as its unused-bits octet
    // (found by fuzzing).
    fails("23 80 03 00 00 00", m(2));
    fails("23 80 03 00 03 01 00 00 00", m(2));
    // Unused bits in a segment holding no bits (X.690 §8.6.2.3).
    fails("23 03 03 01 03", m(2));
    // A segment of another type.
    fails("23 80 04 01 00 00 00", m(2));
}

#[test]
fn constructed_character_strings_and_times() {
    // X.690 §8.23.5: segments of a character string are OCTET STRINGs.
    converts("2C 80 04 02 68 69 04 01 21 00 00", "0C 03 68 69 21");
    // Segments carrying the outer type are accepted too.
    converts("33 80 13 02 41 42 00 00", "13 02 41 42");
    converts("3E 06 04 04 00 41 00 42", "1E 04 00 41 00 42");
    let utc = "32 35 30 31 30 31 30 30 30 30 30 30 5A";
    converts(
        &format!("37 80 04 06 {} 04 07 {} 00 00", &utc[..17], &utc[18..]),
        &format!("17 0D {utc}"),
    );
    let m = |offset| BerError::MismatchedConstructedString { offset };
    // Another string type, a context tag, or a BIT STRING inside an OCTET STRING.
    fails("2C 80 16 01 41 00 00", m(2));
    fails("24 80 80 01 41 00 00", m(2));
    fails("24 80 03 02 00 41 00 00", m(2));
    // OCTET STRING only takes OCTET STRING segments (X.690 §8.7.3.2).
    fails("24 03 0C 01 41", m(2));
}

#[test]
fn boolean_true_becomes_ff() {
    converts("01 01 01", "01 01 FF");
    converts("01 01 7F", "01 01 FF");
    converts("01 01 FF", "01 01 FF");
    converts("01 01 00", "01 01 00");
    converts("30 80 01 01 2A 00 00", "30 03 01 01 FF");
    // A BOOLEAN with a wrong length is left for the strict parser to reject.
    converts("01 02 00 01", "01 02 00 01");
}

#[test]
fn set_elements_are_sorted_by_der_encoding() {
    converts("31 09 02 01 03 02 01 01 02 01 02", "31 09 02 01 01 02 01 02 02 01 03");
    // Shorter encodings are not automatically first: the order is octet by octet.
    converts("31 80 04 02 00 00 04 01 FF 00 00", "31 07 04 01 FF 04 02 00 00");
    // Sorting uses the normalised encodings, not the BER ones.
    converts("31 07 04 01 BB 04 81 01 AA", "31 06 04 01 AA 04 01 BB");
    // Nested SETs: the inner one is sorted before it takes part in the outer sort.
    converts(
        "31 80 31 80 02 01 09 02 01 01 00 00 01 01 05 00 00",
        "31 0B 01 01 FF 31 06 02 01 01 02 01 09",
    );
    // An RDN-like SET OF inside a SEQUENCE, with a sibling after it.
    converts(
        "30 80 31 80 30 03 06 01 02 30 03 06 01 01 00 00 05 00 00 00",
        "30 0E 31 0A 30 03 06 01 01 30 03 06 01 02 05 00",
    );
    // Equal elements stay (there is nothing to tell them apart).
    converts("31 06 02 01 01 02 01 01", "31 06 02 01 01 02 01 01");
    // Context-specific tags do not say whether they are sets: never reordered.
    converts("A0 06 02 01 03 02 01 01", "A0 06 02 01 03 02 01 01");
}

#[test]
fn end_of_contents_handling() {
    let t = |offset| BerError::BadTag { offset };
    // EOC inside definite-length contents, at the top level, with contents, constructed.
    fails("30 02 00 00", t(2));
    fails("00 00", t(0));
    fails("30 80 00 01 00 00 00", t(2));
    fails("30 80 20 00 00 00", t(2));
    // A universal tag 0 with a long-form zero length is not an EOC either (X.690 §8.1.5).
    fails("30 80 00 81 00 00 00", t(2));
    // Extra EOC after the element closes is trailing data.
    fails("30 80 00 00 00 00", BerError::TrailingData { offset: 4 });
    // Unterminated at the end of the input, or at the end of a definite parent.
    fails("30 80 02 01 05", BerError::Truncated { offset: 0 });
    fails("30 80 30 80 02 01 05 00 00", BerError::Truncated { offset: 0 });
    fails("30 05 30 80 02 01 05", BerError::BadLength { offset: 2 });
}

#[test]
fn high_tag_numbers_stay_minimal() {
    converts("9F 1F 01 AA", "9F 1F 01 AA");
    converts("BF 81 00 80 02 01 05 00 00", "BF 81 00 03 02 01 05");
    converts("7F 8F FF FF FF 7F 80 00 00", "7F 8F FF FF FF 7F 00");
    converts("DF 2A 81 01 00", "DF 2A 01 00");
    let t = |offset| BerError::BadTag { offset };
    // A leading 0x80 group (non-minimal), the high form for a number below 31, more than
    // 32 bits of tag number, an identifier cut short.
    fails("9F 80 1F 01 AA", t(0));
    fails("9F 05 01 AA", t(0));
    fails("9F 90 80 80 80 00 00", t(0));
    fails("9F 81", BerError::Truncated { offset: 0 });
}

#[test]
fn forbidden_forms_are_rejected() {
    let t = |offset| BerError::BadTag { offset };
    fails("22 03 02 01 05", t(0)); // constructed INTEGER
    fails("21 03 01 01 FF", t(0)); // constructed BOOLEAN
    fails("30 04 26 02 06 00", t(2)); // constructed OID
    fails("10 00", t(0)); // primitive SEQUENCE
    fails("11 00", t(0)); // primitive SET
    fails("04 80 AA 00 00", BerError::IndefiniteOnPrimitive { offset: 0 });
    fails("30 80 02 80 00 00 00 00", BerError::IndefiniteOnPrimitive { offset: 2 });
}

#[test]
fn bad_lengths() {
    let b = |offset| BerError::BadLength { offset };
    fails("04 FF 00", b(0)); // reserved (X.690 §8.1.3.5 c)
    fails("04 89 00 00 00 00 00 00 00 00 01 AA", b(0)); // more than 8 length octets
    fails("04 84 FF FF FF FF 00", BerError::Truncated { offset: 0 });
    fails("04 88 FF FF FF FF FF FF FF FF", BerError::Truncated { offset: 0 });
    fails(
        "30 80 04 88 7F FF FF FF FF FF FF FF 00 00",
        BerError::Truncated { offset: 2 },
    );
    // A child longer than its definite parent.
    fails("30 06 04 84 00 00 00 09 AA AA AA AA AA AA AA AA AA", b(2));
    fails("30 03 02 02 01 01", b(2));
    fails("04 82 01", BerError::Truncated { offset: 0 });
    fails("30", BerError::Truncated { offset: 0 });
    fails("", BerError::Truncated { offset: 0 });
}

#[test]
fn exactly_one_element() {
    fails("02 01 05 FF", BerError::TrailingData { offset: 3 });
    fails("30 80 00 00 02 01 05", BerError::TrailingData { offset: 4 });
    fails("30 00 30 00", BerError::TrailingData { offset: 2 });
}

#[test]
fn limits_are_enforced() {
    let der = hex("30 06 02 01 01 02 01 02");
    let limits = |max_depth, max_output, max_elements| Limits {
        max_depth,
        max_output,
        max_elements,
    };
    assert_eq!(normalise(&der, &limits(64, 8, 3)), Ok(der.clone()));
    assert!(is_der_encoded(&der, &limits(64, 8, 3)));
    assert_eq!(normalise(&der, &limits(64, 7, 3)), Err(BerError::TooLarge { max: 7 }));
    assert!(!is_der_encoded(&der, &limits(64, 7, 3)));
    assert_eq!(
        normalise(&der, &limits(64, 8, 2)),
        Err(BerError::TooManyElements { max: 2 })
    );
    assert!(!is_der_encoded(&der, &limits(64, 8, 2)));
    assert_eq!(
        normalise(&der, &limits(0, 8, 3)),
        Err(BerError::TooDeep { offset: 0, max: 0 })
    );
    assert!(!is_der_encoded(&der, &limits(0, 8, 3)));
    let nested = hex("30 80 30 80 30 80 00 00 00 00 00 00");
    assert_eq!(
        normalise(&nested, &limits(2, 100, 100)),
        Err(BerError::TooDeep { offset: 4, max: 2 })
    );
    assert_eq!(normalise(&nested, &limits(3, 100, 100)), Ok(hex("30 04 30 02 30 00")));
    // String segments count as elements and nested segments count as depth.
    let segmented = hex("24 80 24 80 04 01 AA 00 00 00 00");
    assert_eq!(
        normalise(&segmented, &limits(1, 100, 100)),
        Err(BerError::TooDeep { offset: 2, max: 1 })
    );
    assert_eq!(
        normalise(&segmented, &limits(2, 100, 2)),
        Err(BerError::TooManyElements { max: 2 })
    );
    assert_eq!(normalise(&segmented, &limits(2, 100, 3)), Ok(hex("04 01 AA")));
}

#[test]
fn output_cap_counts_the_der_size_before_writing() {
    // A constructed OCTET STRING of 64 one-octet segments: 4 + 64*3 octets of BER, 66 of DER.
    let mut ber = hex("24 80");
    for i in 0..64u8 {
        ber.extend_from_slice(&[0x04, 0x01, i]);
    }
    ber.extend_from_slice(&[0, 0]);
    let limits = |max_output| Limits {
        max_output,
        ..Limits::default()
    };
    assert_eq!(normalise(&ber, &limits(65)), Err(BerError::TooLarge { max: 65 }));
    let der = normalise(&ber, &limits(66)).expect("fits exactly");
    assert_eq!(der.len(), 66);
    assert_eq!(&der[..2], &[0x04, 0x40]);
    assert_eq!(&der[2..], (0..64u8).collect::<Vec<_>>().as_slice());
}

#[test]
fn deep_nesting_never_overflows_the_stack() {
    let mut ber = Vec::new();
    for _ in 0..100_000 {
        ber.extend_from_slice(&[0x30, 0x80]);
    }
    let limits = Limits::default();
    assert_eq!(
        normalise(&ber, &limits),
        Err(BerError::TooDeep { offset: 128, max: 64 })
    );
    assert!(!is_der_encoded(&ber, &limits));
    // With the depth limit lifted the explicit stack still copes, and finds no EOCs.
    let unbounded = Limits {
        max_depth: usize::MAX,
        ..Limits::default()
    };
    assert_eq!(
        normalise(&ber, &unbounded),
        Err(BerError::Truncated { offset: 199_998 })
    );
    // Fully terminated, 100,000 deep, normalises without recursion.
    ber.extend_from_slice(&[0u8; 200_000]);
    let der = normalise(&ber, &unbounded).expect("well-formed deep input");
    assert!(is_der_encoded(&der, &unbounded));
    assert_eq!(normalise(&der, &unbounded), Ok(der.clone()));
    // The same DER nesting is still refused under the default limits.
    assert!(!is_der_encoded(&der, &limits));
}

#[test]
fn messages_name_the_offset() {
    let e = normalise(&hex("30 80 02 01 05"), &Limits::default()).expect_err("truncated");
    assert!(e.to_string().contains("byte 0"), "{e}");
    let e = normalise(&hex("30 03 02 01 05 AA"), &Limits::default()).expect_err("trailing");
    assert!(e.to_string().contains("byte 5"), "{e}");
    let e: Box<dyn std::error::Error> = Box::new(BerError::TooDeep { offset: 7, max: 64 });
    assert!(
        e.to_string().contains("byte 7")
            && e.to_string().contains("more than 64")
            && !e.to_string().contains("Limits::"),
        "{e}"
    );
}
