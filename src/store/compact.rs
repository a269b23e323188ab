//! The compact encodings of schema 5 (`migrations/V5__compact_rows.sql`):
//! times as integer milliseconds, SHA-256 digests as 32-byte BLOBs, canonical
//! UUID transaction ids as 16 bytes, and envelopes as a shared template plus
//! the two values that differ on every call (`timestamp`, `transaction_id`).
//!
//! Every encoding here is exact: decoding gives back the very text or bytes
//! that were encoded, and the writers only use an encoding after checking
//! that it round-trips (anything else is stored as it came).

use chrono::{DateTime, Utc};
use rusqlite::types::{Value, ValueRef};

use crate::domain::digest::Digest;

/// Milliseconds since the Unix epoch (the stored time).
pub fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// A digest's stored form.
pub fn digest_blob(digest: &Digest) -> Vec<u8> {
    digest.0.to_vec()
}

/// How a transaction id is stored: 16 bytes when it is a canonical lowercase
/// hyphenated UUID (it then formats back to the same text), else the text.
pub fn transaction_id_value(text: &str) -> Value {
    match uuid::Uuid::try_parse(text) {
        Ok(id) if id.hyphenated().to_string() == text => Value::Blob(id.as_bytes().to_vec()),
        _ => Value::Text(text.to_string()),
    }
}

/// The transaction id text of a stored value.
pub fn transaction_id_text(value: ValueRef<'_>) -> rusqlite::Result<Option<String>> {
    Ok(match value {
        ValueRef::Null => None,
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => match uuid::Uuid::from_slice(b) {
            Ok(id) => Some(id.hyphenated().to_string()),
            Err(_) => Some(hex::encode(b)),
        },
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(r) => Some(r.to_string()),
    })
}

const TIMESTAMP: &[u8] = b"\"timestamp\":";
const TRANSACTION_ID: &[u8] = b"\"transaction_id\":\"";

/// An envelope split into its template and timestamp, when that is exact:
/// the template is the envelope with the digits of the first `"timestamp":`
/// value and the first `"transaction_id":"<id>"` value cut out.
pub fn split_envelope(envelope: &[u8], transaction_id: &str) -> Option<(Vec<u8>, i64)> {
    let ts_at = find(envelope, TIMESTAMP)? + TIMESTAMP.len();
    let digits = envelope[ts_at..].iter().take_while(|b| b.is_ascii_digit()).count();
    let ts_text = std::str::from_utf8(&envelope[ts_at..ts_at + digits]).ok()?;
    let timestamp: i64 = ts_text.parse().ok()?;
    if timestamp.to_string() != ts_text {
        return None; // leading zeros, or nothing there
    }
    let id_at = find(envelope, TRANSACTION_ID)? + TRANSACTION_ID.len();
    let id = transaction_id.as_bytes();
    if !envelope[id_at..].starts_with(id) || envelope.get(id_at + id.len()) != Some(&b'"') {
        return None;
    }
    let mut template = Vec::with_capacity(envelope.len());
    let mut cut = [(ts_at, digits), (id_at, id.len())];
    cut.sort();
    let mut from = 0;
    for (at, len) in cut {
        if at < from {
            return None; // overlapping spans: not an envelope this encodes
        }
        template.extend_from_slice(&envelope[from..at]);
        from = at + len;
    }
    template.extend_from_slice(&envelope[from..]);
    let joined = join_envelope(&template, timestamp, transaction_id)?;
    (joined == envelope).then_some((template, timestamp))
}

/// The envelope of a template, its timestamp and transaction id.
pub fn join_envelope(template: &[u8], timestamp: i64, transaction_id: &str) -> Option<Vec<u8>> {
    let ts_at = find(template, TIMESTAMP)? + TIMESTAMP.len();
    let id_at = find(template, TRANSACTION_ID)? + TRANSACTION_ID.len();
    let ts = timestamp.to_string();
    let mut inserts = [(ts_at, ts.as_bytes()), (id_at, transaction_id.as_bytes())];
    inserts.sort();
    let mut out = Vec::with_capacity(template.len() + ts.len() + transaction_id.len());
    let mut from = 0;
    for (at, bytes) in inserts {
        out.extend_from_slice(&template[from..at]);
        out.extend_from_slice(bytes);
        from = at;
    }
    out.extend_from_slice(&template[from..]);
    Some(out)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENVELOPE: &[u8] = br#"{"code":200,"timestamp":1782433808880,"transaction_id":"129433ac-e6bc-7f0b-aca6-9920bfc62b95","data":{"status_cd":"1","data":}}"#;

    #[test]
    fn envelopes_split_and_join_exactly() {
        let tid = "129433ac-e6bc-7f0b-aca6-9920bfc62b95";
        let (template, ts) = split_envelope(ENVELOPE, tid).unwrap();
        assert_eq!(ts, 1782433808880);
        assert_eq!(
            template,
            br#"{"code":200,"timestamp":,"transaction_id":"","data":{"status_cd":"1","data":}}"#
        );
        assert_eq!(join_envelope(&template, ts, tid).unwrap(), ENVELOPE);
        // Two calls share one template.
        let other = String::from_utf8(ENVELOPE.to_vec())
            .unwrap()
            .replace("1782433808880", "1782433809001")
            .replace(tid, "7c6bdf37-9079-4abf-dbad-cfa16678d195");
        let (template2, _) = split_envelope(other.as_bytes(), "7c6bdf37-9079-4abf-dbad-cfa16678d195").unwrap();
        assert_eq!(template, template2);
    }

    #[test]
    fn envelopes_that_do_not_round_trip_are_not_split() {
        let tid = "129433ac-e6bc-7f0b-aca6-9920bfc62b95";
        // Leading zero, spaces, an id that is not the one named, no timestamp.
        for env in [
            r#"{"timestamp":0123,"transaction_id":"x"}"#.to_string(),
            format!(r#"{{"timestamp": 1,"transaction_id":"{tid}"}}"#),
            r#"{"timestamp":1,"transaction_id":"other"}"#.to_string(),
            format!(r#"{{"transaction_id":"{tid}"}}"#),
            format!(r#"{{"timestamp":1,"transaction_id":"{tid}x"}}"#),
        ] {
            assert!(split_envelope(env.as_bytes(), tid).is_none(), "{env}");
        }
        // Order does not matter.
        let env = format!(r#"{{"transaction_id":"{tid}","timestamp":17}}"#);
        let (template, ts) = split_envelope(env.as_bytes(), tid).unwrap();
        assert_eq!(join_envelope(&template, ts, tid).unwrap(), env.as_bytes());
    }

    #[test]
    fn transaction_ids_round_trip() {
        for tid in [
            "129433ac-e6bc-7f0b-aca6-9920bfc62b95",
            "129433AC-E6BC-7F0B-ACA6-9920BFC62B95",
            "TXN-42",
            "12",
        ] {
            let value = transaction_id_value(tid);
            let back = match &value {
                Value::Blob(b) => transaction_id_text(ValueRef::Blob(b)).unwrap(),
                Value::Text(t) => transaction_id_text(ValueRef::Text(t.as_bytes())).unwrap(),
                _ => unreachable!(),
            };
            assert_eq!(back.as_deref(), Some(tid));
        }
        assert!(matches!(
            transaction_id_value("129433ac-e6bc-7f0b-aca6-9920bfc62b95"),
            Value::Blob(_)
        ));
        assert!(matches!(
            transaction_id_value("129433AC-E6BC-7F0B-ACA6-9920BFC62B95"),
            Value::Text(_)
        ));
    }
}
