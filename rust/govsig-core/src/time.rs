//! Instants as seconds since the Unix epoch (UTC). X.509 times have one-second resolution.

/// Seconds since 1970-01-01T00:00:00Z.
pub type UnixTime = i64;

/// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's
/// days_from_civil algorithm; exact for all years representable in X.509).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Converts an ASN.1 date-time (already validated by the parser) to Unix seconds.
pub fn from_asn1(dt: &asn1::DateTime) -> UnixTime {
    let days = days_from_civil(i64::from(dt.year()), i64::from(dt.month()), i64::from(dt.day()));
    days * 86_400 + i64::from(dt.hour()) * 3600 + i64::from(dt.minute()) * 60 + i64::from(dt.second())
}

/// Converts an X.509 `Time`.
pub fn from_time(t: &govsig_asn1::common::Time) -> UnixTime {
    from_asn1(t.as_datetime())
}

/// Formats as RFC 3339 (`2026-01-02T03:04:05Z`), for reasons and reports.
pub fn to_rfc3339(t: UnixTime) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    // civil_from_days (inverse of the above).
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// The current time.
pub fn now() -> UnixTime {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        let dt = asn1::DateTime::new(2011, 4, 15, 0, 0, 0).unwrap();
        assert_eq!(from_asn1(&dt), 1_302_825_600);
        assert_eq!(to_rfc3339(1_302_825_600), "2011-04-15T00:00:00Z");
        let dt = asn1::DateTime::new(1950, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(to_rfc3339(from_asn1(&dt)), "1950-01-01T00:00:00Z");
        let dt = asn1::DateTime::new(2049, 12, 31, 23, 59, 59).unwrap();
        assert_eq!(to_rfc3339(from_asn1(&dt)), "2049-12-31T23:59:59Z");
    }
}
