//! The signer's guard: what must hold before a checkpoint is signed, and the
//! cheap check of the log's tip that every capture run starts with.
//!
//! A new checkpoint's root is computed from the snapshot rows, one pass over
//! their leaf hashes ([`RootBuilder`]), and signed only when the stored Merkle
//! tiles give the same root (bundle proofs are read from them) and it is a
//! provable extension (RFC 6962 consistency) of the newest stored checkpoint,
//! whose own text, signature and root are checked first. Anything else is
//! damage: [`StoreError::Damaged`], one line naming what, never signed over.
//!
//! The tip check ([`check_tip`]) costs O(log N) plus the snapshots appended
//! since the newest checkpoint: that checkpoint's text and signature, its
//! root against the stored tree, and every tile written since against the
//! rows. Older rows are covered by the signature chain and by the full
//! `verify --archive` the daemon runs on a schedule.

use crate::domain::digest::Digest;
use crate::domain::merkle::{self, RootBuilder, TileSource};
use crate::evidence::signing::PublicKey;
use crate::store::{CheckpointRow, Reader, StoreError};

/// Leaves read from the rows per query while recomputing the root.
const CHUNK: u64 = 1 << 15;

/// One piece of damage the guard found: what, and how it differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damage {
    pub what: String,
    pub detail: String,
}

impl Damage {
    fn new(what: impl Into<String>, detail: impl Into<String>) -> Damage {
        Damage {
            what: what.into(),
            detail: detail.into(),
        }
    }

    /// As the store's error, naming the archive.
    pub fn into_error(self, store: &Reader) -> StoreError {
        StoreError::Damaged {
            path: store.path().display().to_string(),
            what: self.what,
            detail: self.detail,
        }
    }
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is damaged: {}", self.what, self.detail)
    }
}

/// The newest stored checkpoint (by id), if any.
fn newest(store: &Reader) -> Result<Option<CheckpointRow>, StoreError> {
    Ok(store.checkpoints()?.pop())
}

/// Checks a stored checkpoint's row against its signed text and, when `key`
/// is its key, its signature.
fn check_row(checkpoint: &CheckpointRow, key: Option<&PublicKey>) -> Option<Damage> {
    let what = format!("checkpoint {}", checkpoint.id);
    let Some(signed) = checkpoint.signed() else {
        return Some(Damage::new(what, "its stored text is not a checkpoint"));
    };
    if signed.head.size != checkpoint.size
        || signed.head.root != checkpoint.root
        || signed.head.origin != checkpoint.origin
    {
        return Some(Damage::new(
            what,
            "its size, root or origin differ from its signed text",
        ));
    }
    match key {
        Some(key) if key.info.key_id == checkpoint.key_id => signed
            .verify(key)
            .err()
            .map(|e| Damage::new(what, format!("its signature does not verify ({e})"))),
        _ => None,
    }
}

/// The cheap check of the log's tip at the start of a run: the newest
/// checkpoint's row, text and signature (with `key`), its root against the
/// stored tree, and the tiles written since it against the rows. Empty when
/// nothing is damaged.
///
/// Fails only when the archive cannot be read.
pub fn check_tip(store: &Reader, key: Option<&PublicKey>) -> Result<Vec<Damage>, StoreError> {
    store.read_consistent(|store| {
        let Some(last) = newest(store)? else {
            return Ok(Vec::new());
        };
        if let Some(damage) = check_row(&last, key) {
            return Ok(vec![damage]);
        }
        let size = store.snapshot_count()?;
        Ok(check_extension(store, &last, size).into_iter().collect())
    })
}

/// Whether the stored tree of `size` leaves extends `last` as it should: the
/// log still holds `last`'s leaves, the stored tree of them gives its root,
/// and every tile written since agrees with the rows.
fn check_extension(store: &Reader, last: &CheckpointRow, size: u64) -> Option<Damage> {
    let what = format!("checkpoint {}", last.id);
    if last.size > size {
        return Some(Damage::new(
            what,
            format!("it covers {} snapshots but the log holds {size}", last.size),
        ));
    }
    match store.tree(last.size).root() {
        Ok(root) if root == last.root => {}
        Ok(_) => {
            return Some(Damage::new(
                what,
                format!(
                    "the stored Merkle tree of snapshots 0..{} does not give its signed root",
                    last.size
                ),
            ))
        }
        Err(e) => return Some(Damage::new("the Merkle tree", e)),
    }
    match merkle::tiles_differing_since(store, last.size, size) {
        Ok(differing) if differing.is_empty() => None,
        Ok(differing) => {
            let (level, index) = differing[0];
            Some(Damage::new(
                "the Merkle tree",
                format!(
                    "{} tile(s) written since checkpoint {} disagree with the snapshot rows, first {level}/{index}",
                    differing.len(),
                    last.id
                ),
            ))
        }
        Err(e) => Some(Damage::new("the Merkle tree", e)),
    }
}

/// The root of the first `size` snapshots, computed from their rows in one pass.
///
/// Fails when a row cannot be read or the log has a gap.
pub fn root_from_rows(store: &Reader, size: u64) -> Result<Digest, StoreError> {
    let mut builder = RootBuilder::default();
    let mut start = 0;
    while start < size {
        let end = (start + CHUNK).min(size);
        let hashes = store
            .leaf_hashes(start, end)
            .map_err(|detail| Damage::new("the log", detail).into_error(store))?;
        builder.push_leaf_hashes(&hashes);
        start = end;
    }
    Ok(builder.root())
}

/// The root the next checkpoint signs: the tree of all `size` snapshots,
/// computed from the rows, after checking that the stored tiles give the
/// same root and that it provably extends the newest stored checkpoint
/// (checked with `key` when it is that checkpoint's key).
///
/// Fails with [`StoreError::Damaged`] naming what is damaged, so that
/// nothing damaged is signed over.
pub fn signable_root(store: &Reader, size: u64, key: Option<&PublicKey>) -> Result<Digest, StoreError> {
    let last = newest(store)?;
    if let Some(last) = &last {
        if let Some(damage) = check_row(last, key).or_else(|| check_extension(store, last, size)) {
            return Err(damage.into_error(store));
        }
    }
    let root = root_from_rows(store, size)?;
    let tree = store.tree(size);
    let tiles_root = tree
        .root()
        .map_err(|e| Damage::new("the Merkle tree", e).into_error(store))?;
    if tiles_root != root {
        return Err(Damage::new(
            "the Merkle tree",
            format!("the stored tiles of snapshots 0..{size} do not give the root of the snapshot rows"),
        )
        .into_error(store));
    }
    if let Some(last) = &last {
        let proof = tree
            .consistency_proof(last.size)
            .map_err(|e| Damage::new("the Merkle tree", e).into_error(store))?;
        if !merkle::verify_consistency(last.root, last.size, root, size, &proof) {
            return Err(Damage::new(
                "the log",
                format!(
                    "the root of its {size} snapshot rows is not a provable extension of checkpoint {} \
                     (size {}): rows it covers were changed",
                    last.id, last.size
                ),
            )
            .into_error(store));
        }
    }
    Ok(root)
}
