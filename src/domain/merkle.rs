//! The append-only log as an RFC 6962 Merkle tree over the snapshots' record
//! digests (leaf *i* = snapshot `seq` *i*), in two forms:
//!
//! * [`Tree`], in memory through the `ct-merkle` crate, for `verify` (which
//!   recomputes every leaf anyway) and for checking bundle proofs;
//! * [`StoredTree`], the archive's persisted tree in the tlog-tiles layout
//!   (Go's `sumdb/tlog`, through the `tlog_tiles` crate): tiles of height 2,
//!   level-0 tiles (leaf hashes) computed from the rows on demand, higher
//!   tiles stored. A root or proof reads O(log N) stored hashes and the four
//!   leaves of each block it touches, instead of rebuilding the whole tree; [`grown_tiles`] says which stored
//!   tiles change when the log grows.
//!
//! Both give identical roots and proofs (tested against each other). Proofs
//! travel as lists of 32-byte hashes (hex in bundles). Pure: a
//! [`TileSource`] supplies leaf hashes and stored tiles; nothing here runs SQL.

use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ct_merkle::{ConsistencyProof, HashableLeaf, InclusionProof, RootHash};
use sha2::Sha256;

use std::cell::RefCell;
use std::collections::HashMap;

use tlog_tiles::{HashReader, Tile};

use crate::domain::digest::Digest;

/// Height of a tile: 2 tree levels, 4 hashes. The lowest tiles hold leaf
/// hashes, which are not stored: a proof recomputes the leaves of each
/// level-0 tile it touches from the rows, so a small height keeps that to 4
/// rows (a bundle's snapshots are spread over the whole log), and the stored
/// tiles cost 32 bytes per 4 leaves (issue 8: storage and export rows).
pub const TILE_HEIGHT: u8 = 2;
const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;
const HASH_SIZE: usize = 32;

/// Where a [`StoredTree`] gets its hashes.
pub trait TileSource {
    /// The RFC 6962 leaf hashes of leaves `start..end`, concatenated.
    fn leaf_hashes(&self, start: u64, end: u64) -> Result<Vec<u8>, String>;
    /// The stored hashes of tile (`level` ≥ 1, `index`), concatenated: up to
    /// 2^[`TILE_HEIGHT`], fewer for the rightmost tile of a level; None when not stored.
    fn stored_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, String>;
}

/// The tree of the first `size` leaves of a log whose tiles a [`TileSource`] holds.
pub struct StoredTree<'a, S: TileSource> {
    source: &'a S,
    size: u64,
    /// Tile data read so far: (level, index) -> hashes.
    cache: RefCell<HashMap<(u8, u64), Vec<u8>>>,
}

impl<'a, S: TileSource> StoredTree<'a, S> {
    pub fn new(source: &'a S, size: u64) -> StoredTree<'a, S> {
        StoredTree {
            source,
            size,
            cache: RefCell::new(HashMap::new()),
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root hash (SHA-256("") for the empty tree).
    pub fn root(&self) -> Result<Digest, String> {
        tlog_tiles::tree_hash(self.size, self)
            .map(|h| Digest(h.0))
            .map_err(message)
    }

    /// The audit path of leaf `index` to the root.
    pub fn inclusion_proof(&self, index: u64) -> Result<Vec<Digest>, String> {
        tlog_tiles::prove_record(self.size, index, self)
            .map(|p| p.into_iter().map(|h| Digest(h.0)).collect())
            .map_err(message)
    }

    /// Proof that the tree of `old_size` leaves is a prefix of this one
    /// (empty when the sizes are equal).
    pub fn consistency_proof(&self, old_size: u64) -> Result<Vec<Digest>, String> {
        if old_size == self.size {
            return Ok(Vec::new());
        }
        tlog_tiles::prove_tree(self.size, old_size, self)
            .map(|p| p.into_iter().map(|h| Digest(h.0)).collect())
            .map_err(message)
    }

    /// The first `width` hashes of tile (`level`, `index`).
    fn tile(&self, level: u8, index: u64, width: u64) -> Result<Vec<u8>, String> {
        let want = width as usize * HASH_SIZE;
        if let Some(data) = self.cache.borrow().get(&(level, index)).filter(|d| d.len() >= want) {
            return Ok(data[..want].to_vec());
        }
        let data = if level == 0 {
            // The whole block up to the tree's size, once.
            let start = index * TILE_WIDTH;
            let end = (start + TILE_WIDTH).min(self.size.max(start + width));
            self.source.leaf_hashes(start, end)?
        } else {
            self.source
                .stored_tile(level, index)?
                .ok_or_else(|| format!("merkle tile {level}/{index} is not stored"))?
        };
        if data.len() < want {
            return Err(format!(
                "merkle tile {level}/{index} holds {} hashes, {width} needed",
                data.len() / HASH_SIZE
            ));
        }
        let out = data[..want].to_vec();
        self.cache.borrow_mut().insert((level, index), data);
        Ok(out)
    }
}

impl<S: TileSource> HashReader for StoredTree<'_, S> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog_tiles::Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&i| {
                let tile = Tile::from_index(TILE_HEIGHT, i);
                let data = self
                    .tile(tile.level(), tile.level_index(), u64::from(tile.width()))
                    .map_err(tlog_tiles::Error::InvalidInput)?;
                tile.hash_at_index(&data, i)
            })
            .collect()
    }
}

fn message(e: tlog_tiles::Error) -> String {
    match e {
        tlog_tiles::Error::InvalidInput(m) => m,
        other => other.to_string(),
    }
}

/// The stored tiles (level ≥ 1) that are new or wider once the log has grown
/// from `old` to `new` leaves: (level, index, all its hashes).
///
/// `source` must hold the tiles of the tree of `old` leaves and the leaf
/// hashes of all `new` leaves.
pub fn grown_tiles<S: TileSource>(source: &S, old: u64, new: u64) -> Result<Vec<(u8, u64, Vec<u8>)>, String> {
    let mut out: Vec<(u8, u64, Vec<u8>)> = Vec::new();
    let mut made: HashMap<(u8, u64), usize> = HashMap::new();
    for tile in Tile::new_tiles(TILE_HEIGHT, old, new) {
        let (level, index, width) = (tile.level(), tile.level_index(), u64::from(tile.width()));
        if level == 0 {
            continue;
        }
        let mut data = source.stored_tile(level, index)?.unwrap_or_default();
        data.truncate(width as usize * HASH_SIZE);
        for entry in (data.len() / HASH_SIZE) as u64..width {
            // Entry j of level L is the root of child tile (L-1, j), full.
            let child_index = index * TILE_WIDTH + entry;
            let child = if level == 1 {
                source.leaf_hashes(child_index * TILE_WIDTH, (child_index + 1) * TILE_WIDTH)?
            } else if let Some(&at) = made.get(&(level - 1, child_index)) {
                out[at].2.clone()
            } else {
                source.stored_tile(level - 1, child_index)?.unwrap_or_default()
            };
            if child.len() != TILE_WIDTH as usize * HASH_SIZE {
                return Err(format!("merkle tile {}/{child_index} is not complete", level - 1));
            }
            data.extend_from_slice(&Tile::subtree_hash(&child).0);
        }
        made.insert((level, index), out.len());
        out.push((level, index, data));
    }
    Ok(out)
}

/// The RFC 6962 root of a log computed in one pass over its leaf hashes,
/// in O(log N) memory: the signer recomputes the root from the rows with it
/// (never from stored tiles alone). Holds the roots of the perfect subtrees
/// the leaves so far split into, largest first.
#[derive(Default)]
pub struct RootBuilder {
    /// (leaf count, hash) of each perfect subtree, counts strictly decreasing.
    stack: Vec<(u64, [u8; 32])>,
    size: u64,
}

impl RootBuilder {
    /// Appends the next leaf hash (RFC 6962: SHA-256(0x00 || leaf input)).
    pub fn push_leaf_hash(&mut self, leaf_hash: [u8; 32]) {
        let mut node = (1u64, leaf_hash);
        while let Some(&(count, left)) = self.stack.last() {
            if count != node.0 {
                break;
            }
            self.stack.pop();
            node = (count * 2, node_hash(&left, &node.1));
        }
        self.stack.push(node);
        self.size += 1;
    }

    /// Appends concatenated 32-byte leaf hashes, as a [`TileSource`] gives them.
    pub fn push_leaf_hashes(&mut self, hashes: &[u8]) {
        for chunk in hashes.chunks_exact(HASH_SIZE) {
            self.push_leaf_hash(to_array(chunk));
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root over the leaves so far (SHA-256("") for none): the largest
    /// perfect subtree is the left child, the rest the right, recursively.
    pub fn root(&self) -> Digest {
        let mut nodes = self.stack.iter().rev();
        let Some(&(_, mut acc)) = nodes.next() else {
            return Digest::of(b"");
        };
        for (_, left) in nodes {
            acc = node_hash(left, &acc);
        }
        Digest(acc)
    }
}

/// RFC 6962 interior node: SHA-256(0x01 || left || right).
fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    use sha2::Digest as _;
    let mut hasher = Sha256::new();
    hasher.update([1u8]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// A [`TileSource`] seen as the log was at `size` leaves: stored tiles cut to
/// the hashes the tree of `size` leaves had (leaf hashes pass through).
/// [`grown_tiles`] over it recomputes, from the leaves, every stored hash
/// written since, so they can be compared with what is stored.
pub struct AsOf<'a, S: TileSource> {
    pub source: &'a S,
    pub size: u64,
}

impl<S: TileSource> TileSource for AsOf<'_, S> {
    fn leaf_hashes(&self, start: u64, end: u64) -> Result<Vec<u8>, String> {
        self.source.leaf_hashes(start, end)
    }

    fn stored_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, String> {
        // Entry j of a level-L tile is the root of a complete subtree of
        // 4^L leaves; the tree of `size` leaves had size / 4^L of them.
        let complete = self.size >> (u32::from(TILE_HEIGHT) * u32::from(level));
        let entries = complete.saturating_sub(index * TILE_WIDTH).min(TILE_WIDTH) as usize;
        Ok(self.source.stored_tile(level, index)?.map(|mut data| {
            data.truncate(entries * HASH_SIZE);
            data
        }))
    }
}

/// The stored tiles (level ≥ 1) written since the log had `old` leaves that
/// differ from the tiles recomputed from its leaf hashes, up to `new`
/// leaves: (level, index) of each. Empty when the stored tree is the tree of
/// the leaves. Reads the leaves from just below `old` to `new` and O(log N)
/// stored tiles.
///
/// Fails when a leaf or a tile that the tree of `old` leaves had cannot be read.
pub fn tiles_differing_since<S: TileSource>(source: &S, old: u64, new: u64) -> Result<Vec<(u8, u64)>, String> {
    let expected = grown_tiles(&AsOf { source, size: old }, old, new)?;
    let mut differing = Vec::new();
    for (level, index, hashes) in expected {
        let stored = source.stored_tile(level, index)?.unwrap_or_default();
        if stored.get(..hashes.len()) != Some(&hashes[..]) {
            differing.push((level, index));
        }
    }
    Ok(differing)
}

/// Leaf hashes and tiles held in memory (verification, tests).
#[derive(Default)]
pub struct MemoryTiles {
    pub leaves: Vec<u8>,
    pub tiles: HashMap<(u8, u64), Vec<u8>>,
}

impl MemoryTiles {
    /// Tiles of the tree over these record digests.
    pub fn of(record_digests: &[Digest]) -> Result<MemoryTiles, String> {
        let mut tiles = MemoryTiles::default();
        for d in record_digests {
            tiles.leaves.extend_from_slice(&crate::domain::log::leaf_hash(&d.0).0);
        }
        for (level, index, data) in grown_tiles(&tiles, 0, record_digests.len() as u64)? {
            tiles.tiles.insert((level, index), data);
        }
        Ok(tiles)
    }
}

impl TileSource for MemoryTiles {
    fn leaf_hashes(&self, start: u64, end: u64) -> Result<Vec<u8>, String> {
        self.leaves
            .get(start as usize * HASH_SIZE..end as usize * HASH_SIZE)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| format!("leaves {start}..{end} are not in the log"))
    }

    fn stored_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, String> {
        Ok(self.tiles.get(&(level, index)).cloned())
    }
}

/// A tree over 32-byte leaf inputs (record digests).
pub struct Tree {
    inner: MemoryBackedTree<Sha256, [u8; 32]>,
}

impl Default for Tree {
    fn default() -> Self {
        Tree::new()
    }
}

impl Tree {
    pub fn new() -> Tree {
        Tree {
            inner: MemoryBackedTree::new(),
        }
    }

    /// Appends the next leaf input.
    pub fn push(&mut self, record_digest: Digest) {
        self.inner.push(record_digest.0);
    }

    pub fn size(&self) -> u64 {
        self.inner.len()
    }

    /// The root hash (SHA-256("") for the empty tree).
    pub fn root(&self) -> Digest {
        if self.inner.is_empty() {
            return Digest::of(b"");
        }
        Digest(to_array(self.inner.root().as_bytes()))
    }

    /// The audit path of leaf `index` to the current root.
    ///
    /// Panics if `index` is not below [`Tree::size`] (callers check).
    pub fn inclusion_proof(&self, index: u64) -> Vec<Digest> {
        split(self.inner.prove_inclusion(index as usize).as_bytes())
    }

    /// Proof that the tree of `old_size` leaves is a prefix of this one.
    ///
    /// Panics unless 0 < old_size <= size (callers check).
    pub fn consistency_proof(&self, old_size: u64) -> Vec<Digest> {
        let additions = (self.size() - old_size) as usize;
        split(self.inner.prove_consistency(additions).as_bytes())
    }
}

fn to_array(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&bytes[..32]);
    out
}

fn split(bytes: &[u8]) -> Vec<Digest> {
    bytes.chunks(32).map(|c| Digest(to_array(c))).collect()
}

fn join(proof: &[Digest]) -> Vec<u8> {
    proof.iter().flat_map(|d| d.0).collect()
}

fn root_hash(root: Digest, size: u64) -> RootHash<Sha256> {
    RootHash::new(root.0.into(), size)
}

/// Checks that `leaf` is leaf `index` of the tree with `root` and `size`.
pub fn verify_inclusion<T: HashableLeaf>(root: Digest, size: u64, leaf: &T, index: u64, proof: &[Digest]) -> bool {
    let Ok(proof) = InclusionProof::<Sha256>::try_from_bytes(join(proof)) else {
        return false;
    };
    root_hash(root, size).verify_inclusion(leaf, index, &proof).is_ok()
}

/// Checks that the tree (`old_root`, `old_size`) is a prefix of (`new_root`, `new_size`).
pub fn verify_consistency(old_root: Digest, old_size: u64, new_root: Digest, new_size: u64, proof: &[Digest]) -> bool {
    if old_size == new_size {
        return old_root == new_root && proof.is_empty();
    }
    let Ok(proof) = ConsistencyProof::<Sha256>::try_from_bytes(join(proof)) else {
        return false;
    };
    root_hash(new_root, new_size)
        .verify_consistency(&root_hash(old_root, old_size), &proof)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Known answers from transparency-dev/merkle testonly/reference_test.go:
    // the eight reference leaves and the roots of their prefixes.
    const LEAVES: [&str; 8] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];
    const ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    #[test]
    fn root_builder_matches_the_reference_roots_and_the_tree() {
        let mut builder = RootBuilder::default();
        assert_eq!(builder.root(), Digest::of(b""));
        for (leaf, root) in LEAVES.iter().zip(ROOTS) {
            builder.push_leaf_hash(crate::domain::log::leaf_hash(&hex::decode(leaf).unwrap()).0);
            assert_eq!(builder.root().hex(), root);
        }
        let mut tree = Tree::new();
        let mut builder = RootBuilder::default();
        for i in 0..300u32 {
            let d = Digest::of(&i.to_be_bytes());
            tree.push(d);
            builder.push_leaf_hash(crate::domain::log::leaf_hash(&d.0).0);
            assert_eq!(builder.root(), tree.root(), "size {}", i + 1);
        }
    }

    #[test]
    fn tiles_written_since_a_size_are_checked_against_the_leaves() {
        let digests: Vec<Digest> = (0..100u32).map(|i| Digest::of(&i.to_be_bytes())).collect();
        let mut tiles = MemoryTiles::of(&digests).unwrap();
        for old in [0, 1, 37, 64, 99, 100] {
            assert_eq!(tiles_differing_since(&tiles, old, 100).unwrap(), vec![], "old {old}");
        }
        // A leaf changed after size 40 (its row altered, stored tiles stale).
        let at = 45 * HASH_SIZE;
        tiles.leaves[at] ^= 1;
        assert!(!tiles_differing_since(&tiles, 40, 100).unwrap().is_empty());
        // A stored hash changed after size 40.
        let mut tiles = MemoryTiles::of(&digests).unwrap();
        tiles.tiles.get_mut(&(1, 3)).unwrap()[0] ^= 1;
        assert_eq!(tiles_differing_since(&tiles, 40, 100).unwrap(), vec![(1, 3)]);
    }

    #[test]
    fn reference_roots_and_proofs() {
        let mut tree: MemoryBackedTree<Sha256, Vec<u8>> = MemoryBackedTree::new();
        for (i, leaf) in LEAVES.iter().enumerate() {
            tree.push(hex::decode(leaf).unwrap());
            assert_eq!(
                hex::encode(tree.root().as_bytes()),
                ROOTS[i],
                "root of {} leaves",
                i + 1
            );
        }
        // Inclusion of leaf 5 in the tree of 8 (reference vector).
        let proof = split(tree.prove_inclusion(5).as_bytes());
        let expected = [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ];
        assert_eq!(proof.iter().map(Digest::hex).collect::<Vec<_>>(), expected);
        let root = Digest::from_hex(ROOTS[7]).unwrap();
        assert!(verify_inclusion(root, 8, &hex::decode(LEAVES[5]).unwrap(), 5, &proof));
        assert!(!verify_inclusion(root, 8, &hex::decode(LEAVES[4]).unwrap(), 5, &proof));
    }

    #[test]
    fn stored_tree_agrees_with_the_memory_tree() {
        // Sizes around tile edges (256, 65,536 is too big for a unit test: 256 × 3 + some).
        let digests: Vec<Digest> = (0..800u32).map(|i| Digest::of(&i.to_be_bytes())).collect();
        let mut tree = Tree::new();
        let mut tiles = MemoryTiles::default();
        let mut leaves = 0u64;
        for (i, d) in digests.iter().enumerate() {
            tree.push(*d);
            tiles.leaves.extend_from_slice(&crate::domain::log::leaf_hash(&d.0).0);
            let size = i as u64 + 1;
            // Grow the stored tiles in uneven steps, as batches do.
            if size.is_multiple_of(37) || size == 256 || size == 512 || size == 800 {
                for (level, index, data) in grown_tiles(&tiles, leaves, size).unwrap() {
                    tiles.tiles.insert((level, index), data);
                }
                leaves = size;
                let stored = StoredTree::new(&tiles, size);
                assert_eq!(stored.root().unwrap(), tree.root(), "root of {size}");
                for index in [0, size / 2, size - 1] {
                    assert_eq!(
                        stored.inclusion_proof(index).unwrap(),
                        tree.inclusion_proof(index),
                        "inclusion of {index} in {size}"
                    );
                }
                for old in [1, size / 3 + 1, size] {
                    assert_eq!(
                        stored.consistency_proof(old).unwrap(),
                        if old == size {
                            Vec::new()
                        } else {
                            tree.consistency_proof(old)
                        },
                        "consistency {old} -> {size}"
                    );
                }
            }
        }
        // Rebuilt in one step, the tiles are the same.
        assert_eq!(MemoryTiles::of(&digests).unwrap().tiles, tiles.tiles);
        // An older size reads the same stored tiles.
        let stored = StoredTree::new(&tiles, 300);
        let mut small = Tree::new();
        digests[..300].iter().for_each(|d| small.push(*d));
        assert_eq!(stored.root().unwrap(), small.root());
        assert_eq!(StoredTree::new(&tiles, 0).root().unwrap(), Digest::of(b""));
    }

    #[test]
    fn consistency_between_prefixes() {
        let mut tree = Tree::new();
        let mut roots = Vec::new();
        for i in 0..13u8 {
            tree.push(Digest::of(&[i]));
            roots.push(tree.root());
        }
        for old in 1..=13u64 {
            let proof = tree.consistency_proof(old);
            assert!(
                verify_consistency(roots[old as usize - 1], old, tree.root(), 13, &proof),
                "{old}"
            );
            if old < 13 {
                assert!(!verify_consistency(roots[old as usize], old, tree.root(), 13, &proof));
            }
        }
        let proof = tree.inclusion_proof(7);
        assert!(verify_inclusion(tree.root(), 13, &Digest::of(&[7]).0, 7, &proof));
    }
}
