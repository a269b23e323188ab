//! The append-only log as an RFC 6962 Merkle tree, through the maintained
//! `ct-merkle` crate: roots, inclusion proofs and consistency proofs over the
//! snapshots' record digests (leaf *i* = snapshot `seq` *i*).
//!
//! Proofs travel as lists of 32-byte hashes (hex in bundles). Pure: the
//! caller supplies the record digests; nothing here reads the archive.

use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ct_merkle::{ConsistencyProof, HashableLeaf, InclusionProof, RootHash};
use sha2::Sha256;

use crate::digest::Digest;

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
