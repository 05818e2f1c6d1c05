//! SoftHSM2 fixtures: a token directory per test binary, tokens made with the SoftHSM and
//! OpenSC command-line tools, certificates made with the OpenSSL command line, and
//! signature verification with aws-lc-rs, so that nothing here relies on the crate under test.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub const USER_PIN: &str = "246813";
pub const SO_PIN: &str = "97531864";

/// The PKCS#11 module: `GOVSIG_PKCS11_MODULE`, else Debian's SoftHSM2 path. A missing module
/// fails the run, since skipping would report signing as tested when it was not.
pub fn module_path() -> PathBuf {
    let path = std::env::var_os("GOVSIG_PKCS11_MODULE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/lib/softhsm/libsofthsm2.so"));
    assert!(
        path.is_file(),
        "PKCS#11 module not found at {}: install softhsm2 (apt-get install softhsm2 opensc) or set GOVSIG_PKCS11_MODULE",
        path.display()
    );
    path
}

/// Run a tool and return stdout; fail with its output when it fails.
pub fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Which key pairs a test token gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeySpec {
    Rsa2048,
    P256,
    P384,
    Ed25519,
}

impl KeySpec {
    fn pkcs11_tool_type(self) -> &'static str {
        match self {
            KeySpec::Rsa2048 => "rsa:2048",
            KeySpec::P256 => "EC:prime256v1",
            KeySpec::P384 => "imported",
            KeySpec::Ed25519 => "EC:edwards25519",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            KeySpec::Rsa2048 => "rsa-key",
            KeySpec::P256 => "p256-key",
            KeySpec::P384 => "p384-key",
            KeySpec::Ed25519 => "ed25519-key",
        }
    }
    pub fn id(self) -> Vec<u8> {
        match self {
            KeySpec::Rsa2048 => vec![0x01],
            KeySpec::P256 => vec![0x02],
            KeySpec::P384 => vec![0x03],
            KeySpec::Ed25519 => vec![0x04],
        }
    }
    /// The P-256 certificate is stored under another CKA_ID, so that the crate must match it
    /// by public key.
    pub fn cert_id(self) -> Vec<u8> {
        match self {
            KeySpec::P256 => vec![0x22],
            other => other.id(),
        }
    }
}

/// A token made for one test, with the public keys and certificates as the tools saw them.
pub struct TestToken {
    pub label: String,
    pub keys: Vec<(KeySpec, Vec<u8>, Vec<u8>)>, // (spec, SPKI DER, certificate DER)
}

impl TestToken {
    pub fn spki(&self, spec: KeySpec) -> &[u8] {
        &self.keys.iter().find(|k| k.0 == spec).expect("key made").1
    }
    pub fn cert(&self, spec: KeySpec) -> &[u8] {
        &self.keys.iter().find(|k| k.0 == spec).expect("key made").2
    }
}

/// One SoftHSM2 token store per test binary. SOFTHSM2_CONF is process-wide and read at
/// C_Initialize, so every token a binary needs is made before its first `Module::load`.
pub struct Hsm {
    pub dir: tempfile::TempDir,
    pub conf: PathBuf,
    pub module: PathBuf,
    pub tokens: Vec<TestToken>,
}

impl Hsm {
    pub fn new(tokens: &[(&str, &[KeySpec])]) -> Hsm {
        let module = module_path();
        let dir = tempfile::tempdir().expect("temp dir");
        let token_dir = dir.path().join("tokens");
        std::fs::create_dir_all(&token_dir).expect("token dir");
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                token_dir.display()
            ),
        )
        .expect("write softhsm2.conf");
        std::env::set_var("SOFTHSM2_CONF", &conf);
        let ca = make_ca(dir.path());
        let mut hsm = Hsm {
            dir,
            conf,
            module,
            tokens: Vec::new(),
        };
        for (label, specs) in tokens {
            let token = hsm.make_token(label, specs, &ca);
            hsm.tokens.push(token);
        }
        hsm
    }

    pub fn token(&self, label: &str) -> &TestToken {
        self.tokens.iter().find(|t| t.label == label).expect("token made")
    }

    pub fn tool(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("SOFTHSM2_CONF", &self.conf);
        cmd
    }

    fn p11(&self, label: &str) -> Command {
        let mut cmd = self.tool("pkcs11-tool");
        cmd.arg("--module").arg(&self.module).arg("--token-label").arg(label);
        cmd
    }

    fn make_token(&self, label: &str, specs: &[KeySpec], ca: &Ca) -> TestToken {
        run(self.tool("softhsm2-util").args([
            "--init-token",
            "--free",
            "--label",
            label,
            "--so-pin",
            SO_PIN,
            "--pin",
            USER_PIN,
        ]));
        let work = self.dir.path().join(format!("work-{label}"));
        std::fs::create_dir_all(&work).expect("work dir");
        let mut keys = Vec::new();
        for spec in specs {
            let id = hex(&spec.id());
            let spki_path = work.join(format!("{id}.spki.der"));
            if *spec == KeySpec::P384 {
                // OpenSC 0.23 cannot export a P-384 public key ("cannot create EVP_PKEY"),
                // so this key is made by OpenSSL and imported without its public key object:
                // the crate must then take the public key from the certificate.
                let key_path = work.join(format!("{id}.key.der"));
                run(Command::new("openssl")
                    .args([
                        "genpkey",
                        "-algorithm",
                        "EC",
                        "-pkeyopt",
                        "ec_paramgen_curve:P-384",
                        "-outform",
                        "DER",
                        "-out",
                    ])
                    .arg(&key_path));
                run(self
                    .p11(label)
                    .args(["--login", "--pin", USER_PIN, "--write-object"])
                    .arg(&key_path)
                    .args([
                        "--type",
                        "privkey",
                        "--usage-sign",
                        "--id",
                        &id,
                        "--label",
                        spec.label(),
                    ]));
                run(Command::new("openssl")
                    .args(["pkey", "-inform", "DER", "-in"])
                    .arg(&key_path)
                    .args(["-pubout", "-outform", "DER", "-out"])
                    .arg(&spki_path));
            } else {
                run(self.p11(label).args([
                    "--login",
                    "--pin",
                    USER_PIN,
                    "--keypairgen",
                    "--key-type",
                    spec.pkcs11_tool_type(),
                    "--id",
                    &id,
                    "--label",
                    spec.label(),
                ]));
                let exported = work.join(format!("{id}.pub"));
                run(self
                    .p11(label)
                    .args(["--read-object", "--type", "pubkey", "--id", &id, "-o"])
                    .arg(&exported));
                // pkcs11-tool writes RSA and EC public keys as DER but Ed25519 as PEM;
                // OpenSSL normalises both to DER SPKI.
                run(Command::new("openssl")
                    .args(["pkey", "-pubin", "-in"])
                    .arg(&exported)
                    .args(["-outform", "DER", "-out"])
                    .arg(&spki_path));
            }
            let spki = std::fs::read(&spki_path).expect("spki");
            let cert = ca.issue(&work, spec.label(), &spki_path);
            let cert_path = work.join(format!("{id}.crt.der"));
            std::fs::write(&cert_path, &cert).expect("write cert");
            run(self
                .p11(label)
                .args(["--login", "--pin", USER_PIN, "--write-object"])
                .arg(&cert_path)
                .args([
                    "--type",
                    "cert",
                    "--id",
                    &hex(&spec.cert_id()),
                    "--label",
                    &format!("{}-cert", spec.label()),
                ]));
            keys.push((*spec, spki, cert));
        }
        TestToken {
            label: label.to_owned(),
            keys,
        }
    }

    /// Move the token's directory out of the token store in one rename. SoftHSM names the
    /// directory by a UUID; the one whose token.object holds the label is the token.
    pub fn vanish_token(&self, label: &str) {
        let store = self.dir.path().join("tokens");
        let gone = self.dir.path().join(format!("removed-{label}"));
        let padded = format!("{label:<32}");
        for entry in std::fs::read_dir(&store).expect("token store") {
            let dir = entry.expect("entry").path();
            let object = std::fs::read(dir.join("token.object")).unwrap_or_default();
            if object.windows(padded.len()).any(|w| w == padded.as_bytes()) {
                std::fs::rename(&dir, &gone).expect("move the token away");
                return;
            }
        }
        panic!("no token directory holds the label {label:?}");
    }

    pub fn delete_token(&self, label: &str) {
        run(self.tool("softhsm2-util").args(["--delete-token", "--token", label]));
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A software CA (P-256) that certifies the token keys with `openssl x509 -force_pubkey`.
pub struct Ca {
    key: PathBuf,
    cert: PathBuf,
}

pub fn make_ca(dir: &Path) -> Ca {
    let key = dir.join("ca.key");
    let cert = dir.join("ca.pem");
    run(Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
        ])
        .arg(&key));
    run(Command::new("openssl")
        .args([
            "req",
            "-new",
            "-x509",
            "-subj",
            "/CN=govsig test CA",
            "-days",
            "30",
            "-key",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert));
    Ca { key, cert }
}

impl Ca {
    /// A certificate for `spki_path`'s key (issued by the CA; the CSR is only a carrier for
    /// the subject name).
    pub fn issue(&self, work: &Path, cn: &str, spki_path: &Path) -> Vec<u8> {
        let csr = work.join(format!("{cn}.csr"));
        let out = work.join(format!("{cn}.crt"));
        run(Command::new("openssl")
            .args(["req", "-new", "-subj", &format!("/CN={cn}"), "-key"])
            .arg(&self.key)
            .arg("-out")
            .arg(&csr));
        run(Command::new("openssl")
            .args(["x509", "-req", "-days", "30", "-set_serial", "7", "-in"])
            .arg(&csr)
            .arg("-CA")
            .arg(&self.cert)
            .arg("-CAkey")
            .arg(&self.key)
            .arg("-force_pubkey")
            .arg(spki_path)
            .args(["-outform", "DER", "-out"])
            .arg(&out));
        std::fs::read(&out).expect("cert")
    }
}

/// The subjectPublicKey bits of a DER SPKI, read independently of the crate.
pub fn spki_key_bits(spki: &[u8]) -> Vec<u8> {
    fn tlv(data: &[u8]) -> (u8, &[u8], &[u8]) {
        let tag = data[0];
        let (len, hdr) = if data[1] < 0x80 {
            (data[1] as usize, 2)
        } else {
            let n = (data[1] & 0x7f) as usize;
            (data[2..2 + n].iter().fold(0usize, |a, b| (a << 8) | *b as usize), 2 + n)
        };
        (tag, &data[hdr..hdr + len], &data[hdr + len..])
    }
    let (tag, seq, _) = tlv(spki);
    assert_eq!(tag, 0x30);
    let (_, _, rest) = tlv(seq);
    let (tag, bits, _) = tlv(rest);
    assert_eq!(tag, 0x03);
    assert_eq!(bits[0], 0, "no unused bits");
    bits[1..].to_vec()
}

/// Verify `signature` over `message` with aws-lc-rs.
pub fn verify(
    alg: &'static dyn aws_lc_rs::signature::VerificationAlgorithm,
    spki: &[u8],
    message: &[u8],
    signature: &[u8],
) {
    let key = aws_lc_rs::signature::UnparsedPublicKey::new(alg, spki_key_bits(spki));
    key.verify(message, signature)
        .unwrap_or_else(|_| panic!("signature does not verify with {alg:?}"));
}

/// Check that an ECDSA signature is a minimal DER SEQUENCE of two positive INTEGERs
/// (X.690 §8.3.2) and report whether r or s needed a leading 0x00 (high bit set).
pub fn ecdsa_der_shape(sig: &[u8]) -> (bool, bool) {
    assert_eq!(sig[0], 0x30);
    let (body, hdr) = if sig[1] < 0x80 {
        (sig[1] as usize, 2)
    } else {
        (sig[2] as usize, 3)
    };
    assert_eq!(sig.len(), hdr + body, "SEQUENCE length covers the signature exactly");
    let mut rest = &sig[hdr..];
    let mut padded = Vec::new();
    let mut short = Vec::new();
    for _ in 0..2 {
        assert_eq!(rest[0], 0x02);
        let len = rest[1] as usize;
        let v = &rest[2..2 + len];
        assert!(v[0] & 0x80 == 0, "INTEGER is positive");
        if len > 1 {
            assert!(!(v[0] == 0 && v[1] & 0x80 == 0), "INTEGER is minimal");
        }
        padded.push(v[0] == 0);
        short.push(len);
        rest = &rest[2 + len..];
    }
    assert!(rest.is_empty());
    (padded[0] || padded[1], short.iter().any(|l| *l < 32))
}

/// One logged-in `Token` per label for the whole test binary: PKCS#11 login belongs to the
/// process, so tests running in parallel share it as an application would.
pub fn shared_token(hsm: &Hsm, label: &str) -> govsig_pkcs11::Token {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static OPEN: Mutex<Option<HashMap<String, govsig_pkcs11::Token>>> = Mutex::new(None);
    let mut open = OPEN.lock().unwrap_or_else(|p| p.into_inner());
    let open = open.get_or_insert_with(HashMap::new);
    if let Some(token) = open.get(label) {
        return token.clone();
    }
    let module = govsig_pkcs11::Module::load(&hsm.module).expect("load the module");
    let token = module
        .open_token(
            govsig_pkcs11::TokenSelector::Label(label.into()),
            govsig_pkcs11::Pin::from(USER_PIN),
        )
        .unwrap_or_else(|e| panic!("log in to {label}: {e}"));
    open.insert(label.to_owned(), token.clone());
    token
}
