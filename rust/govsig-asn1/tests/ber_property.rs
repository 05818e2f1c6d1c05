//! Property test: for random ASN.1 trees, every randomly chosen BER encoding normalises to the
//! tree's DER encoding, and random corruptions never panic and keep the normaliser's contract.
//! A hand-rolled seeded generator keeps the suite deterministic and dependency-free.

use govsig_asn1::ber::{is_der_encoded, normalise, Limits};

/// SplitMix64: small, seedable, good enough to drive a generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0; the modulo bias is irrelevant here).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// An abstract value; `der` gives its one DER encoding, `ber` one of its many BER encodings.
#[derive(Debug, Clone)]
enum Tree {
    /// Any primitive element whose contents DER leaves alone.
    Primitive { ident: Vec<u8>, contents: Vec<u8> },
    /// BOOLEAN: any non-zero octet is TRUE.
    Boolean(u8),
    /// BIT STRING: `unused` padding bits at the end of `data` (random in BER).
    BitString { unused: u8, data: Vec<u8> },
    /// OCTET STRING or a character/time string with universal tag `tag`.
    String { tag: u8, data: Vec<u8> },
    /// SEQUENCE, SET, or a constructed context/application/private element.
    Constructed {
        ident: Vec<u8>,
        set: bool,
        children: Vec<Tree>,
    },
}

fn gen_tree(rng: &mut Rng, depth: usize) -> Tree {
    let leaf = depth == 0 || rng.chance(45);
    if leaf {
        return match rng.below(5) {
            0 => Tree::Boolean(rng.next() as u8),
            1 => {
                let n = rng.below(6);
                let mut data = rng.bytes(n);
                let unused = if data.is_empty() { 0 } else { rng.below(8) as u8 };
                if let Some(last) = data.last_mut() {
                    *last &= 0xFF << unused;
                }
                Tree::BitString { unused, data }
            }
            2 => {
                let tag = [0x04, 0x0C, 0x13, 0x16, 0x17, 0x18, 0x1E][rng.below(7)];
                let len = if rng.chance(10) {
                    100 + rng.below(200)
                } else {
                    rng.below(8)
                };
                Tree::String {
                    tag,
                    data: rng.bytes(len),
                }
            }
            _ => {
                let ident = match rng.below(6) {
                    0 => vec![0x02], // INTEGER
                    1 => vec![0x06], // OBJECT IDENTIFIER
                    2 => vec![0x80 | rng.below(31) as u8],
                    3 => vec![0x9F, 0x1F + rng.below(0x60) as u8], // [31..127]
                    4 => vec![0xDF, 0x81, 0x80, rng.below(128) as u8], // private, 3-octet number
                    _ => vec![0x40 | rng.below(31) as u8],
                };
                let len = if rng.chance(5) {
                    128 + rng.below(300)
                } else {
                    rng.below(6)
                };
                Tree::Primitive {
                    ident,
                    contents: rng.bytes(len),
                }
            }
        };
    }
    let (ident, set) = match rng.below(6) {
        0 | 1 => (vec![0x30], false),
        2 => (vec![0x31], true),
        3 => (vec![0xA0 | rng.below(4) as u8], false),
        4 => (vec![0xBF, 0x81, 0x00], false), // [128]
        _ => (vec![0x61], false),
    };
    let n = rng.below(if set { 6 } else { 5 });
    let children = (0..n).map(|_| gen_tree(rng, depth - 1)).collect();
    Tree::Constructed { ident, set, children }
}

fn der_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let octets: Vec<u8> = len.to_be_bytes().iter().copied().skip_while(|&b| b == 0).collect();
        out.push(0x80 | octets.len() as u8);
        out.extend_from_slice(&octets);
    }
}

fn tlv(ident: &[u8], contents: &[u8]) -> Vec<u8> {
    let mut out = ident.to_vec();
    der_length(&mut out, contents.len());
    out.extend_from_slice(contents);
    out
}

fn der(t: &Tree) -> Vec<u8> {
    match t {
        Tree::Primitive { ident, contents } => tlv(ident, contents),
        Tree::Boolean(v) => tlv(&[0x01], &[if *v == 0 { 0x00 } else { 0xFF }]),
        Tree::BitString { unused, data } => {
            let mut c = vec![*unused];
            c.extend_from_slice(data);
            tlv(&[0x03], &c)
        }
        Tree::String { tag, data } => tlv(&[*tag], data),
        Tree::Constructed { ident, set, children } => {
            let mut encs: Vec<Vec<u8>> = children.iter().map(der).collect();
            if *set {
                // X.690 §11.6.
                encs.sort();
            }
            tlv(ident, &encs.concat())
        }
    }
}

/// Writes a header with a randomly chosen valid BER length form.
fn ber_header(rng: &mut Rng, ident: &[u8], len: usize, indefinite: bool) -> Vec<u8> {
    let mut out = ident.to_vec();
    if indefinite {
        out.push(0x80);
        return out;
    }
    if rng.chance(70) {
        der_length(&mut out, len);
    } else {
        // Long form with leading zero octets, up to the 8 octets the normaliser accepts.
        let needed = len.to_be_bytes().iter().skip_while(|&&b| b == 0).count();
        let n = needed.max(1) + rng.below(9 - needed.max(1));
        out.push(0x80 | n as u8);
        out.extend_from_slice(&(len as u64).to_be_bytes()[8 - n..]);
    }
    out
}

/// A constructed element: random definite or indefinite length around `contents`.
fn ber_constructed(rng: &mut Rng, ident: &[u8], contents: &[u8]) -> Vec<u8> {
    let indefinite = rng.chance(50);
    let mut out = ber_header(rng, ident, contents.len(), indefinite);
    out.extend_from_slice(contents);
    if indefinite {
        out.extend_from_slice(&[0, 0]);
    }
    out
}

fn ber_primitive(rng: &mut Rng, ident: &[u8], contents: &[u8]) -> Vec<u8> {
    let mut out = ber_header(rng, ident, contents.len(), false);
    out.extend_from_slice(contents);
    out
}

/// Splits `data` into segments, some of them grouped under nested constructed segments.
/// Each segment is encoded by `seg`; constructed groups use `cons_ident`.
fn segments(
    rng: &mut Rng,
    data: &[u8],
    depth: usize,
    cons_ident: u8,
    seg: &mut dyn FnMut(&mut Rng, &[u8]) -> Vec<u8>,
) -> Vec<u8> {
    let mut out = Vec::new();
    if data.is_empty() && rng.chance(30) {
        // Zero segments is a valid encoding of an empty string.
        return out;
    }
    let mut rest = data;
    loop {
        let take = if rest.is_empty() { 0 } else { rng.below(rest.len() + 1) };
        let (part, tail) = rest.split_at(take);
        if depth > 0 && rng.chance(25) {
            let inner = segments(rng, part, depth - 1, cons_ident, seg);
            out.extend(ber_constructed(rng, &[cons_ident], &inner));
        } else {
            out.extend(seg(rng, part));
        }
        rest = tail;
        if rest.is_empty() && (take > 0 || rng.chance(50)) {
            break;
        }
    }
    out
}

fn ber(rng: &mut Rng, t: &Tree) -> Vec<u8> {
    match t {
        Tree::Primitive { ident, contents } => ber_primitive(rng, ident, contents),
        Tree::Boolean(v) => ber_primitive(rng, &[0x01], &[*v]),
        Tree::BitString { unused, data } => {
            let garbage = rng.next() as u8;
            // BER leaves the padding bits' values open (X.690 §8.6.2.2).
            let mut padded = data.clone();
            if let Some(last) = padded.last_mut() {
                *last |= garbage & !(0xFFu8 << *unused);
            }
            if rng.chance(40) {
                let mut c = vec![*unused];
                c.extend_from_slice(&padded);
                return ber_primitive(rng, &[0x03], &c);
            }
            // Only the final segment carries the unused bits (X.690 §8.6.4); a segment with
            // unused bits must hold at least one octet, so the split keeps the last octet
            // in the final segment.
            let unused = *unused;
            let split = padded.len().saturating_sub(usize::from(unused != 0));
            let (head, tail) = padded.split_at(split);
            let mut body = segments(rng, head, 2, 0x23, &mut |rng, part| {
                let mut c = vec![0u8];
                c.extend_from_slice(part);
                ber_primitive(rng, &[0x03], &c)
            });
            if !tail.is_empty() || rng.chance(50) {
                let mut c = vec![unused];
                c.extend_from_slice(tail);
                body.extend(ber_primitive(rng, &[0x03], &c));
            }
            ber_constructed(rng, &[0x23], &body)
        }
        Tree::String { tag, data } => {
            if rng.chance(40) {
                return ber_primitive(rng, &[*tag], data);
            }
            let tag = *tag;
            // Segments are OCTET STRINGs (X.690 §8.23.5) or, as some encoders do, the outer type.
            let seg_tag = if tag != 0x04 && rng.chance(30) { tag } else { 0x04 };
            let body = segments(rng, data, 2, seg_tag | 0x20, &mut |rng, part| {
                ber_primitive(rng, &[seg_tag], part)
            });
            ber_constructed(rng, &[tag | 0x20], &body)
        }
        Tree::Constructed { ident, set, children } => {
            let mut encs: Vec<Vec<u8>> = children.iter().map(|c| ber(rng, c)).collect();
            if *set {
                // Any order is valid BER for a SET OF: shuffle.
                for i in (1..encs.len()).rev() {
                    encs.swap(i, rng.below(i + 1));
                }
            }
            ber_constructed(rng, ident, &encs.concat())
        }
    }
}

#[test]
fn random_ber_trees_normalise_to_their_der_encoding() {
    let limits = Limits::default();
    let mut rng = Rng(0x6f76_7369_6762_6572);
    let mut changed = 0usize;
    for case in 0..3000 {
        let tree = gen_tree(&mut rng, 1 + case % 6);
        let want = der(&tree);
        assert!(
            is_der_encoded(&want, &limits),
            "case {case}: generated DER {want:02x?} rejected"
        );
        assert_eq!(
            normalise(&want, &limits),
            Ok(want.clone()),
            "case {case}: DER not a fixed point"
        );
        for _ in 0..4 {
            let input = ber(&mut rng, &tree);
            assert_eq!(
                normalise(&input, &limits),
                Ok(want.clone()),
                "case {case}: BER {input:02x?} of tree {tree:?}"
            );
            assert_eq!(
                is_der_encoded(&input, &limits),
                input == want,
                "case {case}: {input:02x?}"
            );
            changed += usize::from(input != want);
        }
    }
    // The generator must actually exercise BER, not only DER.
    assert!(changed > 8_000, "only {changed} encodings differed from DER");
}

/// Corrupted encodings: no panic, and the two functions agree with each other: DER input is
/// exactly what comes back unchanged, and the output of a successful run is DER and stable.
#[test]
fn corrupted_encodings_keep_the_contract() {
    let limits = Limits::default();
    let mut rng = Rng(0x0b5e_55ed_c0de_0001);
    let mut accepted = 0usize;
    for case in 0..2000 {
        let tree = gen_tree(&mut rng, 1 + case % 5);
        let input = ber(&mut rng, &tree);
        for _ in 0..8 {
            let mut m = input.clone();
            match rng.below(4) {
                0 => {
                    let i = rng.below(m.len());
                    m[i] ^= 1 << rng.below(8);
                }
                1 => {
                    let i = rng.below(m.len());
                    m[i] = [0x00, 0x80, 0xFF, 0x1F, 0x30, 0x24][rng.below(6)];
                }
                2 => m.truncate(rng.below(m.len())),
                _ => {
                    let i = rng.below(m.len() + 1);
                    m.insert(i, rng.next() as u8);
                }
            }
            let out = normalise(&m, &limits);
            assert_eq!(
                is_der_encoded(&m, &limits),
                out.as_ref() == Ok(&m),
                "case {case}: {m:02x?}"
            );
            if let Ok(d) = out {
                accepted += 1;
                assert!(
                    is_der_encoded(&d, &limits),
                    "case {case}: output of {m:02x?} is not DER"
                );
                assert_eq!(normalise(&d, &limits).as_ref(), Ok(&d), "case {case}: not idempotent");
            }
        }
    }
    assert!(accepted > 1000, "only {accepted} corrupted inputs were still valid BER");
}
