//! The archive's Ed25519 signing key in minisign format, and deterministic
//! minisign signatures.
//!
//! Key files are minisign's own (generated and decrypted by the `minisign`
//! crate, so Debian's `minisign` reads them too). Signatures are laid out in
//! minisign's prehashed `ED` format — Ed25519 over BLAKE2b-512 of the file,
//! then a global signature over signature ‖ trusted comment — but signed with
//! plain Ed25519 (ed25519-dalek), which is deterministic: the same key, file
//! and trusted comment always give the same bytes, which a byte-identical
//! re-export needs (the minisign crate mixes in randomness). Verification goes
//! through the independent `minisign-verify` crate.
//!
//! The same Ed25519 key also signs C2SP signed notes (c2sp.org/signed-note,
//! through the `signed_note` crate): a checkpoint is one, so transparency-log
//! tooling reads it. The note key ID is the first 4 bytes of
//! SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key), as the spec recommends.

use std::path::Path;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use blake2::{Blake2b512, Digest as _};
use ed25519_dalek::{Signer as _, SigningKey as DalekKey};

use crate::domain::digest::Digest;
use crate::domain::secret::Secret;

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("signing key {path}: {message}")]
    Key { path: String, message: String },
    #[error("public key: {0}")]
    PublicKey(String),
    #[error("signature: {0}")]
    Signature(String),
}

/// A loaded signing key.
pub struct SigningKey {
    key: DalekKey,
    key_id: [u8; 8],
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey(key id {}, secret redacted)", key_id_hex(&self.key_id))
    }
}

/// What `keygen` prints and the PDF cover shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    /// The public key file's text (two lines).
    pub public_key_text: String,
    /// minisign's key ID: 16 upper-case hex digits.
    pub key_id: String,
    /// SHA-256 of the 42 public-key bytes (`Ed` ‖ key id ‖ key), hex.
    pub fingerprint: String,
}

/// minisign prints a key ID as the little-endian u64 in upper-case hex.
pub fn key_id_hex(key_id: &[u8; 8]) -> String {
    format!("{:016X}", u64::from_le_bytes(*key_id))
}

fn public_key_bytes(key_id: &[u8; 8], public: &[u8; 32]) -> Vec<u8> {
    let mut bytes = b"Ed".to_vec();
    bytes.extend_from_slice(key_id);
    bytes.extend_from_slice(public);
    bytes
}

fn info_of(key_id: &[u8; 8], public: &[u8; 32]) -> KeyInfo {
    let bytes = public_key_bytes(key_id, public);
    KeyInfo {
        public_key_text: format!(
            "untrusted comment: minisign public key {}\n{}\n",
            key_id_hex(key_id),
            BASE64.encode(&bytes)
        ),
        key_id: key_id_hex(key_id),
        fingerprint: Digest::of(&bytes).hex(),
    }
}

/// Creates a new key pair: the secret key at `secret_path` (owner-only, never
/// overwritten), the public key at `public_path`. With a password the secret
/// key is encrypted as minisign does (scrypt).
///
/// Fails when a file exists already or cannot be written.
pub fn keygen(secret_path: &Path, public_path: &Path, password: Option<&Secret>) -> Result<KeyInfo, SigningError> {
    let err = |message: String| SigningError::Key {
        path: secret_path.display().to_string(),
        message,
    };
    if secret_path.exists() {
        return Err(err("already exists: refusing to replace a signing key".into()));
    }
    let pair = match password {
        Some(p) => minisign::KeyPair::generate_encrypted_keypair(Some(p.expose().to_string())),
        None => minisign::KeyPair::generate_unencrypted_keypair(),
    }
    .map_err(|e| err(e.to_string()))?;
    let secret_box = pair
        .sk
        .to_box(Some("gstvault archive signing key"))
        .map_err(|e| err(e.to_string()))?;
    let public_box = pair.pk.to_box().map_err(|e| err(e.to_string()))?;
    if let Some(parent) = secret_path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| err(e.to_string()))?;
    }
    {
        use std::io::Write;
        let mut file = crate::files::create_owner_only(secret_path).map_err(|e| err(e.to_string()))?;
        file.write_all(secret_box.to_string().as_bytes())
            .map_err(|e| err(e.to_string()))?;
        file.sync_all().map_err(|e| err(e.to_string()))?;
    }
    std::fs::write(public_path, public_box.to_string()).map_err(|e| err(format!("{}: {e}", public_path.display())))?;
    let key = SigningKey::load(secret_path, password)?;
    Ok(key.info())
}

impl SigningKey {
    /// Loads a minisign secret key, decrypting it with `password` when it is encrypted.
    ///
    /// Fails when the file is missing or not a minisign key, or the password is missing or wrong.
    pub fn load(path: &Path, password: Option<&Secret>) -> Result<SigningKey, SigningError> {
        let err = |message: String| SigningError::Key {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let boxed = minisign::SecretKeyBox::from_string(&text).map_err(|e| err(e.to_string()))?;
        let secret = match boxed.clone().into_unencrypted_secret_key() {
            Ok(sk) => sk,
            Err(_) => {
                let Some(password) = password else {
                    return Err(err("the key is password-protected and no password was given".into()));
                };
                boxed
                    .into_secret_key(Some(password.expose().to_string()))
                    .map_err(|e| err(e.to_string()))?
            }
        };
        let bytes = secret.to_bytes();
        if bytes.len() < 126 {
            return Err(err("not a minisign Ed25519 secret key".into()));
        }
        let mut key_id = [0u8; 8];
        key_id.copy_from_slice(&bytes[54..62]);
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&bytes[62..94]);
        let key = DalekKey::from_bytes(&seed);
        if key.verifying_key().as_bytes()[..] != bytes[94..126] {
            return Err(err("the secret key does not match its public half".into()));
        }
        Ok(SigningKey { key, key_id })
    }

    pub fn info(&self) -> KeyInfo {
        info_of(&self.key_id, self.key.verifying_key().as_bytes())
    }

    /// A C2SP signed note of `text` (ending in a newline) under the note key
    /// name `name`: the text, a blank line, and the line
    /// `— <name> <base64(key ID ‖ Ed25519 signature of the text)>`.
    /// Deterministic, like every signature of this key.
    ///
    /// Fails when the name or the text is not one a signed note allows.
    pub fn sign_note(&self, name: &str, text: &str) -> Result<String, SigningError> {
        let public = self.key.verifying_key().to_bytes();
        let mut typed_secret = vec![NOTE_ED25519];
        typed_secret.extend_from_slice(&self.key.to_bytes());
        let mut typed_public = vec![NOTE_ED25519];
        typed_public.extend_from_slice(&public);
        let encoded = Secret::new(format!(
            "PRIVATE+KEY+{name}+{:08x}+{}",
            signed_note::key_id(name, &typed_public),
            BASE64.encode(&typed_secret)
        ));
        let signer = signed_note::StandardSigner::new(encoded.expose())
            .map_err(|e| SigningError::Signature(format!("note key {name}: {e}")))?;
        let mut note = signed_note::Note::new(text.as_bytes(), &[])
            .map_err(|e| SigningError::Signature(format!("note text: {e}")))?;
        note.add_sigs(&[&signer])
            .map_err(|e| SigningError::Signature(format!("note signature: {e}")))?;
        String::from_utf8(note.to_bytes()).map_err(|_| SigningError::Signature("note is not UTF-8".into()))
    }

    /// The public half, to check what this key signed before.
    pub fn public(&self) -> PublicKey {
        PublicKey::parse(&self.info().public_key_text).expect("a key's own public text parses")
    }

    /// A minisign signature file for `data` with `trusted_comment` (one line).
    pub fn sign(&self, data: &[u8], trusted_comment: &str) -> String {
        let trusted_comment = trusted_comment.replace(['\r', '\n'], " ");
        let prehash = Blake2b512::digest(data);
        let signature = self.key.sign(&prehash).to_bytes();
        let mut first = b"ED".to_vec();
        first.extend_from_slice(&self.key_id);
        first.extend_from_slice(&signature);
        let mut global_input = signature.to_vec();
        global_input.extend_from_slice(trusted_comment.as_bytes());
        let global = self.key.sign(&global_input).to_bytes();
        format!(
            "untrusted comment: signature from gstvault key {}\n{}\ntrusted comment: {}\n{}\n",
            key_id_hex(&self.key_id),
            BASE64.encode(&first),
            trusted_comment,
            BASE64.encode(global)
        )
    }
}

/// A public key read from its minisign text.
pub struct PublicKey {
    inner: minisign_verify::PublicKey,
    /// The raw Ed25519 public key.
    raw: [u8; 32],
    pub info: KeyInfo,
}

/// The C2SP signature type of Ed25519 note keys.
const NOTE_ED25519: u8 = 1;

/// The C2SP verifier key of an Ed25519 public key under a note key name:
/// `<name>+<key ID, 8 hex digits>+<base64(0x01 ‖ public key)>`.
fn note_verifier_key(name: &str, public: &[u8; 32]) -> String {
    let mut typed = vec![NOTE_ED25519];
    typed.extend_from_slice(public);
    format!(
        "{name}+{:08x}+{}",
        signed_note::key_id(name, &typed),
        BASE64.encode(&typed)
    )
}

impl PublicKey {
    /// Parses a minisign public key file's text (or its base64 line alone).
    pub fn parse(text: &str) -> Result<PublicKey, SigningError> {
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with("untrusted comment:"))
            .ok_or_else(|| SigningError::PublicKey("no key line".into()))?;
        let inner =
            minisign_verify::PublicKey::from_base64(line).map_err(|e| SigningError::PublicKey(e.to_string()))?;
        let bytes = BASE64
            .decode(line)
            .map_err(|e| SigningError::PublicKey(e.to_string()))?;
        if bytes.len() != 42 {
            return Err(SigningError::PublicKey("not an Ed25519 minisign key".into()));
        }
        let mut key_id = [0u8; 8];
        key_id.copy_from_slice(&bytes[2..10]);
        let mut public = [0u8; 32];
        public.copy_from_slice(&bytes[10..42]);
        Ok(PublicKey {
            inner,
            raw: public,
            info: info_of(&key_id, &public),
        })
    }

    /// The C2SP verifier key of this key under the note key name `name`
    /// (what `VERIFY.txt` gives a transparency-log tool).
    pub fn note_verifier_key(&self, name: &str) -> String {
        note_verifier_key(name, &self.raw)
    }

    /// Checks that `note` is a C2SP signed note signed by this key under the
    /// name `name`; returns its text.
    ///
    /// Fails when the note is malformed or carries no valid signature of this key.
    pub fn verify_note(&self, name: &str, note: &[u8]) -> Result<String, SigningError> {
        let verifier = signed_note::StandardVerifier::new(&self.note_verifier_key(name))
            .map_err(|e| SigningError::Signature(format!("note key {name}: {e}")))?;
        let parsed = signed_note::Note::from_bytes(note)
            .map_err(|e| SigningError::Signature(format!("not a signed note: {e}")))?;
        parsed
            .verify(&signed_note::VerifierList::new(vec![Box::new(verifier)]))
            .map_err(|e| SigningError::Signature(format!("note signature: {e}")))?;
        String::from_utf8(parsed.text().to_vec()).map_err(|_| SigningError::Signature("note text is not UTF-8".into()))
    }

    /// Verifies a minisign signature of `data`; returns its trusted comment.
    ///
    /// Fails when the signature does not parse, is by another key, or does not verify.
    pub fn verify(&self, data: &[u8], signature_text: &str) -> Result<String, SigningError> {
        let signature =
            minisign_verify::Signature::decode(signature_text).map_err(|e| SigningError::Signature(e.to_string()))?;
        self.inner
            .verify(data, &signature, false)
            .map_err(|e| SigningError::Signature(e.to_string()))?;
        Ok(signature.trusted_comment().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The known answer of Go's sumdb note package (golang.org/x/mod/sumdb/note
    /// example, also signed_note's): same key, same text, same note bytes.
    #[test]
    fn signed_notes_match_the_reference_implementation() {
        let typed = BASE64.decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz").unwrap();
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&typed[1..]);
        let key = SigningKey {
            key: DalekKey::from_bytes(&seed),
            key_id: [0; 8],
        };
        let text =
            "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
        assert_eq!(
            key.sign_note("PeterNeumann", text).unwrap(),
            format!(
                "{text}\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
            )
        );
        assert_eq!(
            key.public().note_verifier_key("PeterNeumann"),
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        );
    }

    #[test]
    fn keygen_sign_verify_deterministic() {
        let dir = tempfile::tempdir().unwrap();
        for password in [None, Some(Secret::new("correct horse"))] {
            let sk = dir.path().join(format!("k{}.key", password.is_some()));
            let pk = dir.path().join(format!("k{}.pub", password.is_some()));
            let info = keygen(&sk, &pk, password.as_ref()).unwrap();
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&sk).unwrap().permissions().mode() & 0o777, 0o600);
            let key = SigningKey::load(&sk, password.as_ref()).unwrap();
            assert_eq!(key.info(), info);
            let a = key.sign(b"hello", "bundle x");
            assert_eq!(a, key.sign(b"hello", "bundle x"), "deterministic");
            let public = PublicKey::parse(&std::fs::read_to_string(&pk).unwrap()).unwrap();
            assert_eq!(public.info, info);
            assert_eq!(public.verify(b"hello", &a).unwrap(), "bundle x");
            assert!(public.verify(b"hellO", &a).is_err());
            assert!(keygen(&sk, &pk, None).is_err(), "never replaces a key");
        }
        // The same key signs C2SP notes, which its public half verifies.
        let key = SigningKey::load(&dir.path().join("kfalse.key"), None).unwrap();
        let public = key.public();
        let text = "gstvault.archive/x\n42\nAAAA\n";
        let note = key.sign_note("gstvault.archive/x", text).unwrap();
        assert_eq!(
            note,
            key.sign_note("gstvault.archive/x", text).unwrap(),
            "deterministic"
        );
        assert!(
            note.starts_with(&format!("{text}\n\u{2014} gstvault.archive/x ")),
            "{note}"
        );
        assert_eq!(public.verify_note("gstvault.archive/x", note.as_bytes()).unwrap(), text);
        assert!(
            public.verify_note("gstvault.archive/y", note.as_bytes()).is_err(),
            "another name"
        );
        let forged = note.replace("42", "43");
        assert!(public.verify_note("gstvault.archive/x", forged.as_bytes()).is_err());
        let encrypted = dir.path().join("ktrue.key");
        assert!(SigningKey::load(&encrypted, None).is_err());
        assert!(SigningKey::load(&encrypted, Some(&Secret::new("wrong"))).is_err());
    }
}
