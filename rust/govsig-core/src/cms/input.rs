//! Signatures and certificate bundles as users have them: DER or BER, PEM
//! (`-----BEGIN PKCS7-----`, `-----BEGIN CMS-----`, RFC 7468 §10), and S/MIME messages
//! (RFC 8551 §3.5: `multipart/signed` with the content and an `application/pkcs7-signature`
//! part; `application/pkcs7-mime; smime-type=signed-data` carrying the SignedData itself).
//!
//! Own small parsers rather than a mail crate: verification needs the *exact* bytes of the
//! signed MIME part (canonicalised to CRLF, RFC 8551 §3.1.1), which mail libraries decode,
//! re-encode or normalise away; and only this subset is needed (one level of headers,
//! a boundary split, base64). Both parsers are linear in their input, allocate at most its
//! size, never panic, and are fuzzed (`fuzz/fuzz_targets/smime_input.rs`).
//!
//! DER input (first octet 0x30, a SEQUENCE) is returned as is after one comparison: the bulk
//! path pays nothing for the other forms.

use std::borrow::Cow;

/// How the signature arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputForm {
    /// DER or BER bytes.
    Der,
    /// A PEM block (PKCS7 or CMS label).
    Pem,
    /// S/MIME `multipart/signed`: the content came from the first MIME part.
    SmimeSigned,
    /// S/MIME `application/pkcs7-mime` (signed-data, attached).
    SmimeOpaque,
}

/// A signature unwrapped from its transport form.
#[derive(Debug, Clone)]
pub struct Unwrapped<'a> {
    /// The ContentInfo bytes (DER or BER).
    pub signature: Cow<'a, [u8]>,
    /// The signed content carried beside the signature (multipart/signed), in canonical
    /// CRLF form.
    pub content: Option<Vec<u8>>,
    pub form: InputForm,
}

/// Why an input could not be unwrapped, in words for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError(pub String);

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

const PEM_SIGNATURE_LABELS: &[&str] = &["PKCS7", "CMS", "PKCS #7 SIGNED DATA"];

/// Unwraps PEM or S/MIME; anything else (DER, BER, garbage) is passed through for the DER
/// parser to judge.
pub fn unwrap(input: &[u8]) -> Result<Unwrapped<'_>, InputError> {
    if input.first() == Some(&0x30) {
        return Ok(Unwrapped {
            signature: Cow::Borrowed(input),
            content: None,
            form: InputForm::Der,
        });
    }
    let text = trim_start(input);
    if text.starts_with(b"-----BEGIN ") {
        let der = pem_decode(text, PEM_SIGNATURE_LABELS)?;
        return Ok(Unwrapped {
            signature: Cow::Owned(der),
            content: None,
            form: InputForm::Pem,
        });
    }
    if looks_like_mime(text) {
        return smime(text);
    }
    // RFC 7468 §2: text may precede the encapsulation boundary ("parsers MUST NOT
    // malfunction when processing such data"), as `openssl x509 -text` and signing tools
    // write it. Not DER (that starts with 0x30, above): a boundary at the start of a line
    // makes it PEM.
    if pem_begin(text).is_some() {
        let der = pem_decode(text, PEM_SIGNATURE_LABELS)?;
        return Ok(Unwrapped {
            signature: Cow::Owned(der),
            content: None,
            form: InputForm::Pem,
        });
    }
    Ok(Unwrapped {
        signature: Cow::Borrowed(input),
        content: None,
        form: InputForm::Der,
    })
}

fn trim_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

fn trim(b: &[u8]) -> &[u8] {
    let b = trim_start(b);
    let n = b.iter().rev().take_while(|c| c.is_ascii_whitespace()).count();
    &b[..b.len() - n]
}

/// The first PEM block of `text` whose label is one of `labels`, decoded. RFC 7468 §2:
/// whitespace inside the base64 is ignored; the END label must repeat the BEGIN label.
pub fn pem_decode(text: &[u8], labels: &[&str]) -> Result<Vec<u8>, InputError> {
    let begin = pem_begin(text).ok_or_else(|| InputError("no '-----BEGIN' line in the PEM text".into()))?;
    let after = &text[begin + 11..];
    let label_end =
        find(after, b"-----").ok_or_else(|| InputError("the PEM '-----BEGIN' line is not closed by '-----'".into()))?;
    let label = &after[..label_end];
    let label_text = String::from_utf8_lossy(label);
    if !labels.iter().any(|l| l.as_bytes() == label) {
        return Err(InputError(format!(
            "the PEM block is '{}', not a signature; expected {}",
            printable(&label_text),
            labels
                .iter()
                .map(|l| format!("'-----BEGIN {l}-----'"))
                .collect::<Vec<_>>()
                .join(" or ")
        )));
    }
    let body_and_rest = &after[label_end + 5..];
    let mut end_marker = b"-----END ".to_vec();
    end_marker.extend_from_slice(label);
    end_marker.extend_from_slice(b"-----");
    let end = find(body_and_rest, &end_marker).ok_or_else(|| {
        InputError(format!(
            "the PEM block '{}' has no '-----END {}-----' line (truncated?)",
            printable(&label_text),
            printable(&label_text)
        ))
    })?;
    let der = base64_decode(&body_and_rest[..end]).map_err(|e| {
        InputError(format!(
            "the PEM block '{}' is not valid base64: {e}",
            printable(&label_text)
        ))
    })?;
    if der.is_empty() {
        return Err(InputError(format!(
            "the PEM block '{}' is empty",
            printable(&label_text)
        )));
    }
    Ok(der)
}

/// Where the first PEM encapsulation boundary ("-----BEGIN ") starts a line of `text`
/// (RFC 7468 §2: at the start of the text or after a line break, here also after spaces or
/// tabs; the text before it is explanatory and ignored).
pub fn pem_begin(text: &[u8]) -> Option<usize> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    let mut from = 0;
    while let Some(n) = find(&text[from..], BEGIN) {
        let at = from + n;
        // Indentation before the boundary is tolerated (as the Python side reads PEM).
        let line = text[..at].iter().rposition(|c| !matches!(c, b' ' | b'\t'));
        if line.is_none_or(|p| text[p] == b'\n' || text[p] == b'\r') {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Text from the input for a message: control characters escaped, at most 60 characters.
fn printable(s: &str) -> String {
    let mut out: String = s.chars().take(60).flat_map(char::escape_debug).collect();
    if s.chars().count() > 60 {
        out.push('…');
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Standard base64 (RFC 4648 §4) with whitespace ignored; padding optional at the very end.
pub fn base64_decode(text: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 3);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    let mut pad = 0usize;
    for (i, &c) in text.iter().enumerate() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                pad += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => {
                return Err(format!(
                    "character '{}' at offset {i} is not in the base64 alphabet",
                    char::from(c).escape_default()
                ))
            }
        };
        if pad > 0 {
            return Err(format!("data after the '=' padding at offset {i}"));
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    if pad > 2 || bits >= 6 {
        return Err("the base64 text ends in the middle of a character group (truncated?)".into());
    }
    Ok(out)
}

fn looks_like_mime(text: &[u8]) -> bool {
    // A header block: the first line is "Name: value" and some header names Content-Type.
    let head = &text[..text.len().min(16 * 1024)];
    let first_line_is_header = head
        .iter()
        .position(|c| *c == b'\n')
        .map(|n| &head[..n])
        .unwrap_or(head)
        .iter()
        .take_while(|c| **c != b':')
        .all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && head.contains(&b':');
    first_line_is_header && find_ci(head, b"content-type:").is_some()
}

fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle))
}

/// One MIME entity: its unfolded headers and the raw body.
struct Entity<'a> {
    headers: Vec<(String, String)>,
    body: &'a [u8],
}

impl Entity<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// (type/subtype lower-cased, parameters with lower-cased names). A parameter given twice
    /// is refused: readers disagree on which one counts (the first here and in OpenSSL, the
    /// last elsewhere), so the message would have two readings, the signed one and another.
    fn content_type(&self) -> Result<(String, Vec<(String, String)>), InputError> {
        let (media, params) = match self.header("content-type") {
            None => ("text/plain".to_owned(), Vec::new()),
            Some(v) => parse_content_type(v),
        };
        // RFC 2231 §3-4: "boundary*" and "boundary*0*" are the same parameter as "boundary".
        let base = |n: &str| n.split('*').next().unwrap_or_default().trim().to_owned();
        if let Some((_, (name, _))) = params
            .iter()
            .enumerate()
            .find(|(i, (n, _))| params[..*i].iter().any(|(m, _)| base(m) == base(n)))
        {
            return Err(InputError(format!(
                "the Content-Type '{}' gives the parameter '{}' twice: mail readers disagree on which one \
                 counts, so the message has more than one reading",
                printable(&media),
                printable(name)
            )));
        }
        Ok((media, params))
    }

    fn decoded_body(&self, what: &str) -> Result<Vec<u8>, InputError> {
        let Some(cte) = self
            .header("content-transfer-encoding")
            .map(|v| v.trim().to_ascii_lowercase())
        else {
            // No Content-Transfer-Encoding (MIME's default is 7bit, which a DER signature
            // cannot be): gateways drop the header from base64 parts, and OpenSSL always
            // decodes a signature part as base64. DER stays DER; base64 text is decoded.
            if trim_start(self.body).first() == Some(&0x30) {
                return Ok(self.body.to_vec());
            }
            return Ok(base64_decode(self.body).unwrap_or_else(|_| self.body.to_vec()));
        };
        match cte.as_str() {
            "base64" => {
                base64_decode(self.body).map_err(|e| InputError(format!("the {what} is not valid base64: {e}")))
            }
            "binary" | "7bit" | "8bit" => Ok(self.body.to_vec()),
            other => Err(InputError(format!(
                "the {what} uses Content-Transfer-Encoding '{}'; govsig reads base64, binary, 7bit and 8bit",
                printable(other)
            ))),
        }
    }
}

/// Splits headers from the body at the first empty line (CRLF or LF), unfolding
/// continuation lines (RFC 5322 §2.2.3).
fn parse_entity(raw: &[u8]) -> Result<Entity<'_>, InputError> {
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut pos = 0;
    loop {
        if pos >= raw.len() {
            return Ok(Entity { headers, body: &[] });
        }
        let line_end = raw[pos..]
            .iter()
            .position(|c| *c == b'\n')
            .map_or(raw.len(), |n| pos + n);
        let mut line = &raw[pos..line_end];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        let next = (line_end + 1).min(raw.len());
        if line.is_empty() {
            return Ok(Entity {
                headers,
                body: &raw[next..],
            });
        }
        if line[0] == b' ' || line[0] == b'\t' {
            match headers.last_mut() {
                Some((_, v)) => {
                    v.push(' ');
                    v.push_str(&String::from_utf8_lossy(trim(line)));
                }
                None => {
                    return Err(InputError(
                        "the message starts with a continuation line, not a header".into(),
                    ))
                }
            }
        } else {
            let colon = line.iter().position(|c| *c == b':').ok_or_else(|| {
                InputError(format!(
                    "the MIME header line '{}' has no ':'",
                    printable(&String::from_utf8_lossy(line))
                ))
            })?;
            headers.push((
                String::from_utf8_lossy(trim(&line[..colon])).into_owned(),
                String::from_utf8_lossy(trim(&line[colon + 1..])).into_owned(),
            ));
        }
        if headers.len() > 1000 {
            return Err(InputError("the MIME entity has more than 1000 header lines".into()));
        }
        if let Some((name, _)) = headers.last() {
            let again = |n: &str| {
                name.eq_ignore_ascii_case(n)
                    && headers[..headers.len() - 1]
                        .iter()
                        .any(|(m, _)| m.eq_ignore_ascii_case(n))
            };
            if let Some(n) = ["Content-Type", "Content-Transfer-Encoding"]
                .into_iter()
                .find(|n| again(n))
            {
                return Err(InputError(format!(
                    "the MIME entity has two {n} headers: mail readers disagree on which one counts, \
                     so the message has more than one reading"
                )));
            }
        }
        pos = next;
    }
}

fn parse_content_type(v: &str) -> (String, Vec<(String, String)>) {
    let mut parts = split_params(v).into_iter();
    let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let params = parts
        .filter_map(|p| {
            let (k, val) = p.split_once('=')?;
            let val = val.trim();
            let val = val.strip_prefix('"').and_then(|x| x.strip_suffix('"')).unwrap_or(val);
            Some((k.trim().to_ascii_lowercase(), val.to_owned()))
        })
        .collect();
    (media, params)
}

/// Splits on ';' outside double quotes.
fn split_params(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in v.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ';' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn param<'p>(params: &'p [(String, String)], name: &str) -> Option<&'p str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

const PKCS7_SIGNATURE_TYPES: &[&str] = &["application/pkcs7-signature", "application/x-pkcs7-signature"];
const PKCS7_MIME_TYPES: &[&str] = &["application/pkcs7-mime", "application/x-pkcs7-mime"];

fn smime(text: &[u8]) -> Result<Unwrapped<'static>, InputError> {
    let top = parse_entity(text)?;
    let (media, params) = top.content_type()?;
    if media == "multipart/signed" {
        let boundary = param(&params, "boundary").ok_or_else(|| {
            InputError("the multipart/signed message has no boundary parameter in its Content-Type".into())
        })?;
        let (content, sig_part) = split_multipart_signed(top.body, boundary.as_bytes())?;
        let sig_entity = parse_entity(sig_part)?;
        let (sig_media, _) = sig_entity.content_type()?;
        if !PKCS7_SIGNATURE_TYPES.contains(&sig_media.as_str()) {
            return Err(InputError(format!(
                "the second part of the multipart/signed message is '{}', not application/pkcs7-signature",
                printable(&sig_media)
            )));
        }
        let signature = sig_entity.decoded_body("signature part")?;
        if signature.is_empty() {
            return Err(InputError(
                "the signature part of the multipart/signed message is empty".into(),
            ));
        }
        return Ok(Unwrapped {
            signature: Cow::Owned(signature),
            content: Some(canonical_crlf(content)),
            form: InputForm::SmimeSigned,
        });
    }
    if PKCS7_MIME_TYPES.contains(&media.as_str()) {
        if let Some(kind) = param(&params, "smime-type") {
            if !kind.eq_ignore_ascii_case("signed-data") {
                return Err(InputError(format!(
                    "the S/MIME message is smime-type={}, not signed-data: it is not a signature",
                    printable(kind)
                )));
            }
        }
        let signature = top.decoded_body("application/pkcs7-mime body")?;
        if signature.is_empty() {
            return Err(InputError("the application/pkcs7-mime body is empty".into()));
        }
        return Ok(Unwrapped {
            signature: Cow::Owned(signature),
            content: None,
            form: InputForm::SmimeOpaque,
        });
    }
    Err(InputError(format!(
        "a MIME message of type '{}', not an S/MIME signature (multipart/signed or application/pkcs7-mime)",
        printable(&media)
    )))
}

/// The two body parts of a multipart/signed body. RFC 2046 §5.1.1: a delimiter line is
/// "--" boundary, then optional linear white space, at the start of a line, and the close
/// delimiter adds "--"; the CRLF before a delimiter belongs to it, not to the part. A line that
/// merely begins with "--" boundary is content (as mail readers parse it). RFC 1847 §2.1: a
/// multipart/signed holds exactly two parts, so a third one is refused: a mail reader would
/// show it beside the signed part although nothing signs it.
fn split_multipart_signed<'a>(body: &'a [u8], boundary: &[u8]) -> Result<(&'a [u8], &'a [u8]), InputError> {
    if boundary.is_empty() || boundary.len() > 200 {
        return Err(InputError(
            "the multipart boundary is empty or longer than 200 characters".into(),
        ));
    }
    let mut delim = b"--".to_vec();
    delim.extend_from_slice(boundary);
    let shown_boundary = || printable(&String::from_utf8_lossy(boundary));
    // (start offset, is the close delimiter) of the first three delimiter lines.
    let mut lines: Vec<(usize, bool)> = Vec::new();
    let mut pos = 0;
    while let Some(n) = find(&body[pos..], &delim) {
        let at = pos + n;
        pos = at + delim.len();
        if at != 0 && body[at - 1] != b'\n' {
            continue;
        }
        let rest = &body[pos..];
        let (close, rest) = match rest.strip_prefix(b"--") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let line = &rest[..rest.iter().position(|c| *c == b'\n').unwrap_or(rest.len())];
        if !line.iter().all(|c| matches!(c, b' ' | b'\t' | b'\r')) {
            continue;
        }
        lines.push((at, close));
        if lines.len() == 3 {
            break;
        }
    }
    match lines.as_slice() {
        [(_, false), (_, false), (_, true)] => {}
        [(_, false), (_, false), (_, false)] => {
            return Err(InputError(format!(
                "the multipart/signed body has more than two parts (a third '--{}' line where the closing '--{}--' belongs): nothing signs the others",
                shown_boundary(),
                shown_boundary()
            )))
        }
        [(_, false), (_, false)] => {
            return Err(InputError(format!(
                "the multipart/signed body has no closing '--{}--' line (truncated?)",
                shown_boundary()
            )))
        }
        _ => {
            return Err(InputError(format!(
                "the multipart/signed body does not have two parts delimited by '--{}' (found {} delimiter line(s) before the closing one)",
                shown_boundary(),
                lines.iter().take_while(|(_, close)| !close).count()
            )))
        }
    }
    let starts: Vec<usize> = lines.iter().map(|(at, _)| *at).collect();
    let part = |i: usize| -> &'a [u8] {
        let line_end = body[starts[i]..]
            .iter()
            .position(|c| *c == b'\n')
            .map_or(body.len(), |n| starts[i] + n + 1);
        let mut end = starts[i + 1];
        // The line break before the next delimiter is part of the delimiter.
        if end > line_end && body[end - 1] == b'\n' {
            end -= 1;
            if end > line_end && body[end - 1] == b'\r' {
                end -= 1;
            }
        }
        &body[line_end.min(end)..end]
    };
    Ok((part(0), part(1)))
}

/// Every line break as CRLF (RFC 8551 §3.1.1: the signed content is in canonical form).
/// A line's end is its LF with every CR before it, so a CR CR LF left by a gateway that
/// converted line ends twice is one line break, and CRs ending the last line go too: the
/// canonical form OpenSSL's S/MIME reader gives the same bytes. A CR inside a line stays.
fn canonical_crlf(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len() + b.len() / 32);
    for (i, line) in b.split(|c| *c == b'\n').enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\r\n");
        }
        let crs = line.iter().rev().take_while(|c| **c == b'\r').count();
        out.extend_from_slice(&line[..line.len() - crs]);
    }
    out
}

/// The certificates of a PKCS#7 certs-only bundle (.p7b/.p7c: a SignedData, usually with no
/// signer), DER, BER or PEM. `Ok(None)`: the input is not a PKCS#7 ContentInfo at all (a
/// certificate, say), for callers that accept either.
pub fn bundle_certificates(input: &[u8]) -> Result<Option<Vec<Vec<u8>>>, InputError> {
    let text = trim_start(input);
    let begin = if input.first() == Some(&0x30) {
        None
    } else {
        pem_begin(text)
    };
    let der: Cow<'_, [u8]> = if let Some(at) = begin {
        let text = &text[at..];
        let label_is_pkcs7 = PEM_SIGNATURE_LABELS
            .iter()
            .any(|l| text[11..].starts_with(l.as_bytes()) && text[11 + l.len()..].starts_with(b"-----"));
        if !label_is_pkcs7 {
            return Ok(None);
        }
        Cow::Owned(pem_decode(text, PEM_SIGNATURE_LABELS)?)
    } else {
        Cow::Borrowed(input)
    };
    if !is_content_info(&der) {
        return Ok(None);
    }
    let decoded = super::signed_data::decode(&der).map_err(|e| InputError(format!("not a PKCS#7 bundle: {}", e.0)))?;
    let sd =
        super::signed_data::parse(&decoded.der).map_err(|e| InputError(format!("not a PKCS#7 bundle: {}", e.0)))?;
    // RFC 8551 §3.8: a certs-only bundle is a degenerate SignedData, without signers. One
    // with signers is a signed document given where certificates were expected; its
    // certificates were chosen by whoever signed it, so they are not taken as a bundle.
    if !sd.signers.is_empty() {
        return Err(InputError(format!(
            "this PKCS#7 file is a signed document ({} signer(s)), not a certs-only bundle \
             (.p7b/.p7c, RFC 8551 §3.8): give the CA's certificates or its published bundle",
            sd.signers.len()
        )));
    }
    if sd.certificates.is_empty() {
        return Err(InputError("the PKCS#7 bundle holds no certificate".into()));
    }
    Ok(Some(sd.certificates.iter().map(|c| c.to_vec()).collect()))
}

/// A SEQUENCE whose first element is an OBJECT IDENTIFIER: a ContentInfo, not a
/// Certificate (whose first element is the tbsCertificate SEQUENCE).
pub fn is_content_info(der: &[u8]) -> bool {
    if der.first() != Some(&0x30) || der.len() < 4 {
        return false;
    }
    let len_octets = match der[1] {
        n if n < 0x80 => 0,
        0x80 => 0, // BER indefinite length
        n => usize::from(n & 0x7f),
    };
    der.get(2 + len_octets) == Some(&0x06)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_passes_through_without_copying() {
        let der = [0x30, 0x03, 0x02, 0x01, 0x00];
        let u = unwrap(&der).unwrap();
        assert!(matches!(u.signature, Cow::Borrowed(_)));
        assert_eq!(u.form, InputForm::Der);
    }

    #[test]
    fn base64_round_trips_and_refuses_garbage() {
        assert_eq!(base64_decode(b"aGVs\r\nbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode(b"aGVsbG8").unwrap(), b"hello");
        assert!(base64_decode(b"aGV*bG8=")
            .unwrap_err()
            .contains("not in the base64 alphabet"));
        assert!(base64_decode(b"aGVsbG8=x").is_err());
        assert!(base64_decode(b"a").is_err());
    }

    #[test]
    fn pem_wrong_label_is_named() {
        let e = unwrap(b"-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n").unwrap_err();
        assert!(e.0.contains("'CERTIFICATE', not a signature"), "{e}");
        let e = unwrap(b"-----BEGIN PKCS7-----\nMAMCAQA=\n").unwrap_err();
        assert!(e.0.contains("no '-----END PKCS7-----'"), "{e}");
        let u = unwrap(b"-----BEGIN CMS-----\nMAMCAQA=\n-----END CMS-----\n").unwrap();
        assert_eq!(&*u.signature, &[0x30, 0x03, 0x02, 0x01, 0x00]);
    }

    #[test]
    fn multipart_signed_content_is_the_first_part_canonicalised() {
        let msg = b"MIME-Version: 1.0\nContent-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"XX\"\n\nThis is an S/MIME signed message\n\n--XX\nContent-Type: text/plain\n\nhello\n--XX\nContent-Type: application/pkcs7-signature; name=smime.p7s\nContent-Transfer-Encoding: base64\n\nMAMCAQA=\n\n--XX--\n";
        let u = unwrap(msg).unwrap();
        assert_eq!(u.form, InputForm::SmimeSigned);
        assert_eq!(
            u.content.as_deref(),
            Some(&b"Content-Type: text/plain\r\n\r\nhello"[..])
        );
        assert_eq!(&*u.signature, &[0x30, 0x03, 0x02, 0x01, 0x00]);
    }

    #[test]
    fn mime_that_is_not_a_signature_says_so() {
        let e = unwrap(b"Content-Type: text/plain\n\nhi\n").unwrap_err();
        assert!(e.0.contains("'text/plain', not an S/MIME signature"), "{e}");
        let e = unwrap(b"Content-Type: application/pkcs7-mime; smime-type=enveloped-data\n\nMAMCAQA=\n").unwrap_err();
        assert!(e.0.contains("enveloped-data"), "{e}");
        let e = unwrap(b"Content-Type: multipart/signed; boundary=q\n\n--q\nx\n--q--\n").unwrap_err();
        assert!(e.0.contains("two parts"), "{e}");
    }

    #[test]
    fn line_ends_are_canonical_as_openssl_reads_them() {
        assert_eq!(canonical_crlf(b"a\nb\r\nc\r\r\nd\r"), b"a\r\nb\r\nc\r\nd");
        assert_eq!(canonical_crlf(b"a\rb\n"), b"a\rb\r\n");
        assert_eq!(canonical_crlf(b""), b"");
    }

    #[test]
    fn two_readings_of_a_content_type_are_refused() {
        let e =
            unwrap(b"MIME-Version: 1.0\nContent-Type: multipart/signed; boundary=a\nContent-Type: text/plain\n\nx\n")
                .unwrap_err();
        assert!(e.0.contains("two Content-Type headers"), "{e}");
        let e = unwrap(b"Content-Type: multipart/signed; boundary=a; boundary=b\n\nx\n").unwrap_err();
        assert!(e.0.contains("parameter 'boundary' twice"), "{e}");
    }

    #[test]
    fn pem_may_follow_explanatory_text_but_only_at_a_line_start() {
        let u = unwrap(b"Signed by the ministry\n-----BEGIN PKCS7-----\nMAMCAQA=\n-----END PKCS7-----\n").unwrap();
        assert_eq!(
            (u.form, &*u.signature),
            (InputForm::Pem, &[0x30, 0x03, 0x02, 0x01, 0x00][..])
        );
        assert_eq!(pem_begin(b"see -----BEGIN PKCS7----- here"), None);
        assert_eq!(pem_begin(b"x\r\n-----BEGIN CMS-----"), Some(3));
        assert_eq!(pem_begin(b"x\n \t-----BEGIN CMS-----"), Some(4));
    }

    #[test]
    fn a_signature_part_without_transfer_encoding_is_read_as_base64_or_der() {
        let msg = b"Content-Type: multipart/signed; boundary=XX\n\n--XX\n\nhello\n--XX\nContent-Type: application/pkcs7-signature\n\nMAMCAQA=\n--XX--\n";
        assert_eq!(&*unwrap(msg).unwrap().signature, &[0x30, 0x03, 0x02, 0x01, 0x00]);
        let e = Entity {
            headers: Vec::new(),
            body: &[0x30, 0x03, 0x02, 0x01, 0x00],
        };
        assert_eq!(e.decoded_body("part").unwrap(), [0x30, 0x03, 0x02, 0x01, 0x00]);
    }

    #[test]
    fn an_rfc2231_spelling_of_a_parameter_is_the_same_parameter() {
        let e = unwrap(b"Content-Type: multipart/signed; boundary*=''EVIL; boundary=real\n\nx\n").unwrap_err();
        assert!(e.0.contains("twice"), "{e}");
    }
}
