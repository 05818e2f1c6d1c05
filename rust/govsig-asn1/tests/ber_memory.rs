//! The BER normaliser's memory is bounded by its input, whatever the input's shape: peak
//! heap during `normalise` (output included) is measured with a counting allocator on inputs
//! built to be worst cases (18 MB of two-octet elements: an earlier tree-building normaliser
//! took +412 MB on such an input before calling it malformed). The documented guarantee is
//! 8 octets per input octet. One test in this binary, so no other test's allocations count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use govsig_asn1::ber::{normalise, BerError, Limits};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(now, Ordering::SeqCst);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Peak extra heap while `f` runs, its result kept alive until measured.
fn peak_during<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let r = f();
    (PEAK.load(Ordering::SeqCst) - base, r)
}

const K: usize = 9_000_000;

fn wrapped(head: &[u8], child: &[u8], tail: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(head.len() + child.len() * K + tail.len() + 2);
    v.extend_from_slice(head);
    for _ in 0..K {
        v.extend_from_slice(child);
    }
    v.extend_from_slice(tail);
    v
}

#[test]
fn memory_stays_within_eight_octets_per_input_octet() {
    let limits = Limits::default();
    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        // Indefinite SEQUENCE of NULLs: nothing to remember per element.
        (
            "sequence of NULLs",
            wrapped(&[0x30, 0x80], &[0x05, 0x00], &[0, 0]),
            true,
        ),
        // Indefinite SEQUENCE of empty SEQUENCEs: a length per element.
        (
            "sequence of empty sequences",
            wrapped(&[0x30, 0x80], &[0x30, 0x00], &[0, 0]),
            true,
        ),
        // A SET out of order (the NULL sorts first): sorted with 4 octets per child.
        (
            "unsorted SET",
            wrapped(&[0x31, 0x80], &[0x30, 0x00], &[0x05, 0x00, 0, 0]),
            true,
        ),
        // A constructed OCTET STRING of empty segments.
        ("empty segments", wrapped(&[0x24, 0x80], &[0x04, 0x00], &[0, 0]), true),
        // Indefinite empty SEQUENCEs, four octets each.
        (
            "indefinite empties",
            wrapped(&[0x30, 0x80], &[0x30, 0x80, 0, 0], &[0, 0]),
            true,
        ),
        // Cut short: the end-of-contents is missing, found only at the end.
        ("truncated", wrapped(&[0x30, 0x80], &[0x30, 0x00], &[]), false),
    ];
    for (name, input, valid) in cases {
        let (peak, result) = peak_during(|| normalise(&input, &limits));
        let bound = 8 * input.len();
        eprintln!(
            "{name}: {} input octets, peak {} octets ({:.2} per input octet)",
            input.len(),
            peak,
            peak as f64 / input.len() as f64
        );
        assert!(peak <= bound, "{name}: peak {peak} > {bound}");
        match result {
            Ok(der) => {
                assert!(valid, "{name} normalised");
                // Same tag number (a constructed string becomes primitive).
                assert_eq!(der[0] & 0x1f, input[0] & 0x1f, "{name}");
                // Definite lengths cost at most a few octets more than indefinite ones.
                assert!(der.len() <= input.len() + 8, "{name}");
            }
            Err(e) => {
                assert!(!valid, "{name}: {e}");
                assert_eq!(e, BerError::Truncated { offset: 0 });
            }
        }
    }
}
