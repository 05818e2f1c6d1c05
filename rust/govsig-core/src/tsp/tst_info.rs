//! The TSTInfo of a time-stamp token (RFC 3161 §2.4.2), read into an owned view.

use govsig_asn1::tsp as asn;

use crate::crypto::DigestAlgorithm;
use crate::time::{self, UnixTime};

/// genTime: whole seconds plus the fraction the TSA wrote (RFC 3161 §2.4.2 allows any
/// precision; trailing zeros are omitted, so 12:00:00.5Z is 500_000_000 nanoseconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct GenTime {
    pub seconds: UnixTime,
    pub nanos: u32,
}

impl GenTime {
    /// RFC 3339 with the fraction as written (no trailing zeros), for reasons and reports.
    pub fn to_rfc3339(&self) -> String {
        let whole = time::to_rfc3339(self.seconds);
        if self.nanos == 0 {
            return whole;
        }
        let frac = format!("{:09}", self.nanos);
        let frac = frac.trim_end_matches('0');
        // `whole` ends in 'Z'; the fraction goes before it.
        format!("{}.{}Z", whole.trim_end_matches('Z'), frac)
    }
}

/// `Accuracy` (RFC 3161 §2.4.2): genTime lies within genTime ± this.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Accuracy {
    pub seconds: u64,
    pub millis: u16,
    pub micros: u16,
}

impl Accuracy {
    /// The whole accuracy in microseconds (saturating: a TSA claiming more than ~584 000
    /// years of inaccuracy gets no more).
    pub fn total_micros(&self) -> u64 {
        self.seconds
            .saturating_mul(1_000_000)
            .saturating_add(u64::from(self.millis) * 1000)
            .saturating_add(u64::from(self.micros))
    }
}

/// What a TSTInfo says.
#[derive(Clone, Debug)]
pub struct TstInfo {
    pub policy_oid: String,
    /// The imprint's hash algorithm; `Err` holds why it is not usable (reported only when
    /// the imprint is compared).
    pub hash_algorithm: Result<DigestAlgorithm, crate::crypto::CryptoError>,
    pub hashed_message: Vec<u8>,
    /// Two's-complement content octets, as encoded.
    pub serial: Vec<u8>,
    pub gen_time: GenTime,
    pub accuracy: Option<Accuracy>,
    pub ordering: bool,
    pub nonce: Option<Vec<u8>>,
    /// The `tsa` field as text (a directoryName in RFC 4514 form, else a short description).
    pub tsa_name: Option<String>,
    /// The `tsa` field's directoryName DER, when it is one (compared with the TSA certificate).
    pub tsa_directory_name: Option<Vec<u8>>,
}

/// Parses a DER TSTInfo; the error says what is wrong, for a person.
pub fn parse(der: &[u8]) -> Result<TstInfo, String> {
    let t = asn1::parse_single::<asn::TstInfo<'_>>(der)
        .map_err(|e| format!("TSTInfo is not valid DER: {}", govsig_asn1::common::explain(&e)))?;
    // RFC 3161 §2.4.2: version v1(1) is the only version.
    if t.version != 1 {
        return Err(format!("TSTInfo version {} is not v1 (RFC 3161 §2.4.2)", t.version));
    }
    let ai_der = asn1::write_single(&t.message_imprint.hash_algorithm)
        .map_err(|e| format!("messageImprint.hashAlgorithm: {e:?}"))?;
    let accuracy = match &t.accuracy {
        None => None,
        Some(a) => {
            // RFC 3161 §2.4.2: millis and micros are INTEGER (1..999).
            let part = |v: Option<u64>, what: &str| -> Result<u16, String> {
                match v {
                    None => Ok(0),
                    Some(n @ 1..=999) => u16::try_from(n).map_err(|_| format!("accuracy {what}")),
                    Some(n) => Err(format!("accuracy {what} is {n}, outside 1..999 (RFC 3161 §2.4.2)")),
                }
            };
            Some(Accuracy {
                seconds: a.seconds.unwrap_or(0),
                millis: part(a.millis, "millis")?,
                micros: part(a.micros, "micros")?,
            })
        }
    };
    let (tsa_name, tsa_directory_name) = match &t.tsa {
        None => (None, None),
        Some(govsig_asn1::x509::GeneralName::DirectoryName(n)) => {
            let text = crate::x509::Name::from_der(n.full_data())
                .map(|n| n.to_string())
                .unwrap_or_else(|_| "<unreadable directoryName>".into());
            (Some(text), Some(n.full_data().to_vec()))
        }
        Some(govsig_asn1::x509::GeneralName::DnsName(d)) => (Some(format!("DNS:{}", d.as_str())), None),
        Some(govsig_asn1::x509::GeneralName::UniformResourceIdentifier(u)) => {
            (Some(format!("URI:{}", u.as_str())), None)
        }
        Some(govsig_asn1::x509::GeneralName::Rfc822Name(m)) => (Some(format!("email:{}", m.as_str())), None),
        Some(_) => (Some("<a GeneralName of another form>".into()), None),
    };
    Ok(TstInfo {
        policy_oid: crate::oidtext::dotted(&t.policy),
        hash_algorithm: DigestAlgorithm::from_algorithm_identifier(&ai_der),
        hashed_message: t.message_imprint.hashed_message.to_vec(),
        serial: t.serial_number.as_bytes().to_vec(),
        gen_time: GenTime {
            seconds: time::from_asn1(t.gen_time.as_datetime()),
            nanos: t.gen_time.nanoseconds().unwrap_or(0),
        },
        accuracy,
        ordering: t.ordering.unwrap_or(false),
        nonce: t.nonce.map(|n| n.as_bytes().to_vec()),
        tsa_name,
        tsa_directory_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_print_without_trailing_zeros() {
        let g = GenTime {
            seconds: 1_700_000_000,
            nanos: 250_000_000,
        };
        assert_eq!(g.to_rfc3339(), "2023-11-14T22:13:20.25Z");
        let whole = GenTime {
            seconds: 1_700_000_000,
            nanos: 0,
        };
        assert_eq!(whole.to_rfc3339(), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn accuracy_sums_its_parts() {
        let a = Accuracy {
            seconds: 1,
            millis: 500,
            micros: 7,
        };
        assert_eq!(a.total_micros(), 1_500_007);
    }
}
