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
    pub alerts: RawAlerts,
    pub logging: RawLogging,
    pub display: RawDisplay,
    pub web: RawWeb,
    pub gstin: Vec<RawGstin>,
}

/// `[web]`: the read-only web view (`gstvault serve`, or the daemon when
/// `listen` is set).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawWeb {
    /// `127.0.0.1:8080`; empty: the daemon serves no web view.
    pub listen: String,
    /// PEM certificate chain and private key for built-in TLS (both or neither).
    pub tls_cert: String,
    pub tls_key: String,
    /// Cookies carry `Secure` behind a TLS-terminating reverse proxy.
    pub behind_tls_proxy: bool,
    /// A login lasts this long without activity.
    pub session_minutes: u32,
}

impl Default for RawWeb {
    fn default() -> Self {
        RawWeb {
            listen: String::new(),
            tls_cert: String::new(),
            tls_key: String::new(),
            behind_tls_proxy: false,
            session_minutes: 480,
        }
    }
}

/// `[web]`, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebSettings {
    pub listen: Option<SocketAddr>,
    /// Certificate and key files for built-in TLS.
    pub tls: Option<(PathBuf, PathBuf)>,
    pub behind_tls_proxy: bool,
    pub session_minutes: u32,
}

impl WebSettings {
    /// Whether the browser talks TLS to us or to the proxy in front.
    pub fn over_tls(&self) -> bool {
        self.tls.is_some() || self.behind_tls_proxy
    }
}

/// Validates `[web]`; errors name the key.
fn web_settings(raw: &RawWeb, base: &Path) -> Result<WebSettings, (String, String)> {
    let listen = match raw.listen.trim() {
        "" => None,
        text => Some(text.parse::<SocketAddr>().map_err(|_| {
            (
                "web.listen".to_string(),
                format!("{text:?} is not an address such as 127.0.0.1:8080"),
            )
        })?),
    };
    let tls = match (raw.tls_cert.trim(), raw.tls_key.trim()) {
        ("", "") => None,
        ("", _) => return Err(("web.tls_cert".into(), "give the certificate file with the key".into())),
        (_, "") => return Err(("web.tls_key".into(), "give the key file with the certificate".into())),
        (cert, key) => Some((resolve(base, cert), resolve(base, key))),
    };
    if !(5..=7 * 24 * 60).contains(&raw.session_minutes) {
        return Err((
            "web.session_minutes".into(),
            "must be between 5 and 10080 (a week)".into(),
        ));
    }
    Ok(WebSettings {
        listen,
        tls,
        behind_tls_proxy: raw.behind_tls_proxy,
        session_minutes: raw.session_minutes,
    })
}

/// `[display]`: how times are shown to people.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawDisplay {
    pub timezone: String,
}

impl Default for RawDisplay {
    fn default() -> Self {
        RawDisplay {
            timezone: "Asia/Kolkata".into(),
        }
    }
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
pub struct RawAlerts {
    pub session_warning_days: u32,
    pub webhook: String,
    pub webhook_retries: u32,
    pub retry_base_ms: u64,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_tls: String,
    pub smtp_username: String,
    pub smtp_password_env: String,
    pub from: String,
    pub to: Vec<String>,
}

impl Default for RawAlerts {
    fn default() -> Self {
        RawAlerts {
            session_warning_days: 5,
            webhook: String::new(),
            webhook_retries: 5,
            retry_base_ms: 1000,
            smtp_host: String::new(),
            smtp_port: 0,
            smtp_tls: "starttls".into(),
            smtp_username: String::new(),
            smtp_password_env: "GSTVAULT_SMTP_PASSWORD".into(),
            from: String::new(),
            to: Vec::new(),
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
    /// The zone every time a person reads is shown in (`[display] timezone`).
    pub display_zone: crate::domain::time::Zone,
    /// The web view.
    pub web: WebSettings,
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
    /// `[alerts]`: when a session is lapsing, where alerts go.
    pub alerts: AlertSettings,
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
            message: one_line_toml_error(text, &e),
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
        let alerts = alert_settings(&raw.alerts).map_err(|(key, message)| invalid(&key, message))?;
        let web = web_settings(&raw.web, base).map_err(|(key, message)| invalid(&key, message))?;
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
        let display_zone = crate::domain::time::Zone::parse(&raw.display.timezone).ok_or_else(|| {
            invalid(
                "display.timezone",
                format!(
                    "{:?} is not a zone: give \"Asia/Kolkata\" (IST), \"UTC\" or an offset such as \"+05:30\"",
                    raw.display.timezone
                ),
            )
        })?;
        Ok(Config {
            web,
            display_zone,
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
            alerts,
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

    /// Environment variables the config needs that are not set: `(key, var)`
    /// for each, all of them (the API key and secret; whether the signing
    /// key needs its password depends on the key file, see `config check`).
    pub fn missing_env(&self) -> Vec<(String, String)> {
        let wanted = vec![
            ("api.key_env", self.api.key_env.as_str()),
            ("api.secret_env", self.api.secret_env.as_str()),
        ];
        wanted
            .into_iter()
            .filter(|(_, var)| std::env::var(var).map_or(true, |v| v.is_empty()))
            .map(|(key, var)| (key.to_string(), var.to_string()))
            .collect()
    }

    /// Values left as the example's placeholders, one line each naming the
    /// key and what to put there.
    pub fn placeholders(&self) -> Vec<String> {
        let mut out = Vec::new();
        for entry in &self.gstins {
            let user = entry.username.trim();
            if PLACEHOLDER_USERNAMES.contains(&user) || user.starts_with("example") {
                out.push(format!(
                    "[[gstin]] {}: username {user:?} is a placeholder: set the GST portal username the OTP is sent for",
                    entry.gstin
                ));
            }
        }
        out
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

    /// The SMTP password, read from the variable `[alerts] smtp_password_env`
    /// names; None when e-mail is off or sent without logging in.
    ///
    /// Fails when e-mail logs in (`smtp_username` set) and the variable is unset or empty.
    pub fn smtp_password(&self) -> Result<Option<Secret>, ConfigError> {
        let Some(email) = self.alerts.email.as_ref().filter(|e| e.username.is_some()) else {
            return Ok(None);
        };
        std::env::var(&email.password_env)
            .ok()
            .filter(|v| !v.is_empty())
            .map(|v| Some(Secret::new(v)))
            .ok_or_else(|| ConfigError::MissingEnv {
                file: self.source.clone(),
                key: "alerts.smtp_password_env".into(),
                var: email.password_env.clone(),
            })
    }

    /// The effective config as TOML. It holds no secret: only the names of the
    /// variables that hold them, whose values are shown as set or unset, and
    /// of a webhook URL (which may carry a token) only its scheme and host.
    pub fn show(&self) -> String {
        let mut raw = self.raw.clone();
        if let Some(webhook) = &self.alerts.webhook {
            raw.alerts.webhook = webhook.to_string();
        } else if !raw.alerts.webhook.is_empty() {
            raw.alerts.webhook = REDACTED.into();
        }
        let mut text = toml::to_string_pretty(&raw).unwrap_or_default();
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
        if let Some(email) = self.alerts.email.as_ref().filter(|e| e.username.is_some()) {
            text.push_str(&format!("# {} is {}\n", email.password_env, state(&email.password_env)));
        }
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

/// A TOML error on one line, placed by line and column (1-based, columns
/// in characters) as an editor shows them.
fn one_line_toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or_default().chars().count() + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    }
}

/// Usernames that are the example's or a template's, not a person's.
const PLACEHOLDER_USERNAMES: [&str; 5] = ["example_user", "your_username", "username", "user", "changeme"];

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
        let endpoint = catalog::find(name)
            .ok_or_else(|| (format!("capture.endpoints[{index}]"), catalog::unknown_endpoint(name)))?;
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
            return Err((format!("capture.exclude[{index}]"), catalog::unknown_endpoint(name)));
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

/// What `config show` prints for a value it must not.
const REDACTED: &str = "<redacted>";

/// A webhook URL. It may carry a token in its path or query, so it is a
/// secret: `Debug` and `Display` show only its scheme, host and port, and
/// [`WebhookUrl::expose`] gives the whole URL to the one place that sends to it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl(url::Url);

impl WebhookUrl {
    /// Parses an `http://` or `https://` URL with a host; the error never repeats the value.
    pub fn parse(text: &str) -> Result<WebhookUrl, String> {
        let url = url::Url::parse(text.trim()).map_err(|e| {
            format!("is not a URL ({e}); expected https://host/path (the value is not shown: it may carry a token)")
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
            return Err(
                "must be an http:// or https:// URL with a host (the value is not shown: it may carry a token)".into(),
            );
        }
        Ok(WebhookUrl(url))
    }

    /// The whole URL, token and all.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }
}

impl std::fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}", self.0.scheme(), self.0.host_str().unwrap_or_default())?;
        if let Some(port) = self.0.port() {
            write!(f, ":{port}")?;
        }
        write!(f, "/{REDACTED}")
    }
}

impl std::fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebhookUrl({self})")
    }
}

/// How the connection to the SMTP server is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text (a relay on the same host or a test sink only).
    None,
    /// Plain connection upgraded with STARTTLS (usually port 587).
    StartTls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

/// `[alerts]` e-mail, when `smtp_host` is set.
#[derive(Clone, Debug)]
pub struct EmailSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// None: send without logging in.
    pub username: Option<String>,
    /// The environment variable holding the password ([`Config::smtp_password`]).
    pub password_env: String,
    pub from: String,
    pub to: Vec<String>,
}

/// `[alerts]` validated.
#[derive(Clone, Debug)]
pub struct AlertSettings {
    /// Warn this long before a GSTIN's API access lapses.
    pub session_warning: chrono::Duration,
    pub webhook: Option<WebhookUrl>,
    /// Attempts after the first for a connection error, 5xx or 429.
    pub webhook_retries: u32,
    /// The first retry's delay; each next one doubles (at most a minute).
    pub retry_base: Duration,
    pub email: Option<EmailSettings>,
}

/// Whether `text` is a plain e-mail address (`local@domain`): one `@`, a
/// local part and a dotted domain, no spaces or angle brackets.
fn is_email_address(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    let plain = |s: &str| !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || "<>()[],;:\\\"@".contains(c));
    plain(local) && plain(domain) && domain.split('.').count() >= 2 && domain.split('.').all(|label| !label.is_empty())
}

/// Validates `[alerts]`; errors name the key.
fn alert_settings(raw: &RawAlerts) -> Result<AlertSettings, (String, String)> {
    if raw.session_warning_days > 30 {
        return Err((
            "alerts.session_warning_days".into(),
            format!(
                "{} must be at most 30 (the portal grants API access for at most 30 days)",
                raw.session_warning_days
            ),
        ));
    }
    let webhook = match raw.webhook.trim() {
        "" => None,
        text => Some(WebhookUrl::parse(text).map_err(|message| ("alerts.webhook".to_string(), message))?),
    };
    if raw.webhook_retries > 20 {
        return Err((
            "alerts.webhook_retries".into(),
            format!("{} must be at most 20", raw.webhook_retries),
        ));
    }
    if raw.retry_base_ms == 0 || raw.retry_base_ms > 60_000 {
        return Err((
            "alerts.retry_base_ms".into(),
            format!("{} must be between 1 and 60000", raw.retry_base_ms),
        ));
    }
    let tls = match raw.smtp_tls.as_str() {
        "none" => SmtpTls::None,
        "starttls" => SmtpTls::StartTls,
        "tls" => SmtpTls::Tls,
        other => {
            return Err((
                "alerts.smtp_tls".into(),
                format!("{other:?} must be \"none\", \"starttls\" or \"tls\""),
            ))
        }
    };
    let host = raw.smtp_host.trim();
    let email = if host.is_empty() {
        None
    } else {
        if host.contains(|c: char| c.is_whitespace() || c == '/' || c == ':') {
            return Err((
                "alerts.smtp_host".into(),
                format!("{host:?} must be a host name or address (the port goes in smtp_port)"),
            ));
        }
        if !is_email_address(raw.from.trim()) {
            return Err((
                "alerts.from".into(),
                format!("{:?} is not an e-mail address such as gstvault@example.com", raw.from),
            ));
        }
        if raw.to.is_empty() {
            return Err((
                "alerts.to".into(),
                "lists no recipient; e-mail alerts need at least one address".into(),
            ));
        }
        for (index, address) in raw.to.iter().enumerate() {
            if !is_email_address(address.trim()) {
                return Err((
                    format!("alerts.to[{index}]"),
                    format!("{address:?} is not an e-mail address such as ops@example.com"),
                ));
            }
        }
        let username = Some(raw.smtp_username.trim().to_string()).filter(|u| !u.is_empty());
        let env = &raw.smtp_password_env;
        if username.is_some() && (env.is_empty() || !env.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')) {
            return Err((
                "alerts.smtp_password_env".into(),
                format!("{env:?} must be an environment variable name (letters, digits, _)"),
            ));
        }
        let port = match (raw.smtp_port, tls) {
            (0, SmtpTls::None) => 25,
            (0, SmtpTls::StartTls) => 587,
            (0, SmtpTls::Tls) => 465,
            (port, _) => port,
        };
        Some(EmailSettings {
            host: host.to_string(),
            port,
            tls,
            username,
            password_env: env.clone(),
            from: raw.from.trim().to_string(),
            to: raw.to.iter().map(|a| a.trim().to_string()).collect(),
        })
    };
    Ok(AlertSettings {
        session_warning: chrono::Duration::days(raw.session_warning_days as i64),
        webhook,
        webhook_retries: raw.webhook_retries,
        retry_base: Duration::from_millis(raw.retry_base_ms),
        email,
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
    fn syntax_errors_give_line_and_column() {
        let text = "[archive]\npath = \"a.sqlite\"\n\n[api]\nconcurrency = 2\nconcurrency = 3\n";
        let e = Config::from_toml(text, "g.toml", Path::new("/"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("config g.toml: line 6, column 1: duplicate key"), "{e}");
        let e = Config::from_toml("[api]\nconcurrency = \"x\"\n", "g.toml", Path::new("/"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2, column 15"), "{e}");
    }

    #[test]
    fn the_display_zone_is_validated() {
        let zone = |z: &str| {
            Config::from_toml(&format!("[display]\ntimezone = \"{z}\"\n"), "g.toml", Path::new("/"))
                .map(|c| c.display_zone)
                .map_err(|e| e.to_string())
        };
        assert_eq!(zone("UTC").unwrap(), crate::domain::time::Zone::UTC);
        assert_eq!(zone("Asia/Kolkata").unwrap(), crate::domain::time::Zone::IST);
        let e = zone("Mars/Olympus").unwrap_err();
        assert!(e.contains("display.timezone") && e.contains("Mars/Olympus"), "{e}");
    }

    #[test]
    fn alerts_are_validated_with_the_key_and_the_webhook_is_never_repeated() {
        let check = |raw: RawAlerts| alert_settings(&raw);
        let settings = check(RawAlerts::default()).unwrap();
        assert_eq!(settings.session_warning, chrono::Duration::days(5));
        assert!(settings.webhook.is_none() && settings.email.is_none());
        let token = "https://hooks.example.com:8443/services/T0KEN?secret=s3cr3t";
        let settings = check(RawAlerts {
            webhook: token.into(),
            ..RawAlerts::default()
        })
        .unwrap();
        let webhook = settings.webhook.unwrap();
        assert_eq!(webhook.expose(), token);
        assert_eq!(webhook.to_string(), "https://hooks.example.com:8443/<redacted>");
        assert!(!format!("{webhook:?}").contains("T0KEN"));
        for bad in [
            "hooks.example.com/T0KEN",
            "ftp://hooks.example.com/T0KEN",
            "https://exa mple.com/T0KEN",
        ] {
            let (key, message) = check(RawAlerts {
                webhook: bad.into(),
                ..RawAlerts::default()
            })
            .unwrap_err();
            assert_eq!(key, "alerts.webhook");
            assert!(!message.contains("T0KEN"), "{message}");
        }
        let email = RawAlerts {
            smtp_host: "smtp.example.com".into(),
            from: "gstvault@example.com".into(),
            to: vec!["ops@example.com".into()],
            smtp_username: "gstvault".into(),
            ..RawAlerts::default()
        };
        let settings = check(email.clone()).unwrap().email.unwrap();
        assert_eq!((settings.port, settings.tls), (587, SmtpTls::StartTls));
        let refused = |raw: RawAlerts| check(raw).unwrap_err();
        assert_eq!(
            refused(RawAlerts {
                to: vec!["ops@example.com".into(), "ops at example.com".into()],
                ..email.clone()
            }),
            (
                "alerts.to[1]".to_string(),
                "\"ops at example.com\" is not an e-mail address such as ops@example.com".to_string()
            )
        );
        assert_eq!(
            refused(RawAlerts {
                from: "gstvault".into(),
                ..email.clone()
            })
            .0,
            "alerts.from"
        );
        assert_eq!(
            refused(RawAlerts {
                to: vec![],
                ..email.clone()
            })
            .0,
            "alerts.to"
        );
        assert_eq!(
            refused(RawAlerts {
                smtp_tls: "ssl".into(),
                ..email.clone()
            })
            .0,
            "alerts.smtp_tls"
        );
        assert_eq!(
            refused(RawAlerts {
                smtp_password_env: "NOT A NAME".into(),
                ..email
            })
            .0,
            "alerts.smtp_password_env"
        );
        assert_eq!(
            refused(RawAlerts {
                session_warning_days: 31,
                ..RawAlerts::default()
            })
            .0,
            "alerts.session_warning_days"
        );
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
