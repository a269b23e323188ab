//! Checkpoints: signed tree heads of the append-only log in the C2SP
//! tlog-checkpoint text form (`<origin>\n<size>\n<base64 root>\n`), signed
//! with the archive's minisign key. The trusted comment repeats origin, size
//! and root so `minisign -V` alone shows what was signed. The text forms are
//! pure; [`record`] signs the archive's current tree head and stores it.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use crate::domain::digest::Digest;
use crate::evidence::guard;
use crate::evidence::signing::{PublicKey, SigningError, SigningKey};
use crate::store::{CheckpointRow, Store, StoreError};

/// A tree head: size and root, under an origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeHead {
    pub origin: String,
    pub size: u64,
    pub root: Digest,
}

/// A tree head with its text and signature, as stored and as bundled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub head: TreeHead,
    /// The checkpoint text (what is signed).
    pub body: String,
    /// minisign signature file text over `body`.
    pub signature: String,
}

impl TreeHead {
    /// The C2SP checkpoint body.
    pub fn body(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, BASE64.encode(self.root.0))
    }

    pub fn trusted_comment(&self) -> String {
        format!(
            "gstvault checkpoint origin={} size={} root={}",
            self.origin,
            self.size,
            self.root.hex()
        )
    }

    /// Parses a checkpoint body; None when it is not one.
    pub fn parse(body: &str) -> Option<TreeHead> {
        let mut lines = body.split('\n');
        let origin = lines.next()?.to_string();
        let size = lines.next()?.parse().ok()?;
        let root_bytes = BASE64.decode(lines.next()?).ok()?;
        if origin.is_empty() || root_bytes.len() != 32 {
            return None;
        }
        let mut root = [0u8; 32];
        root.copy_from_slice(&root_bytes);
        let head = TreeHead {
            origin,
            size,
            root: Digest(root),
        };
        (head.body() == body).then_some(head)
    }

    pub fn sign(&self, key: &SigningKey) -> SignedCheckpoint {
        let body = self.body();
        let signature = key.sign(body.as_bytes(), &self.trusted_comment());
        SignedCheckpoint {
            head: self.clone(),
            body,
            signature,
        }
    }
}

/// A checkpoint as a bundle carries it: `checkpoint.txt` is the C2SP signed
/// note of the checkpoint text (its Ed25519 note signature under the
/// checkpoint origin), and `checkpoint.txt.minisig` the minisign signature of
/// the whole note file, whose trusted comment repeats origin, size and root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointNote {
    pub head: TreeHead,
    /// The note's bytes (`checkpoint.txt`).
    pub note: String,
    /// minisign signature file text over `note`.
    pub signature: String,
}

impl CheckpointNote {
    /// Reads a note file without checking it: the text before the blank
    /// line must be a checkpoint (None otherwise).
    pub fn parse(note: &str, signature: &str) -> Option<CheckpointNote> {
        let (text, _) = note.split_once("\n\n")?;
        let head = TreeHead::parse(&format!("{text}\n"))?;
        Some(CheckpointNote {
            head,
            note: note.to_string(),
            signature: signature.to_string(),
        })
    }

    /// Checks both signatures with `key`: the note's (under the checkpoint
    /// origin, over exactly this checkpoint's text) and minisign's over the
    /// note file, with this checkpoint's trusted comment.
    pub fn verify(&self, key: &PublicKey) -> Result<(), SigningError> {
        let text = key.verify_note(&self.head.origin, self.note.as_bytes())?;
        if text != self.head.body() {
            return Err(SigningError::Signature("the signed note is not this checkpoint".into()));
        }
        let comment = key.verify(self.note.as_bytes(), &self.signature)?;
        if comment != self.head.trusted_comment() {
            return Err(SigningError::Signature(
                "the minisign signature's trusted comment is not this checkpoint".into(),
            ));
        }
        Ok(())
    }
}

impl SignedCheckpoint {
    /// This checkpoint as a bundle carries it, signed (again, deterministically)
    /// with `key`, which must be the key that signed it.
    ///
    /// Fails when the stored signature is not `key`'s or the text cannot be a note.
    pub fn as_note(&self, key: &SigningKey) -> Result<CheckpointNote, SigningError> {
        self.verify(&key.public())?;
        let note = key.sign_note(&self.head.origin, &self.body)?;
        let signature = key.sign(note.as_bytes(), &self.head.trusted_comment());
        Ok(CheckpointNote {
            head: self.head.clone(),
            note,
            signature,
        })
    }

    /// Checks the signature and that the signed text is this tree head.
    pub fn verify(&self, key: &PublicKey) -> Result<(), SigningError> {
        let comment = key.verify(self.body.as_bytes(), &self.signature)?;
        if comment != self.head.trusted_comment() || TreeHead::parse(&self.body).as_ref() != Some(&self.head) {
            return Err(SigningError::Signature(
                "the signed checkpoint is not this tree head".into(),
            ));
        }
        Ok(())
    }
}

/// Builds, signs and stores the checkpoint over the whole log now. When the
/// newest stored checkpoint of this key already has this size it is
/// returned instead (after the tip check), so repeated calls without new
/// snapshots add nothing. The root is computed from the rows and signed only
/// when it provably extends the newest stored checkpoint ([`guard`]).
///
/// Fails when the archive cannot be read or written, and with
/// [`StoreError::Damaged`] when the log or the newest checkpoint is damaged:
/// then nothing is signed.
///
/// [`guard`]: crate::evidence::guard
pub fn record(
    store: &mut Store,
    key: &SigningKey,
    now: chrono::DateTime<chrono::Utc>,
    run_id: Option<i64>,
) -> Result<CheckpointRow, StoreError> {
    let public = key.public();
    let size = store.snapshot_count()?;
    let key_id = key.info().key_id;
    let checkpoints = store.checkpoints()?;
    if let Some(last) = checkpoints.last().filter(|c| c.key_id == key_id && c.size == size) {
        if let Some(damage) = guard::check_tip(store, Some(&public))?.into_iter().next() {
            return Err(damage.into_error(store));
        }
        return Ok(last.clone());
    }
    let root = guard::signable_root(store, size, Some(&public))?;
    let head = TreeHead {
        origin: origin(&store.archive_id()?),
        size,
        root,
    };
    let signed = head.sign(key);
    let mut row = CheckpointRow {
        id: 0,
        size,
        root: head.root,
        origin: head.origin.clone(),
        body: signed.body,
        signature: signed.signature,
        key_id,
        created_at: crate::domain::time::Timestamp::of(now),
        run_id,
    };
    row.id = store.append_checkpoint(&row)?;
    Ok(row)
}

/// The checkpoint origin of an archive.
pub fn origin(archive_id: &str) -> String {
    format!("gstvault.archive/{archive_id}")
}

impl CheckpointRow {
    /// The signed checkpoint this row holds (None when its text is not a checkpoint).
    pub fn signed(&self) -> Option<SignedCheckpoint> {
        Some(SignedCheckpoint {
            head: TreeHead::parse(&self.body)?,
            body: self.body.clone(),
            signature: self.signature.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_round_trips_and_signature_binds_the_head() {
        let head = TreeHead {
            origin: "gstvault.archive/x".into(),
            size: 42,
            root: Digest::of(b"r"),
        };
        assert_eq!(TreeHead::parse(&head.body()), Some(head.clone()));
        assert!(TreeHead::parse("o\n4x\nAAAA\n").is_none());
        let dir = tempfile::tempdir().unwrap();
        let (sk, pk) = (dir.path().join("k.key"), dir.path().join("k.pub"));
        crate::evidence::signing::keygen(&sk, &pk, None).unwrap();
        let key = SigningKey::load(&sk, None).unwrap();
        let public = PublicKey::parse(&std::fs::read_to_string(&pk).unwrap()).unwrap();
        let signed = head.sign(&key);
        signed.verify(&public).unwrap();
        let mut forged = signed.clone();
        forged.head.size = 43;
        assert!(forged.verify(&public).is_err());

        // As a bundle carries it: a C2SP note whose text is the checkpoint.
        let note = signed.as_note(&key).unwrap();
        assert!(note
            .note
            .starts_with(&format!("{}\n\u{2014} gstvault.archive/x ", head.body())));
        let read = CheckpointNote::parse(&note.note, &note.signature).unwrap();
        assert_eq!(read, note);
        read.verify(&public).unwrap();
        let bigger = CheckpointNote::parse(&note.note.replace("\n42\n", "\n43\n"), &note.signature).unwrap();
        assert!(bigger.verify(&public).is_err());
    }
}
