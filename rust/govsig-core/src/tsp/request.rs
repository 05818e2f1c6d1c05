//! The client side of RFC 3161 (§2.4.1, §2.4.2): building a TimeStampReq and judging the
//! TimeStampResp. The transport (HTTP, RFC 3161 §3.4) is the caller's: the core stays
//! sans-IO.

use govsig_asn1::tsp as asn;

use super::{verify_token, Stamped, TimestampOutcome};
use crate::batch::Engine;
use crate::crypto::DigestAlgorithm;
use crate::outcome::Code;

/// A request ready to send, and what its answer must echo.
#[derive(Clone, Debug)]
pub struct TimestampRequest {
    pub der: Vec<u8>,
    /// The nonce's INTEGER content octets, when one was asked for.
    pub nonce: Option<Vec<u8>>,
}

/// Builds a TimeStampReq for `digest` (computed with `algorithm`). With `nonce`, 64 random
/// bits (RFC 3161 §2.4.1: a large random number, so a response cannot be replayed).
/// `cert_req` asks the TSA to include its certificate, which the verifier needs to find it.
pub fn build_request(
    algorithm: DigestAlgorithm,
    digest: &[u8],
    nonce: bool,
    policy_oid: Option<&str>,
    cert_req: bool,
) -> Result<TimestampRequest, String> {
    if digest.len() != algorithm.output_len() {
        return Err(format!(
            "a {} digest is {} bytes, not {}",
            algorithm.name(),
            algorithm.output_len(),
            digest.len()
        ));
    }
    let policy = match policy_oid {
        None => None,
        Some(p) => Some(
            asn1::ObjectIdentifier::from_string(p)
                .ok_or_else(|| format!("policy_oid {p:?} is not a dotted object identifier"))?,
        ),
    };
    let nonce_bytes = if nonce {
        let mut n = [0u8; 8];
        aws_lc_rs::rand::fill(&mut n).map_err(|_| "no randomness available for the nonce".to_string())?;
        // Top bit clear (a positive INTEGER) and the next set (minimal encoding, X.690
        // §8.3.2): 62 random bits remain.
        n[0] = (n[0] & 0x7f) | 0x40;
        Some(n.to_vec())
    } else {
        None
    };
    let alg_der = algorithm.algorithm_identifier_der();
    let alg_tlv = asn1::parse_single::<asn1::Tlv<'_>>(&alg_der).map_err(|e| format!("hash algorithm: {e}"))?;
    let req = asn::TimeStampReqWrite {
        version: 1,
        message_imprint: asn::MessageImprintWrite {
            hash_algorithm: alg_tlv,
            hashed_message: digest,
        },
        req_policy: policy,
        nonce: match &nonce_bytes {
            Some(n) => Some(asn1::BigInt::new(n).ok_or_else(|| "nonce encoding".to_string())?),
            None => None,
        },
        cert_req: if cert_req { Some(true) } else { None },
    };
    let der = asn1::write_single(&req).map_err(|e| format!("TimeStampReq: {e:?}"))?;
    Ok(TimestampRequest {
        der,
        nonce: nonce_bytes,
    })
}

/// A TSA's answer, judged: the token (when one came) and the verdict on it.
#[derive(Clone, Debug)]
pub struct ResponseOutcome {
    pub timestamp: TimestampOutcome,
    pub token: Option<Vec<u8>>,
}

fn status_name(s: u8) -> &'static str {
    match s {
        asn::status::GRANTED => "granted",
        asn::status::GRANTED_WITH_MODS => "grantedWithMods",
        asn::status::REJECTION => "rejection",
        asn::status::WAITING => "waiting",
        asn::status::REVOCATION_WARNING => "revocationWarning",
        asn::status::REVOCATION_NOTIFICATION => "revocationNotification",
        _ => "an unknown status",
    }
}

/// Judges a TimeStampResp to a request for `digest` (RFC 3161 §2.4.2): the status is
/// granted, the token verifies and stamps `digest`, it echoes `nonce`, and it was issued
/// under `policy_oid` when one was asked for.
pub fn check_response(
    ctx: &dyn crate::cms::verify::TrustContext,
    response: &[u8],
    algorithm: DigestAlgorithm,
    digest: &[u8],
    nonce: Option<&[u8]>,
    policy_oid: Option<&str>,
    at: crate::time::UnixTime,
) -> ResponseOutcome {
    let refused = |code: Code, reason: String| ResponseOutcome {
        timestamp: TimestampOutcome::failure(code, reason),
        token: None,
    };
    let resp = match asn1::parse_single::<asn::TimeStampResp<'_>>(response) {
        Ok(r) => r,
        Err(e) => {
            return refused(
                Code::TimestampRejected,
                format!("the TSA did not answer with a TimeStampResp (RFC 3161 §2.4.2): {e}"),
            )
        }
    };
    let st = &resp.status;
    if !matches!(st.status, asn::status::GRANTED | asn::status::GRANTED_WITH_MODS) {
        let text: Vec<String> = st
            .status_string
            .clone()
            .map(|s| s.map(|u| u.as_str().to_owned()).collect())
            .unwrap_or_default();
        let fails: Vec<&str> = st
            .fail_info
            .as_ref()
            .map(|b| {
                asn::FAILURE_INFO_NAMES
                    .iter()
                    .filter(|(bit, _)| b.has_bit_set(*bit))
                    .map(|(_, n)| *n)
                    .collect()
            })
            .unwrap_or_default();
        let mut reason = format!("the TSA answered {} ({})", status_name(st.status), st.status);
        if !fails.is_empty() {
            reason.push_str(&format!(", failInfo {}", fails.join(", ")));
        }
        if !text.is_empty() {
            reason.push_str(&format!(": {}", text.join("; ")));
        }
        return refused(Code::TimestampRejected, reason);
    }
    // RFC 3161 §2.4.2: with granted(0) or grantedWithMods(1) the token MUST be present.
    let Some(token) = resp.time_stamp_token else {
        return refused(
            Code::TimestampInvalid,
            format!(
                "the TSA answered {} but sent no token (RFC 3161 §2.4.2)",
                status_name(st.status)
            ),
        );
    };
    let token = token.full_data().to_vec();
    let mut ts = verify_token(ctx, &token, Stamped::Digest { algorithm, digest }, at);
    // A token that does not echo the nonce answers another request: a replay, whatever else
    // is true of it (RFC 3161 §2.4.2: "MUST be present ... if the nonce field was present").
    if ts.gen_time.is_some() {
        if let Some(sent) = nonce {
            if ts.nonce.as_deref() != Some(sent) {
                let got = ts.nonce.as_ref().map(hex::encode).unwrap_or_else(|| "none".into());
                ts = ts.fail(
                    Code::TimestampNonceMismatch,
                    None,
                    format!(
                        "the TSA's token carries nonce {got} but the request sent {}: a replayed or misrouted response",
                        hex::encode(sent)
                    ),
                );
            }
        }
        if ts.ok() {
            if let Some(p) = policy_oid {
                if ts.policy_oid.as_deref() != Some(p) {
                    let got = ts.policy_oid.clone().unwrap_or_default();
                    ts = ts.fail(
                        Code::TimestampRejected,
                        None,
                        format!("the TSA stamped under policy {got}, not the policy {p} requested"),
                    );
                }
            }
        }
    }
    ResponseOutcome {
        timestamp: ts,
        token: Some(token),
    }
}

impl Engine {
    /// [`check_response`] with this engine's trust store, at the policy's time (or now).
    pub fn check_timestamp_response(
        &self,
        response: &[u8],
        algorithm: DigestAlgorithm,
        digest: &[u8],
        nonce: Option<&[u8]>,
        policy_oid: Option<&str>,
    ) -> ResponseOutcome {
        let at = self.default_time();
        let ctx = self.trust_context(at);
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            check_response(&ctx, response, algorithm, digest, nonce, policy_oid, at)
        }))
        .unwrap_or_else(|_| ResponseOutcome {
            timestamp: TimestampOutcome::failure(
                Code::TimestampInvalid,
                "internal error while checking this TSA response (please report it)",
            ),
            token: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_positive_minimal_and_fresh() {
        let d = [0u8; 32];
        let a = build_request(DigestAlgorithm::Sha256, &d, true, None, true).expect("builds");
        let b = build_request(DigestAlgorithm::Sha256, &d, true, None, true).expect("builds");
        let na = a.nonce.expect("nonce");
        assert_eq!(na.len(), 8);
        assert_eq!(na[0] & 0xc0, 0x40);
        assert_ne!(Some(na), b.nonce);
    }

    #[test]
    fn a_digest_of_the_wrong_size_is_refused() {
        let err = build_request(DigestAlgorithm::Sha256, &[0u8; 20], false, None, true).expect_err("refused");
        assert!(err.contains("sha256"), "{err}");
    }

    #[test]
    fn rejection_status_is_reported_with_fail_info_and_text() {
        // TimeStampResp { PKIStatusInfo { rejection(2), {"busy"}, failInfo badAlg } }
        let resp = [
            0x30, 0x11, 0x30, 0x0f, 0x02, 0x01, 0x02, 0x30, 0x06, 0x0c, 0x04, b'b', b'u', b's', b'y', 0x03, 0x02, 0x07,
            0x80,
        ];
        let engine = Engine::new(crate::Policy::default(), None, Vec::new(), Vec::new());
        let out = engine.check_timestamp_response(&resp, DigestAlgorithm::Sha256, &[0u8; 32], None, None);
        assert_eq!(out.timestamp.code, Code::TimestampRejected);
        assert_eq!(
            out.timestamp.reason,
            "the TSA answered rejection (2), failInfo badAlg: busy"
        );
        assert!(out.token.is_none());
    }

    #[test]
    fn garbage_is_not_a_response() {
        let engine = Engine::new(crate::Policy::default(), None, Vec::new(), Vec::new());
        let out = engine.check_timestamp_response(b"<html>", DigestAlgorithm::Sha256, &[0u8; 32], None, None);
        assert_eq!(out.timestamp.code, Code::TimestampRejected);
        assert!(out
            .timestamp
            .reason
            .starts_with("the TSA did not answer with a TimeStampResp"));
    }
}
