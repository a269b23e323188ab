//! Configuration: TOML parsed into a raw struct (unknown keys rejected, every
//! key defaulted), then validated once into a ready [`Config`] with resolved
//! paths, checked GSTINs and a resolved endpoint set.
//!
//! Secrets are never in the file: the config names environment variables and
//! [`Config::credentials`] reads them. Errors are one line naming the file,
//! the key and what is expected.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::domain::catalog::{self, Endpoint, Group, Quirk};
use crate::domain::gstin::Gstin;
use crate::domain::schedule::{JobKind, Schedule};
use crate::domain::secret::Secret;

/// The commented example config, built into the binary (`config init`).
pub const EXAMPLE: &str = include_str!("../archive.example.toml");

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config {file}: cannot read: {message}")]
    Read { file: String, message: String },
    #[error("config {file}: {message}")]
    Syntax { file: String, message: String },
    #[error("config {file}: {key}: {message}")]
    Invalid { file: String, key: String, message: String },
    #[error("environment variable {var} (named by {key} in {file}) is not set")]
    MissingEnv { file: String, key: String, var: String },
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    pub archive: RawArchive,
    pub api: RawApi,
    pub capture: RawCapture,
    pub signing: RawSigning,
    pub export: RawExport,
    pub daemon: RawDaemon,
    pub logging: RawLogging,
    pub gstin: Vec<RawGstin>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawArchive {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sessions_dir: Option<String>,
    pub organization: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawApi {
    pub base_url: String,
    pub key_env: String,
    pub secret_env: String,
    pub api_version: String,
    pub rate_limit_per_minute: u32,
    pub concurrency: u32,
    pub timeout_secs: u64,
    pub max_retries: u32,
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    pub refresh_before_expiry_mins: u64,
    pub max_body_mb: u64,
    /// Seconds between two polls of an e-invoice download.
    pub download_poll_secs: u64,
    /// Polls of one download before it is archived as `pending`.
    pub download_polls: u32,
    /// Answers archived per IST day across all GSTINs before the planner carries work over (0: unlimited).
    pub daily_call_budget: u64,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawCapture {
    pub endpoints: Vec<String>,
    pub groups: Vec<String>,
    pub exclude: Vec<String>,
    /// Plain `snapshot` and the daemon's capture use the capture planner.
    pub planner: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawSigning {
    pub key: String,
    pub password_env: String,
}

impl Default for RawSigning {
    fn default() -> Self {
        RawSigning {
            key: "gstvault.key".into(),
            password_env: "GSTVAULT_KEY_PASSWORD".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawExport {
    pub out_dir: String,
    pub pdf_template: String,
}

impl Default for RawExport {
    fn default() -> Self {
        RawExport {
            out_dir: "bundles".into(),
            pdf_template: String::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawDaemon {
    pub capture: String,
    pub export_month: String,
    pub export_year: String,
    pub checkpoint: String,
    pub session_refresh: String,
    pub verify: String,
    pub capture_on_start: bool,
    pub shutdown_grace_secs: u64,
    pub listen: String,
}

impl Default for RawDaemon {
    fn default() -> Self {
        RawDaemon {
            capture: "0 30 2 * * *".into(),
            export_month: "0 0 6 21 * *".into(),
            export_year: "0 0 7 1 12 *".into(),
            checkpoint: "0 0 * * * *".into(),
            session_refresh: "0 */15 * * * *".into(),
            verify: "0 0 4 * * Sun".into(),
            capture_on_start: false,
            shutdown_grace_secs: 30,
            listen: String::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawLogging {
    pub format: String,
    pub level: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawGstin {
    pub gstin: String,
    pub username: String,
    pub legal_name: String,
}

impl Default for RawArchive {
    fn default() -> Self {
        RawArchive {
            path: "gstvault.sqlite".into(),
            sessions_dir: None,
            organization: String::new(),
        }
    }
}

impl Default for RawApi {
    fn default() -> Self {
        RawApi {
            base_url: "https://api.sandbox.co.in".into(),
            key_env: "GSTVAULT_API_KEY".into(),
            secret_env: "GSTVAULT_API_SECRET".into(),
            api_version: "1.0.0".into(),
            rate_limit_per_minute: 100,
            concurrency: 4,
            timeout_secs: 60,
            max_retries: 5,
            retry_base_ms: 500,
            retry_max_ms: 30_000,
            refresh_before_expiry_mins: 30,
            max_body_mb: 256,
            download_poll_secs: 10,
            download_polls: 6,
            daily_call_budget: 0,
        }
    }
}

impl Default for RawLogging {
    fn default() -> Self {
        RawLogging {
            format: "human".into(),
            level: "info".into(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

/// One configured registration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GstinEntry {
    pub gstin: Gstin,
    pub username: String,
    pub legal_name: Option<String>,
}

/// HTTP client settings.
#[derive(Clone, Debug)]
pub struct ApiSettings {
    pub base_url: String,
    pub key_env: String,
    pub secret_env: String,
    pub api_version: String,
    /// None: no client-side limiter.
    pub rate_limit_per_minute: Option<u32>,
    pub concurrency: usize,
    pub timeout: Duration,
    pub max_retries: u32,
    pub retry_base: Duration,
    pub retry_max: Duration,
    pub refresh_before_expiry: chrono::Duration,
    pub max_body_bytes: u64,
    /// Between two polls of an e-invoice download.
    pub download_poll_interval: Duration,
    /// Polls of one download before it is archived as `pending` (at least 1).
    pub download_polls: u32,
}

/// The validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file this came from (for messages).
    pub source: String,
    pub archive_path: PathBuf,
    pub sessions_dir: PathBuf,
    pub organization: String,
    pub api: ApiSettings,
    pub endpoints: Vec<&'static Endpoint>,
    /// `[capture] planner`.
    pub planner: bool,
    /// `[api] daily_call_budget` (0: unlimited).
    pub daily_call_budget: u64,
    pub gstins: Vec<GstinEntry>,
    pub log_format: LogFormat,
    pub log_level: String,
    /// The archive's minisign secret key and its public half (`.pub` beside it).
    pub signing_key: PathBuf,
    pub public_key: PathBuf,
    /// Environment variable with the key's password (unset: unencrypted key).
    pub key_password_env: String,
    /// Where `export` writes bundles by default.
    pub bundles_dir: PathBuf,
    /// A firm's own PDF template (None: the built-in one).
    pub pdf_template: Option<PathBuf>,
    /// The daemon's schedules and listener.
    pub daemon: DaemonSettings,
    /// The raw form, for `config show`.
    pub raw: RawConfig,
}

/// API key and secret read from the environment.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub api_key: Secret,
    pub api_secret: Secret,
}

impl Config {
    /// Reads and validates a config file.
    ///
    /// Fails with a one-line error naming the file, the key and what is expected.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            file: file.clone(),
            message: e.to_string(),
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Config::from_toml(&text, &file, &base)
    }

    /// Validates config text; `base` resolves relative paths.
    pub fn from_toml(text: &str, file: &str, base: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            file: file.to_string(),
            message: one_line_toml_error(&e),
        })?;
        Config::validate(raw, file, base)
    }

    pub fn validate(raw: RawConfig, file: &str, base: &Path) -> Result<Config, ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            file: file.to_string(),
            key: key.to_string(),
            message,
        };
        if raw.archive.path.trim().is_empty() {
            return Err(invalid("archive.path", "must name a file".into()));
        }
        let archive_path = resolve(base, &raw.archive.path);
        let sessions_dir = match &raw.archive.sessions_dir {
            Some(dir) if !dir.trim().is_empty() => resolve(base, dir),
            _ => PathBuf::from(format!("{}.sessions", archive_path.display())),
        };
        let api = &raw.api;
        if !(api.base_url.starts_with("http://") || api.base_url.starts_with("https://")) {
            return Err(invalid(
                "api.base_url",
                format!("{:?} must start with http:// or https://", api.base_url),
            ));
        }
        for (key, value) in [("api.key_env", &api.key_env), ("api.secret_env", &api.secret_env)] {
            if value.is_empty() || !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(invalid(
                    key,
                    format!("{value:?} must be an environment variable name (letters, digits, _)"),
                ));
            }
        }
        if api.concurrency == 0 || api.concurrency > 64 {
            return Err(invalid(
                "api.concurrency",
                format!("{} must be between 1 and 64", api.concurrency),
            ));
        }
        if api.timeout_secs == 0 {
            return Err(invalid("api.timeout_secs", "must be at least 1".into()));
        }
        if api.max_retries > 20 {
            return Err(invalid(
                "api.max_retries",
                format!("{} must be at most 20", api.max_retries),
            ));
        }
        if api.retry_base_ms > api.retry_max_ms {
            return Err(invalid("api.retry_base_ms", "must not exceed api.retry_max_ms".into()));
        }
        if api.max_body_mb == 0 {
            return Err(invalid("api.max_body_mb", "must be at least 1".into()));
        }
        if api.download_polls == 0 || api.download_polls > 100 {
            return Err(invalid(
                "api.download_polls",
                format!("{} must be between 1 and 100", api.download_polls),
            ));
        }
        let endpoints = resolve_endpoints(&raw.capture).map_err(|(key, message)| invalid(&key, message))?;
        let mut gstins = Vec::new();
        let mut seen = BTreeSet::new();
        for (index, entry) in raw.gstin.iter().enumerate() {
            let key = format!("gstin[{index}].gstin");
            let gstin = Gstin::parse(&entry.gstin).map_err(|e| invalid(&key, e.to_string()))?;
            if !seen.insert(gstin.clone()) {
                return Err(invalid(&key, format!("{gstin} is listed twice")));
            }
            if entry.username.trim().is_empty() {
                return Err(invalid(
                    &format!("gstin[{index}].username"),
                    "the GST portal username is required for the OTP".into(),
                ));
            }
            gstins.push(GstinEntry {
                gstin,
                username: entry.username.clone(),
                legal_name: Some(entry.legal_name.clone()).filter(|n| !n.trim().is_empty()),
            });
        }
        if raw.signing.key.trim().is_empty() {
            return Err(invalid("signing.key", "must name a file".into()));
        }
        let signing_key = resolve(base, &raw.signing.key);
        let public_key = signing_key.with_extension("pub");
        if public_key == signing_key {
            return Err(invalid(
                "signing.key",
                "must not end in .pub (the public key goes beside it as .pub)".into(),
            ));
        }
        let key_password_env = raw.signing.password_env.clone();
        if !key_password_env.is_empty() && !key_password_env.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(invalid(
                "signing.password_env",
                format!("{key_password_env:?} must be an environment variable name"),
            ));
        }
        let bundles_dir = resolve(base, &raw.export.out_dir);
        let pdf_template = Some(raw.export.pdf_template.trim())
            .filter(|t| !t.is_empty())
            .map(|t| resolve(base, t));
        let daemon = daemon_settings(&raw.daemon).map_err(|(key, message)| invalid(&key, message))?;
        let log_format = match raw.logging.format.as_str() {
            "human" => LogFormat::Human,
            "json" => LogFormat::Json,
            other => {
                return Err(invalid(
                    "logging.format",
                    format!("{other:?} must be \"human\" or \"json\""),
                ))
            }
        };
        if tracing_subscriber::EnvFilter::try_new(&raw.logging.level).is_err() {
            return Err(invalid(
                "logging.level",
                format!("{:?} is not a tracing filter (e.g. \"info\")", raw.logging.level),
            ));
        }
        Ok(Config {
            source: file.to_string(),
            archive_path,
            sessions_dir,
            organization: raw.archive.organization.clone(),
            api: ApiSettings {
                base_url: api.base_url.trim_end_matches('/').to_string(),
                key_env: api.key_env.clone(),
                secret_env: api.secret_env.clone(),
                api_version: api.api_version.clone(),
                rate_limit_per_minute: (api.rate_limit_per_minute > 0).then_some(api.rate_limit_per_minute),
                concurrency: api.concurrency as usize,
                timeout: Duration::from_secs(api.timeout_secs),
                max_retries: api.max_retries,
                retry_base: Duration::from_millis(api.retry_base_ms),
                retry_max: Duration::from_millis(api.retry_max_ms),
                refresh_before_expiry: chrono::Duration::minutes(api.refresh_before_expiry_mins as i64),
                max_body_bytes: api.max_body_mb * 1024 * 1024,
                download_poll_interval: Duration::from_secs(api.download_poll_secs),
                download_polls: api.download_polls,
            },
            endpoints,
            planner: raw.capture.planner,
            daily_call_budget: api.daily_call_budget,
            gstins,
            log_format,
            log_level: raw.logging.level.clone(),
            signing_key,
            public_key,
            key_password_env,
            bundles_dir,
            pdf_template,
            daemon,
            raw,
        })
    }

    /// Reads the API key and secret from the environment variables the config names.
    ///
    /// Fails when either variable is unset or empty.
    pub fn credentials(&self) -> Result<Credentials, ConfigError> {
        let read = |key: &str, var: &str| {
            std::env::var(var)
                .ok()
                .filter(|v| !v.is_empty())
                .map(Secret::new)
                .ok_or_else(|| ConfigError::MissingEnv {
                    file: self.source.clone(),
                    key: key.to_string(),
                    var: var.to_string(),
                })
        };
        Ok(Credentials {
            api_key: read("api.key_env", &self.api.key_env)?,
            api_secret: read("api.secret_env", &self.api.secret_env)?,
        })
    }

    /// The signing key's password, when its environment variable is set.
    pub fn key_password(&self) -> Option<Secret> {
        if self.key_password_env.is_empty() {
            return None;
        }
        std::env::var(&self.key_password_env)
            .ok()
            .filter(|v| !v.is_empty())
            .map(Secret::new)
    }

    pub fn gstin(&self, gstin: &Gstin) -> Option<&GstinEntry> {
        self.gstins.iter().find(|g| &g.gstin == gstin)
    }

    /// The effective config as TOML. It holds no secret: only the names of the
    /// variables that hold them, whose values are shown as set or unset.
    pub fn show(&self) -> String {
        let mut text = toml::to_string_pretty(&self.raw).unwrap_or_default();
        let state = |var: &str| {
            if std::env::var_os(var).is_some() {
                "set, value redacted"
            } else {
                "NOT SET"
            }
        };
        text.push_str(&format!(
            "\n# {} is {}\n# {} is {}\n# archive: {}\n# sessions: {}\n# endpoints captured: {}\n",
            self.api.key_env,
            state(&self.api.key_env),
            self.api.secret_env,
            state(&self.api.secret_env),
            self.archive_path.display(),
            self.sessions_dir.display(),
            self.endpoints.len()
        ));
        text
    }
}

fn resolve(base: &Path, value: &str) -> PathBuf {
    let p = PathBuf::from(value);
    if p.is_absolute() {
        p
    } else {
        base.join(p)
    }
}

fn one_line_toml_error(e: &toml::de::Error) -> String {
    let message = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => format!("{message} (at byte {})", span.start),
        None => message,
    }
}

/// Resolves `[capture]` into the endpoint set; errors name the key.
pub fn resolve_endpoints(capture: &RawCapture) -> Result<Vec<&'static Endpoint>, (String, String)> {
    let mut chosen: BTreeSet<&'static str> = BTreeSet::new();
    for (index, name) in capture.groups.iter().enumerate() {
        let group = Group::parse(name).ok_or_else(|| {
            (
                format!("capture.groups[{index}]"),
                format!("unknown group {name:?}; groups are {}", group_names()),
            )
        })?;
        chosen.extend(
            catalog::ENDPOINTS
                .iter()
                .filter(|e| e.group == group && e.default_on)
                .map(|e| e.name),
        );
    }
    for (index, name) in capture.endpoints.iter().enumerate() {
        let endpoint = catalog::find(name).ok_or_else(|| {
            (
                format!("capture.endpoints[{index}]"),
                format!("unknown endpoint {name:?}; `gstvault config check` lists them"),
            )
        })?;
        if endpoint.quirk == Quirk::NeedsIdentifier {
            return Err((
                format!("capture.endpoints[{index}]"),
                format!("{name} needs an identifier (reference_id or IRN) that only a write or a document supplies; it cannot be scheduled"),
            ));
        }
        chosen.insert(endpoint.name);
    }
    if capture.groups.is_empty() && capture.endpoints.is_empty() {
        chosen.extend(catalog::default_set().iter().map(|e| e.name));
    }
    for (index, name) in capture.exclude.iter().enumerate() {
        if catalog::find(name).is_none() {
            return Err((
                format!("capture.exclude[{index}]"),
                format!("unknown endpoint {name:?}"),
            ));
        }
        chosen.remove(name.as_str());
    }
    if chosen.is_empty() {
        return Err(("capture".into(), "selects no endpoint".into()));
    }
    Ok(catalog::ENDPOINTS.iter().filter(|e| chosen.contains(e.name)).collect())
}

pub fn group_names() -> String {
    Group::ALL.iter().map(|g| g.name()).collect::<Vec<_>>().join(", ")
}

/// `[daemon]` validated.
#[derive(Clone, Debug)]
pub struct DaemonSettings {
    pub schedules: Vec<Schedule>,
    pub capture_on_start: bool,
    pub shutdown_grace: Duration,
    pub listen: Option<SocketAddr>,
}

impl DaemonSettings {
    pub fn schedule(&self, kind: JobKind) -> Option<&Schedule> {
        self.schedules.iter().find(|s| s.kind == kind)
    }
}

/// Validates `[daemon]`; errors name the key.
fn daemon_settings(raw: &RawDaemon) -> Result<DaemonSettings, (String, String)> {
    let mut schedules = Vec::new();
    for (kind, expression) in [
        (JobKind::Capture, &raw.capture),
        (JobKind::ExportMonth, &raw.export_month),
        (JobKind::ExportYear, &raw.export_year),
        (JobKind::Checkpoint, &raw.checkpoint),
        (JobKind::SessionRefresh, &raw.session_refresh),
        (JobKind::Verify, &raw.verify),
    ] {
        if expression.trim().is_empty() {
            continue;
        }
        schedules.push(Schedule::parse(kind, expression.trim()).map_err(|e| (format!("daemon.{}", kind.name()), e))?);
    }
    if raw.shutdown_grace_secs > 3600 {
        return Err(("daemon.shutdown_grace_secs".into(), "must be at most 3600".into()));
    }
    let listen = match raw.listen.trim() {
        "" => None,
        text => Some(text.parse::<SocketAddr>().map_err(|_| {
            (
                "daemon.listen".to_string(),
                format!("{text:?} is not an address such as 127.0.0.1:9184"),
            )
        })?),
    };
    Ok(DaemonSettings {
        schedules,
        capture_on_start: raw.capture_on_start,
        shutdown_grace: Duration::from_secs(raw.shutdown_grace_secs),
        listen,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_parses_with_defaults() {
        let c = Config::from_toml(EXAMPLE, "archive.example.toml", Path::new("/etc/gstvault")).unwrap();
        assert_eq!(c.archive_path, PathBuf::from("/etc/gstvault/gstvault.sqlite"));
        assert_eq!(c.api.rate_limit_per_minute, Some(100));
        assert_eq!(c.endpoints.len(), catalog::default_set().len());
        assert_eq!(c.gstins.len(), 1);
        // The example spells out every default: parsing it equals the struct defaults.
        let defaults = toml::to_string(&RawConfig {
            gstin: vec![],
            ..RawConfig::default()
        })
        .unwrap();
        let mut example = c.raw.clone();
        example.gstin.clear();
        assert_eq!(toml::to_string(&example).unwrap(), defaults);
    }

    #[test]
    fn bad_expressions_are_refused_with_the_key() {
        let raw = RawDaemon {
            capture: "0 61 * * * *".into(),
            ..Default::default()
        };
        let (key, message) = daemon_settings(&raw).unwrap_err();
        assert_eq!(key, "daemon.capture");
        assert!(
            message.starts_with("\"0 61 * * * *\" is not a cron expression"),
            "{message}"
        );
        let raw = RawDaemon {
            listen: "localhost".into(),
            ..Default::default()
        };
        assert_eq!(daemon_settings(&raw).unwrap_err().0, "daemon.listen");
        let raw = RawDaemon {
            checkpoint: String::new(),
            ..Default::default()
        };
        assert!(daemon_settings(&raw).unwrap().schedule(JobKind::Checkpoint).is_none());
    }
}
