//! The archive's signing key: made once (`keygen`), then loaded wherever a
//! checkpoint or a bundle is signed. A missing key is not an error where
//! signing is optional (a capture says plainly that its checkpoint is
//! unsigned); it is where a signature is the point (`export`).

use crate::config::Config;
use crate::evidence::signing::{self, KeyInfo, PublicKey, SigningKey};

use super::{AppError, Result};

/// Creates the archive's minisign key pair at the configured paths (the
/// password, if any, from `[signing] password_env`).
///
/// Fails when a key already exists there or the files cannot be written.
pub fn keygen(config: &Config) -> Result<KeyInfo> {
    let password = config.key_password();
    Ok(signing::keygen(
        &config.signing_key,
        &config.public_key,
        password.as_ref(),
    )?)
}

/// The configured signing key, or None when no key file exists.
///
/// Fails when the file exists but cannot be read or decrypted.
pub fn signing_key(config: &Config) -> Result<Option<SigningKey>> {
    if !config.signing_key.exists() {
        return Ok(None);
    }
    Ok(Some(SigningKey::load(
        &config.signing_key,
        config.key_password().as_ref(),
    )?))
}

/// The configured signing key, where signing is the point.
///
/// Fails when there is none (saying to run `gstvault keygen`) or it cannot be loaded.
pub fn require_signing_key(config: &Config) -> Result<SigningKey> {
    signing_key(config)?.ok_or_else(|| {
        AppError::Input(format!(
            "signing key {} does not exist: run `gstvault keygen`",
            config.signing_key.display()
        ))
    })
}

/// A public key read from `path`.
///
/// Fails when the file cannot be read or is not a minisign public key.
pub fn read_public_key(path: &std::path::Path) -> Result<PublicKey> {
    let text = std::fs::read_to_string(path).map_err(|e| AppError::File {
        path: path.display().to_string(),
        message: format!("cannot read the public key: {e}"),
    })?;
    Ok(PublicKey::parse(&text)?)
}

/// The configured public key, or None when its file does not exist.
///
/// Fails when the file exists but is not a public key.
pub fn configured_public_key(config: &Config) -> Result<Option<PublicKey>> {
    if !config.public_key.exists() {
        return Ok(None);
    }
    read_public_key(&config.public_key).map(Some)
}
