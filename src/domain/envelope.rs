//! Reading a Sandbox response without changing a byte of it: the outcome, the
//! GSTN status and error codes, the exact byte span of the payload, and the
//! portal `chksum` values inside it.
//!
//! The envelope (`code`, `timestamp`, `transaction_id`) differs on every call,
//! the payload usually does not; the store keeps the payload span
//! content-addressed and the rest per snapshot. The span is located by
//! borrowing `serde_json::RawValue`s from the received bytes, so
//! `body[span]` is exactly what the portal sent. Pure: no IO, no clock.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;

use serde_json::value::RawValue;
use serde_json::Value;

use crate::domain::catalog::{error_kind, ErrorKind, NO_DATA_DETAILS, SESSION_INVALID_CODES};

/// How a request ended, as archived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// GSTN answered with data (`status_cd` "1", "3", or the flat ISD shape).
    Ok,
    /// GSTN answered "nothing for these inputs" (RET11416, RET13509, ...).
    NoData,
    /// GSTN answered with another business error, or the body was not the envelope.
    ApiError,
    /// The platform answered with a non-2xx HTTP status.
    HttpError,
    /// No complete response arrived (connect error, timeout, torn body).
    TransportError,
    /// The portal is still preparing the answer: a download still queued
    /// after the poll limit, or a large return answered with a token and an
    /// estimated time instead of data (its files are fetched when ready).
    Pending,
    /// An answer gstvault does not recognise: an unknown `status_cd` or
    /// error code, archived as received and counted apart so it is seen.
    Unrecognised,
}

impl Outcome {
    pub const ALL: [Outcome; 7] = [
        Outcome::Ok,
        Outcome::NoData,
        Outcome::ApiError,
        Outcome::HttpError,
        Outcome::TransportError,
        Outcome::Pending,
        Outcome::Unrecognised,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::NoData => "no_data",
            Outcome::ApiError => "api_error",
            Outcome::HttpError => "http_error",
            Outcome::TransportError => "transport_error",
            Outcome::Pending => "pending",
            Outcome::Unrecognised => "unrecognised",
        }
    }

    /// What the outcome means, for the legend of a bundle's index.
    pub fn meaning(self) -> &'static str {
        match self {
            Outcome::Ok => "the portal answered with data; the payload is in the bundle",
            Outcome::NoData => "the portal answered that the return or section has no data for that period; its code follows (e.g. RET11416 no invoices, RET13509 return not filed, RET2B1016 2B not generated)",
            Outcome::ApiError => "the portal refused the request with a business error, code given; nothing about the period's data is proved",
            Outcome::HttpError => "the API platform answered with an HTTP error status; no portal data",
            Outcome::TransportError => "no complete answer arrived (connection, timeout); no portal data",
            Outcome::Pending => "the portal was still preparing the answer (a queued download, a large return's token)",
            Outcome::Unrecognised => "an answer gstvault does not recognise, archived as received with its code",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// The answers the portal meant about the data (`ok`, `no_data`): the
    /// only ones change detection compares and as-of views pick.
    pub const ANSWERED: [Outcome; 2] = [Outcome::Ok, Outcome::NoData];

    /// [`Outcome::ANSWERED`] and GSTN business errors: every answer the
    /// portal gave on purpose (the planner trusts these, not failures).
    pub const MEANT: [Outcome; 3] = [Outcome::Ok, Outcome::NoData, Outcome::ApiError];

    /// Whether this is an answer about the data ([`Outcome::ANSWERED`]).
    pub fn is_answered(self) -> bool {
        Outcome::ANSWERED.contains(&self)
    }

    /// Whether the request failed (an API, HTTP or transport error).
    pub fn is_failure(self) -> bool {
        matches!(self, Outcome::ApiError | Outcome::HttpError | Outcome::TransportError)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// What [`parse`] read from one response body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reading {
    pub outcome: Outcome,
    /// `data.status_cd` as sent (a string on the wire).
    pub status_cd: Option<String>,
    /// `data.error.error_cd` (or `error_code`, the public-track spelling).
    pub error_cd: Option<String>,
    pub error_message: Option<String>,
    pub transaction_id: Option<String>,
    /// Byte range of the payload inside the body: `data.data` when present,
    /// else `data` (flat ISD shape, business errors), else the whole body.
    pub payload: Range<usize>,
    /// The section-level `chksum` strings of the payload (JSON pointer depth at
    /// most [`CHKSUM_DEPTH`]), by pointer. Document-level checksums stay in the
    /// payload: repeating thousands of invoice checksums on every snapshot row
    /// would make the archive grow with runs instead of with change.
    pub chksums: BTreeMap<String, String>,
    /// GSTR-2B file count when the answer is `status_cd "3"`.
    pub file_count: Option<u32>,
    /// A large return answered with a token (`status_cd "2"`): its files
    /// come later from the file-details call.
    pub large_file: Option<LargeFile>,
    /// Human-readable reason when the body is not what the API documents.
    pub detail: Option<String>,
}

/// The token and estimate of a large return's answer: the portal prepares
/// the return as files and answers `{"token", "est"}` (minutes) instead of
/// data; the file-details call with the token gives the files' URLs. GSTN's
/// large-file flow (ENDPOINTS.md section 9, RTN_24; the Sandbox envelope of
/// it, `status_cd "2"` beside 2B's `"3"`, is inferred).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LargeFile {
    pub token: String,
    /// `est`: minutes until the files are ready, as the portal estimated.
    pub est_minutes: Option<u32>,
}

impl Reading {
    /// The taxpayer session behind the request is no longer valid (AUTH4033).
    pub fn session_invalid(&self) -> bool {
        self.error_cd
            .as_deref()
            .is_some_and(|c| SESSION_INVALID_CODES.contains(&c))
    }

    /// The portal's API access for the GSTIN ended (AUTH4038, RET11402, ...):
    /// the reason a person acts on, `{gstin}` standing for the GSTIN.
    pub fn access_ended(&self) -> Option<&'static str> {
        match error_kind(self.error_cd.as_deref()?) {
            ErrorKind::AccessEnded(reason) => Some(reason),
            _ => None,
        }
    }
}

/// Whether `body` contains one of the session-invalid or access-ended codes
/// at all: a cheap test before [`parse`] for callers that only ask
/// [`Reading::session_invalid`] and [`Reading::access_ended`].
pub fn may_be_session_invalid(body: &[u8]) -> bool {
    let has = |code: &str| body.windows(code.len()).any(|w| w == code.as_bytes());
    SESSION_INVALID_CODES.iter().any(|code| has(code))
        || crate::domain::catalog::ACCESS_ENDED_CODES
            .iter()
            .any(|(code, _)| has(code))
}

type RawMap<'a> = BTreeMap<Cow<'a, str>, &'a RawValue>;

/// Deepest JSON pointer (in segments) whose `chksum` is recorded on the row:
/// `/chksum`, `/hsn/chksum`, `/sec_sum/3/chksum`.
pub const CHKSUM_DEPTH: usize = 3;

fn offset_of(body: &[u8], raw: &RawValue) -> Range<usize> {
    let start = raw.get().as_ptr() as usize - body.as_ptr() as usize;
    start..start + raw.get().len()
}

fn raw_string(raw: Option<&&RawValue>) -> Option<String> {
    let raw = raw?;
    match serde_json::from_str::<Value>(raw.get()).ok()? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads a response body. `http_status` is the HTTP status line's code.
pub fn parse(http_status: u16, body: &[u8]) -> Reading {
    let whole = 0..body.len();
    let mut reading = Reading {
        outcome: Outcome::ApiError,
        status_cd: None,
        error_cd: None,
        error_message: None,
        transaction_id: None,
        payload: whole,
        chksums: BTreeMap::new(),
        file_count: None,
        large_file: None,
        detail: None,
    };
    let top: Option<RawMap<'_>> = serde_json::from_slice(body).ok();
    if !(200..300).contains(&http_status) {
        reading.outcome = Outcome::HttpError;
        if let Some(top) = &top {
            reading.transaction_id = raw_string(top.get("transaction_id"));
            reading.error_message = raw_string(top.get("message"));
        }
        reading.detail = Some(format!("HTTP {http_status}"));
        return reading;
    }
    let Some(top) = top else {
        reading.detail = Some(if std::str::from_utf8(body).is_err() {
            "body is not UTF-8 JSON".to_string()
        } else {
            "body is not valid JSON".to_string()
        });
        return reading;
    };
    reading.transaction_id = raw_string(top.get("transaction_id"));
    let Some(data_raw) = top.get("data").copied() else {
        reading.detail = Some("body has no `data` member".to_string());
        return reading;
    };
    let data: Option<RawMap<'_>> = serde_json::from_str(data_raw.get()).ok();
    let Some(data) = data else {
        reading.detail = Some("`data` is not an object".to_string());
        return reading;
    };
    // Offsets must refer to `body`, and `data` was re-parsed from a sub-slice of it,
    // so every RawValue inside still points into `body`.
    let mut answer = data;
    let mut answer_raw = data_raw;
    if !answer.contains_key("status_cd") {
        // A Sandbox job answer carries GSTN's own answer one level deeper
        // (`data.data.status_cd`: a failed e-invoice download,
        // https://developer.sandbox.co.in/reference/list-purchase-e-invoices-job-status-api);
        // the payload stays the whole job answer.
        let nested: Option<(RawMap<'_>, &RawValue)> = answer
            .get("data")
            .and_then(|raw| serde_json::from_str::<RawMap<'_>>(raw.get()).ok().map(|m| (m, *raw)))
            .filter(|(m, _)| m.contains_key("status_cd"));
        if let Some((inner, inner_raw)) = nested {
            answer = inner;
            answer_raw = inner_raw;
        }
    }
    reading.status_cd = raw_string(answer.get("status_cd"));
    match reading.status_cd.as_deref() {
        Some("1") | Some("3") => {
            let inner = answer.get("data").copied();
            reading.payload = offset_of(body, inner.unwrap_or(answer_raw));
            reading.outcome = Outcome::Ok;
            if reading.status_cd.as_deref() == Some("3") {
                reading.file_count = file_count(inner.unwrap_or(answer_raw)).or_else(|| file_count(answer_raw));
            }
        }
        Some("2") => {
            // A large return: a token and an estimate instead of data.
            let inner = answer.get("data").copied();
            reading.payload = offset_of(body, inner.unwrap_or(answer_raw));
            reading.large_file = large_file(inner.unwrap_or(answer_raw)).or_else(|| large_file(answer_raw));
            reading.outcome = Outcome::Pending;
            reading.detail = Some(match &reading.large_file {
                Some(LargeFile {
                    est_minutes: Some(est), ..
                }) => format!("large return: the portal prepares it as files, ready in about {est} min"),
                Some(_) => "large return: the portal prepares it as files".to_string(),
                None => {
                    reading.outcome = Outcome::Unrecognised;
                    "status_cd \"2\" without a file token".to_string()
                }
            });
        }
        Some("0") => {
            reading.payload = offset_of(body, data_raw);
            let error: Option<RawMap<'_>> = answer.get("error").and_then(|e| serde_json::from_str(e.get()).ok());
            if let Some(error) = error {
                reading.error_cd = raw_string(error.get("error_cd")).or_else(|| raw_string(error.get("error_code")));
                reading.error_message = raw_string(error.get("message"));
            }
            let (outcome, detail) = match reading.error_cd.as_deref() {
                None => (
                    Outcome::Unrecognised,
                    Some("status_cd \"0\" without an error code".to_string()),
                ),
                Some(code) => match error_kind(code) {
                    ErrorKind::NoData => (
                        Outcome::NoData,
                        NO_DATA_DETAILS
                            .iter()
                            .find(|(c, _)| *c == code)
                            .map(|(_, d)| d.to_string()),
                    ),
                    ErrorKind::Preparing => (
                        Outcome::Pending,
                        Some(format!("{code}: the portal is still preparing the answer")),
                    ),
                    ErrorKind::Unrecognised => (Outcome::Unrecognised, Some(format!("unrecognised error code {code}"))),
                    ErrorKind::SessionInvalid | ErrorKind::AccessEnded(_) | ErrorKind::Known => {
                        (Outcome::ApiError, None)
                    }
                },
            };
            reading.outcome = outcome;
            reading.detail = detail;
        }
        Some(other) => {
            reading.payload = offset_of(body, data_raw);
            reading.outcome = Outcome::Unrecognised;
            reading.detail = Some(format!("unrecognised status_cd {other:?}"));
        }
        None => {
            // The GSTR-2A ISD quirk: the payload sits directly under `data`.
            reading.payload = offset_of(body, data_raw);
            reading.outcome = Outcome::Ok;
        }
    }
    reading.chksums = chksums(&body[reading.payload.clone()]).unwrap_or_default();
    reading
}

/// The section-level `chksum` strings of a payload, by JSON pointer, or None
/// when the payload is not one JSON value.
///
/// Read in one pass without building the document: only the members above
/// [`CHKSUM_DEPTH`] are looked at, deeper values are skipped unallocated (a
/// GSTR-1 section carries thousands of invoices).
fn chksums(payload: &[u8]) -> Option<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut reader = serde_json::Deserializer::from_slice(payload);
    let walk = ChksumWalk {
        path: String::new(),
        depth: 0,
        under_chksum: false,
        out: &mut out,
    };
    serde::de::DeserializeSeed::deserialize(walk, &mut reader).ok()?;
    reader.end().ok()?;
    Some(out)
}

fn file_count(raw: &RawValue) -> Option<u32> {
    let value: Value = serde_json::from_str(raw.get()).ok()?;
    let fc = value.get("fc")?;
    fc.as_u64()
        .or_else(|| fc.as_str().and_then(|s| s.parse().ok()))
        .map(|n| n as u32)
}

fn large_file(raw: &RawValue) -> Option<LargeFile> {
    let value: Value = serde_json::from_str(raw.get()).ok()?;
    let token = value.get("token")?.as_str()?.to_string();
    let est = value.get("est").and_then(|e| {
        e.as_u64()
            .or_else(|| e.as_str().and_then(|s| s.trim().parse().ok()))
            .map(|n| n.min(u64::from(u32::MAX)) as u32)
    });
    Some(LargeFile {
        token,
        est_minutes: est,
    })
}

/// Reads a file fetched from a download URL (an e-invoice list, a large
/// return's file): not the Sandbox envelope, so the whole body is the
/// payload. A 2xx answer is `ok`; anything else an HTTP error.
pub fn read_file(http_status: u16, body: &[u8]) -> Reading {
    if !(200..300).contains(&http_status) {
        return parse(http_status, body);
    }
    Reading {
        outcome: Outcome::Ok,
        status_cd: None,
        error_cd: None,
        error_message: None,
        transaction_id: None,
        payload: 0..body.len(),
        chksums: chksums(body).unwrap_or_default(),
        file_count: None,
        large_file: None,
        detail: None,
    }
}

/// One value of the payload at `depth` (segments in `path`), read by
/// [`chksums`]: objects and arrays above [`CHKSUM_DEPTH`] are walked, a string
/// under a `chksum` key is recorded, everything else is skipped.
struct ChksumWalk<'a> {
    path: String,
    depth: usize,
    under_chksum: bool,
    out: &'a mut BTreeMap<String, String>,
}

impl ChksumWalk<'_> {
    fn child(&mut self, segment: &str, under_chksum: bool) -> ChksumWalk<'_> {
        ChksumWalk {
            path: format!("{}/{}", self.path, segment.replace('~', "~0").replace('/', "~1")),
            depth: self.depth + 1,
            under_chksum,
            out: self.out,
        }
    }
}

/// Drops what was recorded at `path` or below it.
fn forget(out: &mut BTreeMap<String, String>, path: &str) {
    let below = format!("{path}/");
    let stale: Vec<String> = out
        .range::<str, _>((std::ops::Bound::Included(path), std::ops::Bound::Unbounded))
        .map(|(k, _)| k)
        .take_while(|k| k.starts_with(path))
        .filter(|k| k.as_str() == path || k.starts_with(&below))
        .cloned()
        .collect();
    for k in stale {
        out.remove(&k);
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for ChksumWalk<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, reader: D) -> Result<(), D::Error> {
        if self.depth > CHKSUM_DEPTH || (self.depth == CHKSUM_DEPTH && !self.under_chksum) {
            return reader.deserialize_ignored_any(serde::de::IgnoredAny).map(|_| ());
        }
        reader.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for ChksumWalk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        // A chksum member's value at the last level is an object: nothing below is recorded.
        let walk = self.depth < CHKSUM_DEPTH;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if walk {
                let under_chksum = key == "chksum";
                let child = self.child(&key, under_chksum);
                // A repeated member replaces the earlier one, as in a parsed document.
                forget(child.out, &child.path);
                map.next_value_seed(child)?;
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(mut self, mut items: A) -> Result<(), A::Error> {
        if self.depth >= CHKSUM_DEPTH {
            while items.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            return Ok(());
        }
        let mut index = 0usize;
        loop {
            let seed = self.child(&index.to_string(), false);
            if items.next_element_seed(seed)?.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<(), E> {
        if self.under_chksum {
            self.out.insert(self.path, value.to_string());
        }
        Ok(())
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/tests/fixtures/samples/{name}", env!("CARGO_MANIFEST_DIR")))
            .unwrap_or_else(|_| panic!("sample {name}"))
    }

    #[test]
    fn ok_payload_span_is_data_data() {
        let body = sample("gstr1-hsn.json");
        let r = parse(200, &body);
        assert_eq!(r.outcome, Outcome::Ok);
        assert_eq!(r.status_cd.as_deref(), Some("1"));
        let payload: Value = serde_json::from_slice(&body[r.payload.clone()]).unwrap();
        assert!(payload.get("hsn").is_some());
        assert_eq!(
            r.chksums.get("/hsn/chksum").unwrap(),
            "1a60e5144b4eecdc03ea2326ea0c5171ff7973840f10e9a409e8934c01283743"
        );
        assert_eq!(
            r.transaction_id.as_deref(),
            Some("3f809d3d-8fa8-4c17-a798-8981318122e9")
        );
    }

    #[test]
    fn flat_isd_and_no_data_and_session() {
        let isd = sample("gstr2a-isd.json");
        let r = parse(200, &isd);
        assert_eq!(r.outcome, Outcome::Ok);
        assert!(std::str::from_utf8(&isd[r.payload.clone()]).unwrap().starts_with("{"));
        // Document-level checksums (depth 5) stay in the payload only.
        assert!(r.chksums.is_empty());
        let nd = parse(200, &sample("error-no-data.json"));
        assert_eq!(
            (nd.outcome, nd.error_cd.as_deref()),
            (Outcome::NoData, Some("RET13509"))
        );
        let auth = parse(200, &sample("error-auth-invalid-session.json"));
        assert!(auth.session_invalid());
        assert_eq!(auth.outcome, Outcome::ApiError);
    }

    /// What `chksums` must find: the document parsed whole, then walked.
    fn chksums_of_document(payload: &[u8]) -> Option<BTreeMap<String, String>> {
        fn walk(value: &Value, path: String, depth: usize, out: &mut BTreeMap<String, String>) {
            if depth >= CHKSUM_DEPTH {
                return;
            }
            let segment = |k: &str| k.replace('~', "~0").replace('/', "~1");
            match value {
                Value::Object(map) => {
                    for (key, child) in map {
                        let child_path = format!("{path}/{}", segment(key));
                        match child {
                            Value::String(s) if key == "chksum" => {
                                out.insert(child_path, s.clone());
                            }
                            _ => walk(child, child_path, depth + 1, out),
                        }
                    }
                }
                Value::Array(items) => {
                    for (index, child) in items.iter().enumerate() {
                        walk(child, format!("{path}/{index}"), depth + 1, out);
                    }
                }
                _ => {}
            }
        }
        let document: Value = serde_json::from_slice(payload).ok()?;
        let mut out = BTreeMap::new();
        walk(&document, String::new(), 0, &mut out);
        Some(out)
    }

    #[test]
    fn chksums_read_in_one_pass_match_the_parsed_document() {
        let mut payloads: Vec<Vec<u8>> =
            std::fs::read_dir(format!("{}/tests/fixtures/samples", env!("CARGO_MANIFEST_DIR")))
                .unwrap()
                .map(|e| {
                    let body = std::fs::read(e.unwrap().path()).unwrap();
                    let span = parse(200, &body).payload;
                    body[span].to_vec()
                })
                .collect();
        for odd in [
            r#"{"chksum":"a","x":{"chksum":"b","y":{"chksum":"c","z":{"chksum":"too deep"}}}}"#,
            r#"{"chksum":{"chksum":"nested"},"sec_sum":[{"chksum":"0"},{"chksum":7},[{"chksum":"deep"}]]}"#,
            r#"{"chksum":"first","chksum":{"a":1}}"#,
            r#"{"a":{"chksum":"x"},"a":5,"b/c~d":{"chksum":"escaped"}}"#,
            r#"{"a":{"chksum":"x"},"a":{"chksum":"y"}}"#,
            r#"[{"chksum":"in an array"},null,true,1.5,-3,"s"]"#,
            r#"{"chksum":"ok"} trailing"#,
            r#"{"chksum":"unterminated""#,
            r#""just a string""#,
        ] {
            payloads.push(odd.as_bytes().to_vec());
        }
        assert!(payloads.len() > 20);
        for payload in &payloads {
            assert_eq!(
                chksums(payload),
                chksums_of_document(payload),
                "{}",
                String::from_utf8_lossy(payload)
            );
        }
    }

    #[test]
    fn odd_bodies_are_read_not_rejected() {
        let r = parse(200, b"{\"code\":200,\"data\":{\"status_cd\":\"1\",\"da");
        assert_eq!(r.outcome, Outcome::ApiError);
        assert_eq!(r.payload, 0..39);
        let r = parse(200, &[0xff, 0xfe, 0x00]);
        assert_eq!(r.detail.as_deref(), Some("body is not UTF-8 JSON"));
        let r = parse(503, b"{\"code\":503,\"message\":\"down\"}");
        assert_eq!(r.outcome, Outcome::HttpError);
        let public =
            br#"{"code":200,"data":{"status_cd":"0","error":{"error_code":"RET13510","message":"No Record"}}}"#;
        assert_eq!(parse(200, public).outcome, Outcome::NoData);
        let paged = br#"{"code":200,"data":{"status_cd":"3","data":{"fc":4}}}"#;
        assert_eq!(parse(200, paged).file_count, Some(4));
    }

    fn gstn_error(code: &str) -> Vec<u8> {
        format!(r#"{{"code":200,"timestamp":1,"transaction_id":"t","data":{{"status_cd":"0","error":{{"error_cd":"{code}","message":"m"}}}}}}"#)
            .into_bytes()
    }

    #[test]
    fn no_data_codes_of_ims_2b_and_einvoice() {
        for code in ["IMS0027", "GTR2B-002", "EINV30113"] {
            let r = parse(200, &gstn_error(code));
            assert_eq!(
                (r.outcome, r.error_cd.as_deref()),
                (Outcome::NoData, Some(code)),
                "{code}"
            );
        }
        // GTR2B-002 says why the 2B is missing; the others say nothing more.
        let r = parse(200, &gstn_error("GTR2B-002"));
        assert!(r.detail.as_deref().unwrap().contains("GSTR-3B was not filed"), "{r:?}");
        assert_eq!(parse(200, &gstn_error("IMS0027")).detail, None);
    }

    #[test]
    fn a_failed_download_carries_its_gstn_answer_one_level_deeper() {
        // The e-invoice job poll's "failed" answer (Sandbox docs, job status page).
        let body = br#"{"code":200,"data":{"updated_at":1732267704160,"month":"10","data":{"status_cd":"0","error":{"message":"Invalid Return Period","error_cd":"EINV30113"}},"year":"2023","job_id":"8ef96cc1","supply_type":"B2B","status":"failed"},"timestamp":1,"transaction_id":"t"}"#;
        let r = parse(200, body);
        assert_eq!((r.outcome, r.error_cd.as_deref()), (Outcome::NoData, Some("EINV30113")));
        // The payload is the whole job answer: what the portal said about the download.
        assert!(std::str::from_utf8(&body[r.payload.clone()])
            .unwrap()
            .contains("\"job_id\""));
    }

    #[test]
    fn access_ended_codes_name_what_to_do() {
        for code in ["AUTH4038", "AUTH4037", "RET11402", "RET2B1010"] {
            let body = gstn_error(code);
            assert!(may_be_session_invalid(&body), "{code}");
            let r = parse(200, &body);
            let reason = r.access_ended().unwrap_or_else(|| panic!("{code} ends access"));
            assert!(
                reason.contains(code) && reason.contains("gstvault login {gstin}"),
                "{reason}"
            );
            assert!(!r.session_invalid(), "{code}: a refresh cannot help");
        }
        assert!(parse(200, &gstn_error("RET11402"))
            .access_ended()
            .unwrap()
            .contains("enable API access"));
        assert!(parse(200, &gstn_error("AUTH4033")).session_invalid());
        assert_eq!(parse(200, &gstn_error("AUTH4033")).access_ended(), None);
    }

    #[test]
    fn unknown_codes_and_status_are_unrecognised_not_folded() {
        let r = parse(200, &gstn_error("XYZ9999"));
        assert_eq!(
            (r.outcome, r.error_cd.as_deref()),
            (Outcome::Unrecognised, Some("XYZ9999"))
        );
        assert_eq!(r.detail.as_deref(), Some("unrecognised error code XYZ9999"));
        let r = parse(200, br#"{"code":200,"data":{"status_cd":"7","data":{}}}"#);
        assert_eq!((r.outcome, r.status_cd.as_deref()), (Outcome::Unrecognised, Some("7")));
        let r = parse(200, br#"{"code":200,"data":{"status_cd":"0"}}"#);
        assert_eq!(r.outcome, Outcome::Unrecognised);
        // A known business error stays an API error.
        assert_eq!(parse(200, &gstn_error("LG9089")).outcome, Outcome::ApiError);
    }

    #[test]
    fn a_large_return_answers_a_token_and_is_pending() {
        let body = br#"{"code":200,"data":{"status_cd":"2","data":{"est":"20","token":"9a8f880b60804e44add8361696d16e86"}},"timestamp":1,"transaction_id":"t"}"#;
        let r = parse(200, body);
        assert_eq!(r.outcome, Outcome::Pending);
        assert_eq!(
            r.large_file,
            Some(LargeFile {
                token: "9a8f880b60804e44add8361696d16e86".into(),
                est_minutes: Some(20)
            })
        );
        assert!(r.detail.as_deref().unwrap().contains("about 20 min"));
        let queued = parse(200, &gstn_error("RTN_24"));
        assert_eq!((queued.outcome, queued.large_file), (Outcome::Pending, None));
    }

    #[test]
    fn a_downloaded_file_is_its_own_payload() {
        let file = br#"[{"irn":"a","chksum":"x"}]"#;
        let r = read_file(200, file);
        assert_eq!((r.outcome, r.payload.clone()), (Outcome::Ok, 0..file.len()));
        assert_eq!(read_file(403, b"<Error/>").outcome, Outcome::HttpError);
        for outcome in Outcome::ALL {
            assert_eq!(Outcome::parse(outcome.as_str()), Some(outcome));
        }
    }
}
