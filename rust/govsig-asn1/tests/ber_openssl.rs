//! The normaliser against real BER: OpenSSL's streaming CMS output (indefinite lengths,
//! constructed OCTET STRING content), checked by OpenSSL parsing and verifying the result.
//! The openssl CLI is required; these tests fail, not skip, without it.

use std::path::{Path, PathBuf};
use std::process::Command;

use govsig_asn1::ber::{is_der_encoded, normalise, BerError, Limits};

/// A scratch directory removed when the test ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!("govsig-ber-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create scratch directory");
        Scratch(dir)
    }

    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }

    fn read(&self, file: &str) -> Vec<u8> {
        std::fs::read(self.path(file)).unwrap_or_else(|e| panic!("read {file}: {e}"))
    }

    fn write(&self, file: &str, bytes: &[u8]) {
        std::fs::write(self.path(file), bytes).unwrap_or_else(|e| panic!("write {file}: {e}"));
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the openssl CLI in `dir`, failing the test with its stderr when it fails.
fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("the openssl CLI is required by this test but could not be run: {e}"));
    assert!(
        out.status.success(),
        "openssl {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A signer key and self-signed certificate, and a 10,000-octet content whose streaming
/// signature spans several OCTET STRING segments (OpenSSL streams in 4096-octet chunks).
fn signer(s: &Scratch) -> Vec<u8> {
    openssl(
        &s.0,
        &[
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=t", "-days", "1", "-keyout", "key.pem",
            "-out", "cert.pem",
        ],
    );
    let content: Vec<u8> = (0..10_000u32).map(|i| (i.wrapping_mul(31) % 251) as u8).collect();
    s.write("content.bin", &content);
    content
}

fn sign(s: &Scratch, out: &str, stream: bool) {
    let mut args = vec![
        "cms",
        "-sign",
        "-nodetach",
        "-binary",
        "-outform",
        "DER",
        "-in",
        "content.bin",
        "-signer",
        "cert.pem",
        "-inkey",
        "key.pem",
        "-out",
        out,
    ];
    if stream {
        args.push("-stream");
    }
    openssl(&s.0, &args);
}

#[test]
fn streamed_cms_normalises_to_der_that_openssl_parses_and_verifies() {
    let s = Scratch::new("stream");
    let content = signer(&s);
    sign(&s, "ber.der", true);
    let ber = s.read("ber.der");
    let limits = Limits::default();
    // OpenSSL streaming really produced BER: an indefinite-length outer SEQUENCE.
    assert_eq!(
        &ber[..2],
        &[0x30, 0x80],
        "expected indefinite-length BER from openssl -stream"
    );
    assert!(!is_der_encoded(&ber, &limits));

    let der = normalise(&ber, &limits).expect("OpenSSL's streaming BER normalises");
    assert!(is_der_encoded(&der, &limits), "normalised output must be DER");
    assert_eq!(normalise(&der, &limits), Ok(der.clone()), "DER is a fixed point");
    assert!(der.len() < ber.len(), "EOC octets and segment headers are gone");
    // The eContent is one primitive OCTET STRING now: the content appears contiguously.
    assert!(der.windows(content.len()).any(|w| w == content.as_slice()));

    s.write("norm.der", &der);
    openssl(&s.0, &["asn1parse", "-inform", "DER", "-in", "norm.der"]);
    openssl(
        &s.0,
        &[
            "cms", "-cmsout", "-inform", "DER", "-in", "norm.der", "-outform", "DER", "-out", "re.der",
        ],
    );
    // OpenSSL's own DER encoding of what it parsed is byte-identical to ours.
    assert_eq!(
        s.read("re.der"),
        der,
        "openssl re-encodes the normalised CMS differently"
    );
    // The signature still verifies: it is over the DER SET OF signed attributes (RFC 5652 §5.4).
    openssl(
        &s.0,
        &[
            "cms", "-verify", "-binary", "-inform", "DER", "-in", "norm.der", "-CAfile", "cert.pem", "-out", "out.bin",
        ],
    );
    assert_eq!(s.read("out.bin"), content);
}

#[test]
fn streamed_cms_cut_at_every_offset_is_truncated() {
    let s = Scratch::new("cut");
    signer(&s);
    sign(&s, "ber.der", true);
    let ber = s.read("ber.der");
    let limits = Limits::default();
    for cut in 0..ber.len() {
        let prefix = &ber[..cut];
        match normalise(prefix, &limits) {
            Err(BerError::Truncated { .. }) => {}
            other => panic!("prefix of {cut} octets: expected Truncated, got {other:?}"),
        }
        assert!(!is_der_encoded(prefix, &limits), "prefix of {cut} octets");
    }
    assert!(normalise(&ber, &limits).is_ok());
}

#[test]
fn der_from_openssl_comes_back_unchanged() {
    let s = Scratch::new("der");
    signer(&s);
    // A multi-valued RDN puts a SET OF with two elements into the certificate.
    openssl(
        &s.0,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=t+O=govsig+C=VN/OU=x",
            "-days",
            "1",
            "-keyout",
            "k2.pem",
            "-outform",
            "DER",
            "-out",
            "multi.der",
        ],
    );
    openssl(
        &s.0,
        &["x509", "-in", "cert.pem", "-outform", "DER", "-out", "cert.der"],
    );
    sign(&s, "signed.der", false);
    let limits = Limits::default();
    for file in ["multi.der", "cert.der", "signed.der"] {
        let der = s.read(file);
        assert!(is_der_encoded(&der, &limits), "{file} from openssl should be DER");
        assert_eq!(
            normalise(&der, &limits).as_ref(),
            Ok(&der),
            "{file} must come back unchanged"
        );
    }
}

#[test]
fn streamed_enveloped_data_keeps_implicit_constructed_content() {
    // EnvelopedData streams encryptedContent as [0] IMPLICIT OCTET STRING, constructed. The
    // tag does not say it is a string, so it stays constructed (with definite lengths), and
    // OpenSSL, which reads BER, still decrypts it.
    let s = Scratch::new("env");
    let content = signer(&s);
    openssl(
        &s.0,
        &[
            "cms",
            "-encrypt",
            "-stream",
            "-binary",
            "-aes-128-cbc",
            "-outform",
            "DER",
            "-in",
            "content.bin",
            "-out",
            "env.der",
            "cert.pem",
        ],
    );
    let ber = s.read("env.der");
    let limits = Limits::default();
    let der = normalise(&ber, &limits).expect("streamed EnvelopedData normalises");
    assert!(is_der_encoded(&der, &limits));
    assert_eq!(
        &ber[..2],
        &[0x30, 0x80],
        "expected indefinite-length BER from openssl -stream"
    );
    assert_ne!(der, ber);
    s.write("env-norm.der", &der);
    openssl(
        &s.0,
        &[
            "cms",
            "-decrypt",
            "-binary",
            "-inform",
            "DER",
            "-in",
            "env-norm.der",
            "-inkey",
            "key.pem",
            "-out",
            "dec.bin",
        ],
    );
    assert_eq!(s.read("dec.bin"), content);
}
