//! BagIt tag files (bagit.txt, bag-info.txt; RFC 8493 §2.2.2): `parse_tag_file`, and the
//! round trip a bag writer relies on: fields that `tag_file_bytes` accepts read back as
//! the same fields.
//!
//! Seeds: tag files govsig writes, and the continuation-line and line-ending forms other
//! tools write (fuzz/seed.py).
#![no_main]

use govsig_core::dossier::{parse_tag_file, tag_file_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(fields) = parse_tag_file(data) else {
        return;
    };
    if let Ok(bytes) = tag_file_bytes(&fields) {
        let again = parse_tag_file(&bytes).expect("what govsig writes, it reads");
        assert_eq!(again, fields, "tag file fields change through a write and a read");
    }
});
