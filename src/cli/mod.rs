//! The command line: the only module that knows clap. Each subcommand is a
//! thin adapter that validates its arguments, calls one library function and
//! prints the result; `main` maps the returned [`ExitCode`].
//!
//! Exit codes: 0 done; 1 done with findings (a GSTIN needs login; later, a
//! verify finding); 2 could not run (bad input, unreadable config, archive error).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex as StdMutex};

use anyhow::{anyhow, bail, Context as _, Result};
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};

use crate::capture::client::Client;
use crate::capture::session::TokenStore;
use crate::capture::{self, Plan, Progress, RunSummary};
use crate::clock::{SharedClock, SystemClock};
use crate::config::{self, Config, GstinEntry, LogFormat};
use crate::domain::catalog::{self, Group};
use crate::domain::gstin::Gstin;
use crate::domain::period::{default_window, india_date, Month};
use crate::store::{format_time, SessionState, Store};

/// Process exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    Ok = 0,
    Findings = 1,
    CouldNotRun = 2,
}

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
    /// Run the schedules of [daemon] until SIGTERM or SIGINT.
    Daemon,
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
    /// The archive to read (default: the config's [archive] path); opened read-only.
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
    /// Received at or after: RFC 3339, or YYYY-MM-DD (start of that day, IST).
    #[arg(long)]
    pub since: Option<String>,
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
    fn args(&self) -> crate::query::KeyArgs {
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
    /// The latest answer received at or before: RFC 3339, or YYYY-MM-DD (end of that day, IST). Default: now.
    #[arg(long, conflicts_with = "id")]
    pub as_of: Option<String>,
    /// Write the exact bytes received to stdout.
    #[arg(long)]
    pub raw: bool,
    /// The archive to read (default: the config's [archive] path); opened read-only.
    #[arg(long)]
    pub archive: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// Two snapshot IDs: older, newer.
    pub ids: Vec<u64>,
    #[command(flatten)]
    pub key: QueryKey,
    /// The key's latest answer at or before this instant (twice: from, to; once: from it to now).
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
    /// Detected at or after: RFC 3339, or YYYY-MM-DD (start of that day, IST).
    #[arg(long)]
    pub since: Option<String>,
    /// Only changes to periods already closed when the earlier answer was captured.
    #[arg(long)]
    pub retroactive: bool,
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
    #[arg(long)]
    pub fy: String,
    /// Ledgers received at or before: RFC 3339, or YYYY-MM-DD (end of that day, IST). Default: now.
    #[arg(long)]
    pub as_of: Option<String>,
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
    /// Include what was received up to this RFC 3339 instant (default: now).
    #[arg(long)]
    pub as_of: Option<String>,
    /// Output directory (default: [export] out_dir).
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

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Write the commented example config to the config path.
    Init {
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Validate the config and list what it captures.
    Check,
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
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Directory for the demo's config and archive (default: a new temporary directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Config(ConfigCommand::Init { force }) => config_init(&cli.config, force),
        Command::Config(ConfigCommand::Check) => config_check(&cli.config),
        Command::Config(ConfigCommand::Show) => {
            let config = Config::load(&cli.config)?;
            print!("{}", config.show());
            Ok(ExitCode::Ok)
        }
        Command::Login(args) => login(&cli.config, args).await,
        Command::Snapshot(args) => snapshot(&cli.config, args).await,
        Command::Simulate(args) => simulate(args).await,
        Command::Demo(args) => {
            crate::demo::run(args.dir).await?;
            Ok(ExitCode::Ok)
        }
        Command::Keygen => keygen(&cli.config),
        Command::Export(args) => export(&cli.config, args),
        Command::Verify(args) => verify(&cli.config, args),
        Command::Daemon => daemon(&cli.config).await,
        Command::Status => status(&cli.config),
        Command::Plan(args) => plan(&cli.config, args),
        Command::List(args) => {
            let store = open_for_query(&cli.config, &args.output.archive)?;
            let rows = crate::query::list(
                &store,
                &crate::query::ListArgs {
                    gstin: args.gstin,
                    endpoint: args.endpoint,
                    group: args.group,
                    period: args.period,
                    from: args.from,
                    to: args.to,
                    since: args.since,
                    limit: args.limit,
                },
            )?;
            if args.limit > 0 && rows.len() as u64 == args.limit {
                eprintln!(
                    "note: --limit {} reached; more rows may match: narrow the filters or raise --limit (0: all)",
                    args.limit
                );
            }
            print_table(
                &crate::render::query::list_table(&rows),
                &args.output,
                "no snapshots match",
            )
        }
        Command::Show(args) => {
            let store = open_for_query(&cli.config, &args.archive)?;
            let query = crate::query::ShowArgs {
                id: args.id,
                key: args.key.args(),
                as_of: args.as_of,
            };
            let shown = crate::query::show(&store, &query, Utc::now())?;
            eprintln!("{}", crate::render::query::describe_shown(&shown));
            match (&shown.body, args.raw) {
                (None, _) => bail!(
                    "snapshot {}: {} without a body: no bytes were received",
                    shown.row.seq,
                    shown.row.outcome
                ),
                (Some(body), true) => std::io::stdout().write_all(body)?,
                (Some(_), false) => print!("{}", crate::render::query::pretty_body(&shown).unwrap_or_default()),
            }
            Ok(ExitCode::Ok)
        }
        Command::Diff(args) => {
            let store = open_for_query(&cli.config, &args.output.archive)?;
            let query = crate::query::DiffArgs {
                ids: args.ids,
                key: args.key.args(),
                at: args.at,
            };
            let diffed = crate::query::diff(&store, &query, Utc::now())?;
            if format_of(&args.output) == crate::render::table::Format::Human {
                println!("{}", crate::render::query::describe_diff(&diffed));
            }
            print_table(
                &crate::render::query::diff_table(&diffed),
                &args.output,
                "no difference",
            )
        }
        Command::Changes(args) => {
            let store = open_for_query(&cli.config, &args.output.archive)?;
            let query = crate::query::ChangesArgs {
                gstin: args.gstin,
                since: args.since,
                retroactive: args.retroactive,
                limit: args.limit,
            };
            let rows = crate::query::changes(&store, &query)?;
            print_table(
                &crate::render::query::changes_table(&rows),
                &args.output,
                "no changes match",
            )
        }
        Command::Balances(args) => {
            let store = open_for_query(&cli.config, &args.output.archive)?;
            let query = crate::query::BalancesArgs {
                gstin: args.gstin,
                fy: args.fy,
                as_of: args.as_of,
            };
            let rows = crate::query::balances(&store, &query, Utc::now())?;
            print_table(
                &crate::render::query::balances_table(&rows),
                &args.output,
                "no ledger or GSTR-3B snapshots match",
            )
        }
    }
}

/// Opens the archive read-only: `--archive`, else the config's archive path.
fn open_for_query(config_path: &Path, archive: &Option<PathBuf>) -> Result<Store> {
    let path = match archive {
        Some(path) => path.clone(),
        None => Config::load(config_path)?.archive_path,
    };
    Ok(Store::open_read_only(&path)?)
}

fn format_of(output: &QueryOutput) -> crate::render::table::Format {
    if output.json {
        crate::render::table::Format::Json
    } else if output.csv {
        crate::render::table::Format::Csv
    } else {
        crate::render::table::Format::Human
    }
}

/// Prints a query's rows; an empty human result says `empty` (JSON `[]`, CSV the header).
fn print_table(table: &crate::render::table::Table, output: &QueryOutput, empty: &str) -> Result<ExitCode> {
    let format = format_of(output);
    if table.is_empty() && format == crate::render::table::Format::Human {
        println!("{empty}");
    } else {
        print!("{}", table.render(format));
    }
    Ok(ExitCode::Ok)
}

fn keygen(config_path: &Path) -> Result<ExitCode> {
    let config = Config::load(config_path)?;
    let password = config.key_password();
    let info = crate::evidence::signing::keygen(&config.signing_key, &config.public_key, password.as_ref())?;
    println!(
        "secret key: {} (owner-only{})",
        config.signing_key.display(),
        if password.is_some() {
            ", password-protected"
        } else {
            ", no password"
        }
    );
    println!("public key: {}", config.public_key.display());
    print!("{}", info.public_key_text);
    println!("key ID:      {}", info.key_id);
    println!("fingerprint: {}", info.fingerprint);
    println!("Give the public key and fingerprint to your auditors through a channel they trust.");
    Ok(ExitCode::Ok)
}

/// Loads the configured signing key.
pub fn load_signing_key(config: &Config) -> Result<crate::evidence::signing::SigningKey> {
    if !config.signing_key.exists() {
        bail!(
            "signing key {} does not exist: run `gstvault keygen`",
            config.signing_key.display()
        );
    }
    Ok(crate::evidence::signing::SigningKey::load(
        &config.signing_key,
        config.key_password().as_ref(),
    )?)
}

/// Signs and stores a checkpoint after a run when a signing key exists.
pub fn checkpoint_after_run(
    config: &Config,
    store: &Store,
    run_id: i64,
    now: DateTime<Utc>,
) -> Result<Option<crate::store::CheckpointRow>> {
    if !config.signing_key.exists() {
        tracing::warn!(key = %config.signing_key.display(), "no signing key: the run's checkpoint is not signed (run `gstvault keygen`)");
        return Ok(None);
    }
    let key = load_signing_key(config)?;
    Ok(Some(crate::evidence::checkpoint::record(
        store,
        &key,
        now,
        Some(run_id),
    )?))
}

fn parse_instant(flag: &str, text: &str) -> Result<DateTime<Utc>> {
    Ok(DateTime::parse_from_rfc3339(text)
        .map_err(|e| anyhow!("{flag} {text:?}: not an RFC 3339 instant such as 2026-05-01T00:00:00+05:30 ({e})"))?
        .with_timezone(&Utc))
}

/// Turns `export` arguments into a request, rejecting bad input first.
pub fn export_request(
    config: &Config,
    args: &ExportArgs,
    now: DateTime<Utc>,
) -> Result<crate::evidence::bundle::export::ExportRequest> {
    use crate::evidence::scope::Scope;
    let gstin = Gstin::parse(&args.gstin)?;
    let entry = config
        .gstin(&gstin)
        .ok_or_else(|| anyhow!("GSTIN {gstin} is not in config {}", config.source))?;
    let as_of = match &args.as_of {
        Some(text) => parse_instant("--as-of", text)?,
        None => now,
    };
    if as_of > now {
        bail!("--as-of {} is in the future", format_time(as_of));
    }
    let today_month = Month::of_date(india_date(now));
    let scope = match (&args.month, &args.fy) {
        (Some(m), None) => {
            let month = Month::parse(m).map_err(|e| anyhow!("--month: {e}"))?;
            if month > today_month {
                bail!("--month {month} is in the future");
            }
            Scope::Month(month)
        }
        (None, Some(y)) => {
            let fy = crate::domain::period::FinancialYear::parse(y).map_err(|e| anyhow!("--fy: {e}"))?;
            if fy.first_month() > today_month {
                bail!("--fy {} is in the future", fy.label());
            }
            Scope::Year(fy)
        }
        _ => bail!("give exactly one of --month YYYY-MM or --fy YYYY-YY"),
    };
    let template = match &config.pdf_template {
        Some(path) => Some(std::fs::read_to_string(path).with_context(|| format!("pdf template {}", path.display()))?),
        None => None,
    };
    Ok(crate::evidence::bundle::export::ExportRequest {
        gstin,
        legal_name: entry.legal_name.clone(),
        organization: config.organization.clone(),
        scope,
        as_of,
        out_dir: args.out.clone().unwrap_or_else(|| config.bundles_dir.clone()),
        template,
    })
}

fn export(config_path: &Path, args: ExportArgs) -> Result<ExitCode> {
    let config = Config::load(config_path)?;
    init_logging(config.log_format, &config.log_level);
    let now = Utc::now();
    let request = export_request(&config, &args, now)?;
    let key = load_signing_key(&config)?;
    let store = Store::open(&config.archive_path)?;
    let exported = crate::evidence::bundle::export::export(&store, &key, &request, now)?;
    print_exported(&exported);
    Ok(ExitCode::Ok)
}

pub fn print_exported(exported: &crate::evidence::bundle::export::Exported) {
    println!("bundle:   {}", exported.path.display());
    println!("  id {}  sha256 {}", exported.bundle_id, exported.sha256);
    println!(
        "  {} snapshot version(s), {} of payload, log size {}{}",
        exported.snapshots,
        human_bytes(exported.payload_bytes),
        exported.checkpoint_size,
        exported
            .previous
            .as_ref()
            .map(|p| format!(", consistent with {p}"))
            .unwrap_or_default()
    );
}

fn verify(config_path: &Path, args: VerifyArgs) -> Result<ExitCode> {
    let pubkey = match &args.pubkey {
        Some(path) => Some(crate::evidence::signing::PublicKey::parse(
            &std::fs::read_to_string(path).with_context(|| format!("--pubkey {}", path.display()))?,
        )?),
        None => None,
    };
    let report = if args.archive {
        let config = Config::load(config_path)?;
        let pubkey = match pubkey {
            Some(k) => Some(k),
            None if config.public_key.exists() => Some(crate::evidence::signing::PublicKey::parse(
                &std::fs::read_to_string(&config.public_key)?,
            )?),
            None => None,
        };
        let store = Store::open_read_only(&config.archive_path)?;
        crate::evidence::verify::verify_archive(&store, pubkey.as_ref())?
    } else {
        let bundle = args.bundle.as_ref().expect("clap requires a bundle without --archive");
        crate::evidence::bundle::check::check_bundle(bundle, pubkey.as_ref(), args.previous.as_deref())?
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render_verify(&report));
    }
    Ok(if report.intact() {
        ExitCode::Ok
    } else {
        ExitCode::Findings
    })
}

/// The human verification report.
pub fn render_verify(report: &crate::evidence::report::VerifyReport) -> String {
    let mut out = String::new();
    for finding in &report.findings {
        out.push_str(&format!("FINDING {}: {}\n", finding.subject, finding.message));
    }
    for note in &report.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    out.push_str(&format!(
        "{}: {} snapshot(s), {} payload(s), {} checkpoint(s), {} hashed, {} finding(s)\n",
        if report.intact() { "INTACT" } else { "NOT INTACT" },
        report.snapshots,
        report.payloads,
        report.checkpoints,
        human_bytes(report.bytes_hashed),
        report.findings.len()
    ));
    out
}

/// Sets up tracing on stderr in the configured format.
pub fn init_logging(format: LogFormat, level: &str) {
    // refinery announces every migration at info; that is noise for an operator.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{level},refinery_core=warn")));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Human => builder.try_init(),
    };
}

fn config_init(path: &Path, force: bool) -> Result<ExitCode> {
    if path.exists() && !force {
        bail!("config {}: already exists (use --force to overwrite)", path.display());
    }
    std::fs::write(path, config::EXAMPLE).with_context(|| format!("config {}: cannot write", path.display()))?;
    println!(
        "wrote {} (edit [[gstin]] and [api], then `gstvault config check`)",
        path.display()
    );
    Ok(ExitCode::Ok)
}

fn config_check(path: &Path) -> Result<ExitCode> {
    let config = Config::load(path)?;
    println!("config {}: ok", path.display());
    println!("archive: {}", config.archive_path.display());
    println!(
        "gstins: {}",
        config
            .gstins
            .iter()
            .map(|g| g.gstin.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    for group in Group::ALL {
        let names: Vec<&str> = config
            .endpoints
            .iter()
            .filter(|e| e.group == group)
            .map(|e| e.name)
            .collect();
        let off: Vec<&str> = catalog::ENDPOINTS
            .iter()
            .filter(|e| e.group == group && !names.contains(&e.name))
            .map(|e| e.name)
            .collect();
        println!("{:<10} {} captured: {}", group.name(), names.len(), names.join(" "));
        if !off.is_empty() {
            println!("{:<10} not captured: {}", "", off.join(" "));
        }
    }
    let now = Utc::now();
    for kind in crate::domain::schedule::JobKind::ALL {
        match config.daemon.schedule(kind) {
            Some(schedule) => {
                let fires: Vec<String> = schedule
                    .next_fires(now, 3)
                    .iter()
                    .map(|t| {
                        t.with_timezone(&crate::domain::period::ist())
                            .format("%Y-%m-%d %H:%M:%S IST")
                            .to_string()
                    })
                    .collect();
                println!(
                    "daemon {:<16} {:<18} next: {}",
                    kind.name(),
                    schedule.expression,
                    fires.join(", ")
                );
            }
            None => println!("daemon {:<16} off", kind.name()),
        }
    }
    match config.credentials() {
        Ok(_) => println!(
            "credentials: {} and {} are set",
            config.api.key_env, config.api.secret_env
        ),
        Err(e) => println!("warning: {e}"),
    }
    Ok(ExitCode::Ok)
}

fn build_client(config: &Config, clock: SharedClock) -> Result<Arc<Client>> {
    let credentials = config.credentials()?;
    Ok(Client::new(config.api.clone(), credentials, clock)?)
}

async fn login(config_path: &Path, args: LoginArgs) -> Result<ExitCode> {
    let config = Config::load(config_path)?;
    init_logging(config.log_format, &config.log_level);
    let gstin = Gstin::parse(&args.gstin)?;
    let entry = config
        .gstin(&gstin)
        .ok_or_else(|| anyhow!("GSTIN {gstin} is not in config {} ([[gstin]] tables)", config.source))?
        .clone();
    let clock: SharedClock = Arc::new(SystemClock);
    let client = build_client(&config, clock.clone())?;
    let otp = match &args.otp {
        Some(otp) => {
            if otp.is_empty() || !otp.chars().all(|c| c.is_ascii_digit()) {
                bail!("--otp {otp:?}: an OTP is digits only");
            }
            otp.clone()
        }
        None if args.request_only => String::new(),
        None if std::io::stdin().is_terminal() => String::new(),
        None => bail!("login {gstin}: stdin is not a terminal: pass the OTP with --otp"),
    };
    if !args.no_request {
        client.request_otp(&gstin, &entry.username).await?;
        eprintln!("OTP sent for {gstin} (user {})", entry.username);
    }
    if args.request_only {
        println!("OTP requested; verify with: gstvault login {gstin} --otp NNNNNN --no-request");
        return Ok(ExitCode::Ok);
    }
    let otp = if otp.is_empty() {
        eprint!("OTP for {gstin}: ");
        std::io::stderr().flush().ok();
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        line.trim().to_string()
    } else {
        otp
    };
    let session = client.verify_otp(&gstin, &entry.username, &otp).await?;
    save_login(&config, &gstin, &session, clock.now())?;
    println!(
        "logged in {gstin}: session valid until {}",
        format_time(session.expires_at())
    );
    Ok(ExitCode::Ok)
}

/// Stores a fresh session: token file and the archive's session state.
pub fn save_login(
    config: &Config,
    gstin: &Gstin,
    session: &crate::capture::session::Session,
    now: DateTime<Utc>,
) -> Result<()> {
    TokenStore::new(&config.sessions_dir).save(gstin, session)?;
    let store = Store::open(&config.archive_path)?;
    store.put_session_state(&SessionState {
        gstin: gstin.to_string(),
        token_expiry: Some(format_time(session.token_expiry)),
        session_expiry: Some(format_time(session.session_expiry)),
        needs_login: false,
        reason: None,
        updated_at: format_time(now),
    })?;
    Ok(())
}

/// Turns `snapshot` arguments into a plan, rejecting bad input before anything is written.
pub fn plan_from_args(config: &Config, args: &SnapshotArgs, now: DateTime<Utc>, kind: &'static str) -> Result<Plan> {
    let today = india_date(now);
    let current = Month::of_date(today);
    let mut gstins: Vec<GstinEntry> = Vec::new();
    for text in &args.gstin {
        let gstin = Gstin::parse(text)?;
        let entry = config
            .gstin(&gstin)
            .ok_or_else(|| anyhow!("GSTIN {gstin} is not in config {}", config.source))?;
        gstins.push(entry.clone());
    }
    if args.gstin.is_empty() {
        gstins = config.gstins.clone();
    }
    if gstins.is_empty() {
        bail!("config {}: no [[gstin]] configured", config.source);
    }
    let (default_from, _) = default_window(today);
    let parse_month = |flag: &str, text: &str| -> Result<Month> {
        let month = Month::parse(text).map_err(|e| anyhow!("--{flag}: {e}"))?;
        if month > current {
            bail!("--{flag} {month} is in the future (today is {today})");
        }
        Ok(month)
    };
    let (from, to) = match (&args.from, &args.to) {
        (Some(f), Some(t)) => (parse_month("from", f)?, parse_month("to", t)?),
        (Some(f), None) => (parse_month("from", f)?, current),
        (None, Some(_)) => bail!("--to needs --from"),
        (None, None) => (default_from, current),
    };
    if from > to {
        bail!("--from {from} is after --to {to}");
    }
    let endpoints = if args.endpoint.is_empty() && args.group.is_empty() {
        config.endpoints.clone()
    } else {
        let selection = config::RawCapture {
            endpoints: args.endpoint.clone(),
            groups: args.group.clone(),
            exclude: vec![],
            planner: false,
        };
        for group in &args.group {
            if Group::parse(group).is_none() {
                bail!("--group {group:?}: unknown group; groups are {}", config::group_names());
            }
        }
        for name in &args.endpoint {
            if catalog::find(name).is_none() {
                bail!("--endpoint {name:?}: unknown endpoint; `gstvault config check` lists them");
            }
        }
        config::resolve_endpoints(&selection).map_err(|(_, message)| anyhow!("{message}"))?
    };
    Ok(Plan {
        gstins,
        endpoints,
        from,
        to,
        kind,
    })
}

struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn planned(&self, jobs: u64) {
        self.0.set_length(jobs);
    }
    fn finished_job(&self) {
        self.0.inc(1);
    }
}

async fn snapshot(config_path: &Path, args: SnapshotArgs) -> Result<ExitCode> {
    let config = Config::load(config_path)?;
    init_logging(config.log_format, &config.log_level);
    let clock: SharedClock = Arc::new(SystemClock);
    let plan = plan_from_args(&config, &args, clock.now(), "snapshot")?;
    let client = build_client(&config, clock.clone())?;
    let _writer = crate::store::WriterLock::acquire(&config.archive_path)?;
    let opened = Store::open(&config.archive_path)?;
    // Holding the writer lock, any run still marked running was cut short.
    opened.mark_interrupted(clock.now())?;
    let store = Arc::new(StdMutex::new(opened));
    let progress: Option<Arc<dyn Progress>> = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} requests  {elapsed} (eta {eta})")
                .expect("static template"),
        );
        Arc::new(Bar(bar)) as Arc<dyn Progress>
    });
    let summary = if args.planned || (config.planner && !args.full) {
        let run = capture::run_planned(
            &plan,
            config.daily_call_budget,
            client,
            store,
            TokenStore::new(&config.sessions_dir),
            clock,
            None,
        )
        .await?;
        println!(
            "planner: {} call(s) planned, {} naive, {} saved, {} carried over",
            run.planned_calls,
            run.naive_calls,
            run.naive_calls.saturating_sub(run.planned_calls),
            run.carried_over
        );
        run.summary
    } else {
        capture::run(
            &plan,
            client,
            store,
            TokenStore::new(&config.sessions_dir),
            clock,
            progress,
        )
        .await?
    };
    print!("{}", render_summary(&summary));
    println!("archive: {}", config.archive_path.display());
    Ok(if summary.needs_login.is_empty() {
        ExitCode::Ok
    } else {
        ExitCode::Findings
    })
}

/// The human summary of one capture run.
pub fn render_summary(s: &RunSummary) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "run {}: {} GSTIN(s), {} endpoint(s) x {} period(s) = {} job(s), {} snapshot(s)\n",
        s.run_id, s.gstins, s.endpoints, s.periods, s.planned, s.snapshots
    ));
    out.push_str(&format!(
        "  ok {}  no-data {}  failed {} (api {}, http {}, transport {})\n",
        s.count(crate::domain::envelope::Outcome::Ok),
        s.count(crate::domain::envelope::Outcome::NoData),
        s.failed(),
        s.count(crate::domain::envelope::Outcome::ApiError),
        s.count(crate::domain::envelope::Outcome::HttpError),
        s.count(crate::domain::envelope::Outcome::TransportError)
    ));
    out.push_str(&format!(
        "  requests {}  retries {}  received {}  new payload bytes stored {}  changes found {}\n",
        s.requests,
        s.retries,
        human_bytes(s.bytes_received),
        human_bytes(s.new_payload_bytes),
        s.changes
    ));
    for (gstin, reason) in &s.needs_login {
        out.push_str(&format!("  NEEDS LOGIN {gstin}: {reason}\n"));
    }
    if s.skipped > 0 {
        out.push_str(&format!("  skipped {} job(s) of GSTINs that need login\n", s.skipped));
    }
    out
}

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

async fn simulate(args: SimulateArgs) -> Result<ExitCode> {
    init_logging(LogFormat::Human, "info");
    let start = match &args.start {
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map_err(|e| anyhow!("--start {text:?}: not an RFC 3339 instant ({e})"))?
            .with_timezone(&Utc),
        None => Utc::now(),
    };
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("--listen {}: cannot bind", args.listen))?;
    let addr = listener.local_addr()?;
    let sim = crate::sim::Simulator::new(crate::sim::SimConfig::new(args.seed, start));
    println!(
        "simulator listening on http://{addr} (seed {}, clock {}), test OTP {}",
        args.seed,
        format_time(start),
        crate::sim::TEST_OTP
    );
    println!(
        "demo GSTINs: {}",
        crate::sim::demo_gstins()
            .iter()
            .map(|g| g.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    sim.serve(listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(ExitCode::Ok)
}

async fn daemon(config_path: &Path) -> Result<ExitCode> {
    let config = Config::load(config_path)?;
    init_logging(config.log_format, &config.log_level);
    let credentials = config.credentials()?;
    let daemon = crate::daemon::Daemon::new(config, credentials, Arc::new(SystemClock))?;
    daemon.serve(crate::daemon::termination_signal()).await?;
    Ok(ExitCode::Ok)
}

fn status(config_path: &Path) -> Result<ExitCode> {
    let config = Config::load(config_path)?;
    let now = Utc::now();
    let store = Store::open_read_only(&config.archive_path)?;
    let last_answer: std::collections::BTreeMap<String, String> = store.last_answer_by_gstin()?.into_iter().collect();
    let sessions: std::collections::BTreeMap<String, crate::store::SessionState> = store
        .session_states()?
        .into_iter()
        .map(|s| (s.gstin.clone(), s))
        .collect();
    let mut needs_login = false;
    println!(
        "{:<16} {:<25} {:<25} {:<12} last bundle",
        "GSTIN", "last capture", "session expires", "needs login"
    );
    for entry in &config.gstins {
        let g = entry.gstin.as_str();
        let state = sessions.get(g);
        let needs = state.map(|s| s.needs_login).unwrap_or(true);
        needs_login |= needs;
        let bundle = store
            .bundles_of(g)?
            .pop()
            .map(|b| format!("{} ({})", b.file_name, b.created_at))
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<16} {:<25} {:<25} {:<12} {}",
            g,
            last_answer.get(g).map(String::as_str).unwrap_or("never"),
            state
                .and_then(|s| s.session_expiry.clone())
                .unwrap_or_else(|| "no session".into()),
            if needs { "YES" } else { "no" },
            bundle
        );
        if let Some(reason) = state.and_then(|s| s.reason.clone()).filter(|_| needs) {
            println!("{:<16} {reason}", "");
        }
    }
    let runs: std::collections::BTreeMap<String, crate::store::JobRunRow> =
        store.last_job_runs()?.into_iter().map(|r| (r.job.clone(), r)).collect();
    println!();
    println!(
        "{:<16} {:<25} {:<12} {:<25} detail",
        "job", "last run", "result", "next run"
    );
    for kind in crate::domain::schedule::JobKind::ALL {
        let last = runs.get(kind.name());
        let next = config
            .daemon
            .schedule(kind)
            .and_then(|s| s.next_fires(now, 1).first().copied())
            .map(format_time)
            .unwrap_or_else(|| "off".into());
        println!(
            "{:<16} {:<25} {:<12} {:<25} {}",
            kind.name(),
            last.map(|r| r.started_at.as_str()).unwrap_or("never"),
            last.map(|r| r.result.as_str()).unwrap_or("-"),
            next,
            last.and_then(|r| r.detail.clone()).unwrap_or_default()
        );
    }
    Ok(if needs_login { ExitCode::Findings } else { ExitCode::Ok })
}

fn plan(config_path: &Path, args: PlanArgs) -> Result<ExitCode> {
    use crate::capture::planner::{decide, naive_calls, ArchiveView, Inputs, Tier};
    let config = Config::load(config_path)?;
    let now = Utc::now();
    let selection = SnapshotArgs {
        gstin: args.gstin.clone(),
        from: args.from.clone(),
        to: args.to.clone(),
        endpoint: vec![],
        group: vec![],
        planned: true,
        full: false,
    };
    let plan = plan_from_args(&config, &selection, now, "plan")?;
    let store = if config.archive_path.exists() {
        Some(Store::open_read_only(&config.archive_path)?)
    } else {
        None
    };
    let months = plan.from.through(plan.to);
    let today = india_date(now);
    let payload = |sha: &str| -> Option<serde_json::Value> {
        let bytes = store.as_ref()?.payload(sha).ok()??;
        serde_json::from_slice(&bytes).ok()
    };
    let inputs = Inputs {
        endpoints: &plan.endpoints,
        months: &months,
        today,
        payload: &payload,
    };
    let (mut planned_total, mut naive_total) = (0u64, 0u64);
    for entry in &plan.gstins {
        let view = match &store {
            Some(store) => ArchiveView::load(store, entry.gstin.as_str())?,
            None => ArchiveView::default(),
        };
        let mut by_rule: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
        let mut skipped: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
        let mut planned = 0u64;
        for tier in Tier::ALL {
            let decision = decide(tier, &inputs, &view);
            for call in &decision.fetch {
                planned += 1;
                *by_rule.entry(call.rule.name().to_string()).or_default() += 1;
                if args.calls {
                    println!(
                        "{}  {:<28} {:<10} {}",
                        entry.gstin,
                        call.endpoint.name,
                        call.period,
                        call.rule.name()
                    );
                }
            }
            for skip in &decision.skip {
                let reason = skip.reason.to_string();
                let reason = reason.split(" (").next().unwrap_or_default().to_string();
                *skipped.entry(reason).or_default() += 1;
            }
        }
        let naive = naive_calls(&plan.endpoints, &months, today);
        planned_total += planned;
        naive_total += naive;
        println!(
            "{}: {planned} call(s) planned of {naive} a full capture makes ({} saved)",
            entry.gstin,
            naive.saturating_sub(planned)
        );
        for (rule, n) in &by_rule {
            println!("  fetch {n:>5}  {rule}");
        }
        for (reason, n) in &skipped {
            println!("  skip  {n:>5}  {reason}");
        }
    }
    println!(
        "total: {planned_total} planned, {naive_total} full, {} saved ({:.1}% of a full capture)",
        naive_total.saturating_sub(planned_total),
        if naive_total == 0 {
            0.0
        } else {
            planned_total as f64 * 100.0 / naive_total as f64
        }
    );
    println!("note: sections and dependents are decided again once this run's probes (tracking, summaries, 2A document) answer, so a run can add calls the probes reveal.");
    Ok(ExitCode::Ok)
}
