//! The append-only log's leaf encoding: how one snapshot record becomes the
//! bytes an RFC 6962 Merkle leaf is hashed over.
//!
//! The record encoding is one compact JSON object whose members appear in
//! exactly the order of [`LeafRecord`]'s fields (`v` first), strings escaped as
//! serde_json escapes them, absent values as `null`. The Merkle leaf input is
//! the record digest SHA-256(record encoding), 32 bytes, so a tree of a million
//! snapshots fits in memory; the leaf hash is SHA-256(0x00 ‖ record digest)
//! (RFC 6962 §2.1). Because the record carries the body's SHA-256, the log
//! commits to every received byte. Pure: no IO.

use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::domain::digest::Digest;

/// A snapshot's place in the log: its sequence number, from 0 without gaps,
/// which is also its Merkle leaf index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Seq(pub u64);

impl Seq {
    /// The next entry of the log.
    pub fn next(self) -> Seq {
        Seq(self.0 + 1)
    }
}

impl std::fmt::Display for Seq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Version of the leaf encoding; a new encoding gets a new number and old
/// leaves keep theirs. v2 adds `origin` (last member); v1 records (rows
/// written before schema 8) have none and encode exactly as before.
pub const LEAF_VERSION: u32 = 2;

/// The encoding version of a record with or without an origin.
pub fn leaf_version(has_origin: bool) -> u32 {
    if has_origin {
        LEAF_VERSION
    } else {
        1
    }
}

/// The fields of a snapshot the log commits to, in encoding order.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct LeafRecord {
    pub v: u32,
    pub seq: u64,
    pub gstin: String,
    pub endpoint: String,
    pub period: String,
    pub page: u32,
    pub method: String,
    pub request: String,
    pub requested_at: String,
    pub received_at: String,
    pub http_status: Option<u16>,
    pub transaction_id: Option<String>,
    pub status_cd: Option<String>,
    pub error_cd: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
    pub body_sha256: Option<String>,
    pub body_size: Option<u64>,
    pub payload_sha256: Option<String>,
    pub chksums: String,
    /// v2: the API origin the answer came from (`domain::origin`); absent in v1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

impl LeafRecord {
    /// The canonical leaf bytes.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a struct of strings and integers always serialises")
    }

    /// SHA-256 of the encoding: the Merkle leaf input.
    pub fn record_digest(&self) -> Digest {
        Digest::of(&self.encode())
    }

    /// The RFC 6962 leaf hash of this record's leaf input.
    pub fn leaf_hash(&self) -> Digest {
        leaf_hash(&self.record_digest().0)
    }
}

/// RFC 6962 leaf hash: SHA-256(0x00 ‖ bytes).
pub fn leaf_hash(bytes: &[u8]) -> Digest {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(bytes);
    Digest(h.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_is_fixed_order_compact_json() {
        let r = LeafRecord {
            v: 1,
            seq: 0,
            gstin: "27AAPFU0939F1ZV".into(),
            endpoint: "gstr-3b".into(),
            period: "2025-04".into(),
            page: 0,
            method: "GET".into(),
            request: "/x".into(),
            requested_at: "2025-05-01T00:00:00.000Z".into(),
            received_at: "2025-05-01T00:00:00.100Z".into(),
            http_status: Some(200),
            transaction_id: None,
            status_cd: Some("1".into()),
            error_cd: None,
            outcome: "ok".into(),
            detail: None,
            body_sha256: Some("ab".into()),
            body_size: Some(2),
            payload_sha256: Some("cd".into()),
            chksums: "{}".into(),
            origin: None,
        };
        let text = String::from_utf8(r.encode()).unwrap();
        assert!(text.starts_with(r#"{"v":1,"seq":0,"gstin":"27AAPFU0939F1ZV","endpoint":"gstr-3b""#));
        assert!(text.ends_with(r#""payload_sha256":"cd","chksums":"{}"}"#));
        let v2 = LeafRecord {
            v: 2,
            origin: Some("https://api.sandbox.co.in".into()),
            ..r.clone()
        };
        let text = String::from_utf8(v2.encode()).unwrap();
        assert!(text.starts_with(r#"{"v":2,"seq":0,"#));
        assert!(text.ends_with(r#""chksums":"{}","origin":"https://api.sandbox.co.in"}"#));
        // RFC 6962: the empty leaf hashes to SHA-256(0x00).
        assert_eq!(
            leaf_hash(b"").hex(),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }
}
