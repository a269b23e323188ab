//! The command line's argument types (clap derive): every subcommand and
//! flag, with its help text. Values stay as typed; the application layer
//! validates them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "gstvault",
    version,
    about = "GST audit-evidence archiver for the Sandbox GST taxpayer API"
)]
pub struct Cli {
    /// Config file.
    #[arg(
        long,
        short = 'c',
        global = true,
        env = "GSTVAULT_CONFIG",
        default_value = "gstvault.toml"
    )]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Write, validate or print the config.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Log a GSTIN in with the portal OTP (prompts on a terminal).
    Login(LoginArgs),
    /// Run one capture pass now.
    Snapshot(SnapshotArgs),
    /// Run the Sandbox simulator as a standalone server.
    Simulate(SimulateArgs),
    /// The embedded default: simulator, three demo GSTINs, captures, bundles.
    Demo(DemoArgs),
    /// Create the archive's Ed25519 signing key (minisign format).
    Keygen,
    /// Export one evidence bundle.
    Export(ExportArgs),
    /// Verify a bundle, or the whole archive with --archive.
    Verify(VerifyArgs),
    /// Every exported bundle per GSTIN: its predecessor, and whether its file is there and whole.
    Bundles(BundlesArgs),
    /// Run the schedules of `[daemon]` until SIGTERM or SIGINT.
    Daemon,
    /// Serve the read-only web view of the archive until SIGTERM or SIGINT.
    Serve(ServeArgs),
    /// Per GSTIN: last capture, session, needs-login, last bundle; per job: last and next run.
    Status,
    /// What the next planned capture would fetch and why, and the calls it saves.
    Plan(PlanArgs),
    /// List archived snapshots: receive time, outcome, payload hash, whether it changed.
    List(ListArgs),
    /// Print what the portal returned: a snapshot by ID, or a key as of an instant.
    Show(ShowArgs),
    /// Structural diff of two snapshots' payloads (by IDs, or a key at two instants).
    Diff(DiffArgs),
    /// Periods whose data changed after first capture, with what changed.
    Changes(ChangesArgs),
    /// Month-end cash and ITC balances beside GSTR-3B liability and payment.
    Balances(BalancesArgs),
    /// GSTR-3B liability by table (3.1, 3.2, 5.1, 6.1) as filed, beside the portal's auto-computed liability.
    Liability(LiabilityArgs),
    /// GSTR-2B ITC of a month by section and head, as archived at an instant, or the difference between two.
    Itc(ItcArgs),
    /// The web view's accounts: add, list, remove, change a password.
    #[command(subcommand)]
    User(UserCommand),
}

/// Where a query reads and how it prints.
#[derive(Args, Debug)]
pub struct QueryOutput {
    /// Print JSON (an array of row objects).
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV (RFC 4180, with a header row).
    #[arg(long)]
    pub csv: bool,
    /// The archive to read (default: the config's `[archive]` path); opened read-only.
    #[arg(long)]
    pub archive: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only this GSTIN.
    #[arg(long)]
    pub gstin: Option<String>,
    /// Only this endpoint.
    #[arg(long, conflicts_with = "group")]
    pub endpoint: Option<String>,
    /// Only the endpoints of this group.
    #[arg(long)]
    pub group: Option<String>,
    /// Only this period: YYYY-MM, FY2025-26 or - (no period).
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub period: Option<String>,
    /// First month (YYYY-MM).
    #[arg(long)]
    pub from: Option<String>,
    /// Last month (YYYY-MM).
    #[arg(long)]
    pub to: Option<String>,
    /// Received at or after: RFC 3339, a date (start of that day, IST), or a time ago (7d, 12h).
    #[arg(long)]
    pub since: Option<String>,
    /// Only the snapshots of this capture run (its number in the run summary).
    #[arg(long)]
    pub run: Option<i64>,
    /// Only failed calls, with their cause.
    #[arg(long)]
    pub failed: bool,
    /// At most this many rows (0: all).
    #[arg(long, default_value_t = 1000)]
    pub limit: u64,
    #[command(flatten)]
    pub output: QueryOutput,
}

#[derive(Args, Debug)]
pub struct QueryKey {
    /// The GSTIN.
    #[arg(long)]
    pub gstin: Option<String>,
    /// The endpoint.
    #[arg(long)]
    pub endpoint: Option<String>,
    /// The period: YYYY-MM, FY2025-26 or -.
    #[arg(long)]
    pub period: Option<String>,
    /// The page (GSTR-2B files; 0 otherwise).
    #[arg(long, default_value_t = 0)]
    pub page: u32,
}

impl QueryKey {
    pub(super) fn args(&self) -> crate::query::KeyArgs {
        crate::query::KeyArgs {
            gstin: self.gstin.clone(),
            endpoint: self.endpoint.clone(),
            period: self.period.clone(),
            page: self.page,
        }
    }
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// The snapshot ID (its log sequence number, as `list` prints it).
    pub id: Option<u64>,
    #[command(flatten)]
    pub key: QueryKey,
    /// The latest answer received at or before: RFC 3339, a date (end of that day, IST), or a time ago (7d). Default: now.
    #[arg(long, conflicts_with = "id")]
    pub as_of: Option<String>,
    /// Write the exact bytes received to stdout.
    #[arg(long)]
    pub raw: bool,
    /// The archive to read (default: the config's `[archive]` path); opened read-only.
    #[arg(long)]
    pub archive: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// Two snapshot IDs: older, newer.
    pub ids: Vec<u64>,
    #[command(flatten)]
    pub key: QueryKey,
    /// The key's latest answer at or before: RFC 3339, a date (end of that day, IST) or a time ago (7d); twice: from, to; once: from it to now.
    #[arg(long)]
    pub at: Vec<String>,
    #[command(flatten)]
    pub output: QueryOutput,
}

#[derive(Args, Debug)]
pub struct ChangesArgs {
    /// Only this GSTIN.
    #[arg(long)]
    pub gstin: Option<String>,
    /// Detected at or after: RFC 3339, a date (start of that day, IST), or a time ago (7d, 12h).
    #[arg(long)]
    pub since: Option<String>,
    /// Only amendments after filing and portal-side changes (data of a filed return or a closed period moved).
    #[arg(long)]
    pub retroactive: bool,
    /// Only this kind of change: first-filing, amendment, portal-side or in-progress.
    #[arg(long)]
    pub kind: Option<String>,
    /// Only this endpoint.
    #[arg(long, conflicts_with = "group")]
    pub endpoint: Option<String>,
    /// Only the endpoints of this group.
    #[arg(long)]
    pub group: Option<String>,
    /// At most this many change rows (0: all).
    #[arg(long, default_value_t = 0)]
    pub limit: u64,
    #[command(flatten)]
    pub output: QueryOutput,
}

#[derive(Args, Debug)]
pub struct BalancesArgs {
    /// The GSTIN.
    #[arg(long)]
    pub gstin: String,
    /// The financial year, YYYY-YY (e.g. 2025-26).
    #[arg(long, required_unless_present = "month", conflicts_with = "month")]
    pub fy: Option<String>,
    /// One month, YYYY-MM.
    #[arg(long)]
    pub month: Option<String>,
    /// Ledgers received at or before: RFC 3339, a date (end of that day, IST), or a time ago (7d). Default: now.
    #[arg(long)]
    pub as_of: Option<String>,
    #[command(flatten)]
    pub output: QueryOutput,
}

#[derive(Args, Debug)]
pub struct LiabilityArgs {
    /// The GSTIN.
    #[arg(long)]
    pub gstin: String,
    /// One month, YYYY-MM.
    #[arg(long, required_unless_present = "fy", conflicts_with = "fy")]
    pub month: Option<String>,
    /// The financial year, YYYY-YY (e.g. 2025-26).
    #[arg(long)]
    pub fy: Option<String>,
    /// Returns received at or before: RFC 3339, a date (end of that day, IST), or a time ago (7d). Default: now.
    #[arg(long)]
    pub as_of: Option<String>,
    #[command(flatten)]
    pub output: QueryOutput,
}

#[derive(Args, Debug)]
pub struct ItcArgs {
    /// The GSTIN.
    #[arg(long)]
    pub gstin: String,
    /// The return month, YYYY-MM.
    #[arg(long)]
    pub month: String,
    /// The 2B as archived at: RFC 3339, a date (end of that day, IST), or a time ago (7d). Default: now.
    #[arg(long)]
    pub as_of: Option<String>,
    /// Also the 2B as archived at this instant, and the difference (as-of − against).
    #[arg(long)]
    pub against: Option<String>,
    #[command(flatten)]
    pub output: QueryOutput,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The GSTIN whose evidence to bundle.
    #[arg(long)]
    pub gstin: String,
    /// One return month, YYYY-MM.
    #[arg(long, conflicts_with = "fy", required_unless_present = "fy")]
    pub month: Option<String>,
    /// One financial year, YYYY-YY (e.g. 2025-26).
    #[arg(long)]
    pub fy: Option<String>,
    /// Include what was received up to: RFC 3339, a date (end of that day, IST), or a time ago (7d). Default: now.
    #[arg(long)]
    pub as_of: Option<String>,
    /// Output directory (default: `[export] out_dir`).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The bundle to verify.
    #[arg(required_unless_present = "archive", conflicts_with = "archive")]
    pub bundle: Option<PathBuf>,
    /// Verify the whole archive of the config instead.
    #[arg(long)]
    pub archive: bool,
    /// The public key to trust (default: the config's key for --archive, the bundle's copy for a bundle).
    #[arg(long)]
    pub pubkey: Option<PathBuf>,
    /// An older bundle of the same GSTIN whose checkpoint this one must extend.
    #[arg(long, requires = "bundle")]
    pub previous: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct BundlesArgs {
    /// Only this GSTIN's bundles.
    #[arg(long)]
    pub gstin: Option<String>,
    /// Where the bundle files are (default: `[export] out_dir`).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Write the commented example config to the config path.
    Init {
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Validate the config and list what it captures; warn about
    /// placeholders and unset environment variables.
    Check {
        /// Also reach the API: check the key and secret, report each GSTIN's session.
        #[arg(long)]
        online: bool,
    },
    /// Print the effective config (secrets are never shown).
    Show,
}

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// The GSTIN to log in.
    pub gstin: String,
    /// The OTP (otherwise prompted for on a terminal).
    #[arg(long)]
    pub otp: Option<String>,
    /// Only ask the portal to send an OTP; verify later with `--otp N --no-request`.
    #[arg(long, conflicts_with = "otp")]
    pub request_only: bool,
    /// Do not ask for a new OTP (verify one requested earlier).
    #[arg(long, requires = "otp")]
    pub no_request: bool,
}

#[derive(Args, Debug)]
pub struct SnapshotArgs {
    /// Only these GSTINs (repeatable; default: all configured).
    #[arg(long)]
    pub gstin: Vec<String>,
    /// First month (YYYY-MM); default: the start of the window whose data can still change.
    #[arg(long)]
    pub from: Option<String>,
    /// Last month (YYYY-MM); default: the current month.
    #[arg(long)]
    pub to: Option<String>,
    /// Only these endpoints (repeatable).
    #[arg(long)]
    pub endpoint: Vec<String>,
    /// Only these endpoint groups (repeatable).
    #[arg(long)]
    pub group: Vec<String>,
    /// Use the capture planner: fetch only what may have changed (`gstvault plan` shows why).
    #[arg(long, conflicts_with = "full")]
    pub planned: bool,
    /// Capture every endpoint and period of the window, bypassing the planner.
    #[arg(long)]
    pub full: bool,
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// Only these GSTINs (repeatable; default: all configured).
    #[arg(long)]
    pub gstin: Vec<String>,
    /// First month (YYYY-MM); default: the start of the window whose data can still change.
    #[arg(long)]
    pub from: Option<String>,
    /// Last month (YYYY-MM); default: the current month.
    #[arg(long)]
    pub to: Option<String>,
    /// List every planned call, not only the totals per rule.
    #[arg(long)]
    pub calls: bool,
}

#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1:8089")]
    pub listen: String,
    /// Seed of the simulated businesses.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Start the simulator clock at this RFC 3339 instant (default: now).
    #[arg(long)]
    pub start: Option<String>,
    /// Answer this share of data requests (0 to 1) with HTTP 500/502/503.
    #[arg(long, value_name = "SHARE", default_value_t = 0.0)]
    pub fault_5xx: f64,
    /// Answer this share with 429 Too Many Requests (with Retry-After).
    #[arg(long, value_name = "SHARE", default_value_t = 0.0)]
    pub fault_429: f64,
    /// Cut this share of bodies off mid-stream and drop the connection.
    #[arg(long, value_name = "SHARE", default_value_t = 0.0)]
    pub fault_torn: f64,
    /// Answer this share with a 200 whose body is not valid JSON.
    #[arg(long, value_name = "SHARE", default_value_t = 0.0)]
    pub fault_invalid_json: f64,
    /// Answer this share with an HTML page, an empty body or non-UTF-8 bytes.
    #[arg(long, value_name = "SHARE", default_value_t = 0.0)]
    pub fault_odd_body: f64,
    /// Delay this share of answers by up to --slow-max-ms.
    #[arg(long, value_name = "SHARE", default_value_t = 0.0)]
    pub fault_slow: f64,
    /// The longest delay of a slow answer, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    pub slow_max_ms: u64,
    /// Seed of the fault draws (the same seed, the same faults).
    #[arg(long, default_value_t = 1)]
    pub fault_seed: u64,
    /// Refuse calls past this many per minute per API key with 429, as the portal's platform does.
    #[arg(long, value_name = "N")]
    pub rate_limit: Option<u32>,
    /// Taxpayer session lifetime in minutes (the portal's is about 6 hours).
    #[arg(long, value_name = "MINUTES")]
    pub session_minutes: Option<u64>,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Directory for the demo's config and archive (default: a new temporary directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Afterwards add an admin account `demo` (its password printed once) and
    /// serve the web view on 127.0.0.1:8080 (a free port if taken) until Ctrl-C.
    #[arg(long)]
    pub web: bool,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add an account (the password is asked twice on a terminal, or read with --password-stdin).
    Add(UserAddArgs),
    /// List the live accounts: name, role, GSTINs granted, last day, created.
    List(UserListArgs),
    /// Remove an account: it can never log in again (its name may be reused).
    Remove {
        /// The account's name.
        name: String,
    },
    /// Set a new password for an account.
    Passwd {
        /// The account's name.
        name: String,
        /// Read the password from standard input (one line) instead of asking on the terminal.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Args, Debug)]
pub struct UserAddArgs {
    /// The account's name: 1-32 characters of a-z, 0-9, '.', '_', '-', starting with a letter.
    pub name: String,
    /// admin (everything, the access log), staff (every GSTIN) or auditor (only the GSTINs granted).
    #[arg(long)]
    pub role: String,
    /// A GSTIN an auditor may see (repeatable; auditors only).
    #[arg(long)]
    pub gstin: Vec<String>,
    /// First month the auditor may see of each --gstin (YYYY-MM).
    #[arg(long)]
    pub from: Option<String>,
    /// Last month the auditor may see of each --gstin (YYYY-MM).
    #[arg(long)]
    pub to: Option<String>,
    /// The last day (IST) the account may see anything, YYYY-MM-DD.
    #[arg(long)]
    pub until: Option<String>,
    /// Read the password from standard input (one line) instead of asking on the terminal.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Args, Debug)]
pub struct UserListArgs {
    #[command(flatten)]
    pub output: QueryOutput,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (default: `[web] listen`, else 127.0.0.1:8080).
    #[arg(long)]
    pub listen: Option<String>,
}
