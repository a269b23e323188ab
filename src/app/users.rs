//! The web view's accounts: add, change a password, remove, list; and the
//! one password check a login makes ([`verify_password`]). Passwords are
//! hashed here and only here, with Argon2id (the `argon2` crate, its default
//! parameters: OWASP's m = 19 MiB, t = 2, p = 1, a random salt per hash) into
//! the PHC string the archive keeps. A password or its hash never goes into
//! an error, a log line or a result.
//!
//! Input arrives as typed and is validated once: the name and password
//! rules of [`crate::domain::access`], each `--gstin` a GSTIN, `--from` and
//! `--to` months, `--until` a date not yet past; an auditor must be granted a
//! GSTIN (without one it would see nothing), admin and staff must not (they
//! see everything). Writes take the archive's writer lock, as every writing
//! command does, and say plainly when the daemon holds it.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use chrono::{DateTime, NaiveDate, Utc};

use crate::config::Config;
use crate::domain::access::{check_name, check_password_for, Grant, Role};
use crate::domain::gstin::Gstin;
use crate::domain::period::{india_date, Month};
use crate::domain::time::Timestamp;
use crate::store::{LockState, NewUser, Reader, Store, UserRow, WriterLock};

use super::{input, AppError, Result};

/// `user add` as typed.
#[derive(Clone, Debug, Default)]
pub struct AddUser {
    pub name: String,
    /// `admin`, `staff` or `auditor`.
    pub role: String,
    /// The GSTINs an auditor may see (repeatable `--gstin`).
    pub gstins: Vec<String>,
    /// First month of every grant's window (YYYY-MM).
    pub from: Option<String>,
    /// Last month of every grant's window (YYYY-MM).
    pub to: Option<String>,
    /// The last IST day the account may see anything (YYYY-MM-DD).
    pub until: Option<String>,
}

/// Checks `request` and `password`, and adds the account.
///
/// Fails with a one-line input error naming the flag (a bad name, role,
/// GSTIN, month or date, a weak password, an auditor without `--gstin`,
/// admin or staff with it), when a live account has the name already, when
/// the writer lock is held elsewhere, or when the archive cannot be written.
pub fn add(config: &Config, request: &AddUser, password: &str, now: DateTime<Utc>) -> Result<UserRow> {
    let user = new_user(request, password, now)?;
    let row = UserRow {
        name: user.name.clone(),
        role: user.role,
        grants: user.grants.clone(),
        until: user.until,
        created_at: user.created_at,
    };
    let (_lock, mut store) = open_writer(config, "add")?;
    store.add_user(&user)?;
    Ok(row)
}

/// Validates `request` and hashes `password` into the account to store.
///
/// Fails as [`add`] does for its input.
pub fn new_user(request: &AddUser, password: &str, now: DateTime<Utc>) -> Result<NewUser> {
    let Checked { role, grants, until } = checked(request, now)?;
    check_password_for(&request.name, password).map_err(input)?;
    Ok(NewUser {
        name: request.name.clone(),
        role,
        password_hash: hash_password(password)?,
        grants,
        until,
        created_at: Timestamp::of(now),
    })
}

/// Checks everything of `request` but the password, so that a command line
/// can refuse bad flags before asking for one.
///
/// Fails as [`add`] does for its input other than the password.
pub fn check(request: &AddUser, now: DateTime<Utc>) -> Result<()> {
    checked(request, now).map(drop)
}

struct Checked {
    role: Role,
    grants: Vec<Grant>,
    until: Option<NaiveDate>,
}

fn checked(request: &AddUser, now: DateTime<Utc>) -> Result<Checked> {
    check_name(&request.name).map_err(input)?;
    let role = Role::parse(&request.role)
        .ok_or_else(|| input(format!("--role {:?}: one of admin, staff, auditor", request.role)))?;
    let month = |flag: &str, text: &Option<String>| -> Result<Option<Month>> {
        text.as_deref()
            .map(|t| Month::parse(t).map_err(|e| input(format!("{flag}: {e}"))))
            .transpose()
    };
    let from = month("--from", &request.from)?;
    let to = month("--to", &request.to)?;
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            return Err(input(format!("--from {from} is after --to {to}")));
        }
    }
    let gstins = request
        .gstins
        .iter()
        .map(|g| Gstin::parse(g).map_err(|e| input(format!("--gstin: {e}"))))
        .collect::<Result<Vec<_>>>()?;
    match role {
        Role::Auditor if gstins.is_empty() => {
            return Err(input(format!(
                "user {}: an auditor sees only the GSTINs granted: give at least one --gstin",
                request.name
            )))
        }
        Role::Admin | Role::Staff if !gstins.is_empty() => {
            return Err(input(format!(
                "--gstin: an account of role {role} sees every GSTIN; grants are for auditors (--role auditor)"
            )))
        }
        Role::Admin | Role::Staff if from.is_some() || to.is_some() => {
            let flag = if from.is_some() { "--from" } else { "--to" };
            return Err(input(format!(
                "{flag}: an account of role {role} sees every period; windows are for auditors' grants (--role auditor)"
            )));
        }
        _ => {}
    }
    let until = request
        .until
        .as_deref()
        .map(|text| {
            NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
                input(format!(
                    "--until {text:?}: not a date (expected YYYY-MM-DD, e.g. 2027-03-31)"
                ))
            })
        })
        .transpose()?;
    if let Some(until) = until {
        let today = india_date(now);
        if until < today {
            return Err(input(format!(
                "--until {until} is in the past (today is {today} IST): the account could see nothing"
            )));
        }
    }
    let mut grants: Vec<Grant> = Vec::new();
    for gstin in gstins {
        let grant = Grant { gstin, from, to };
        if !grants.contains(&grant) {
            grants.push(grant);
        }
    }
    Ok(Checked { role, grants, until })
}

/// Sets a new password for the live account `name`.
///
/// Fails when the password breaks the rules, there is no such live account,
/// the writer lock is held elsewhere, or the archive cannot be written.
pub fn passwd(config: &Config, name: &str, password: &str) -> Result<()> {
    check_name(name).map_err(input)?;
    check_password_for(name, password).map_err(input)?;
    let hash = hash_password(password)?;
    let (_lock, mut store) = open_writer(config, "passwd")?;
    Ok(store.set_password(name, &hash)?)
}

/// Removes the live account `name` as of `now`: it can never log in again.
///
/// Fails when there is no such live account, the writer lock is held
/// elsewhere, or the archive cannot be written.
pub fn remove(config: &Config, name: &str, now: DateTime<Utc>) -> Result<()> {
    check_name(name).map_err(input)?;
    let (_lock, mut store) = open_writer(config, "remove")?;
    Ok(store.remove_user(name, Timestamp::of(now))?)
}

/// Every live account, by name (never a hash).
///
/// Fails when the archive cannot be read.
pub fn list(reader: &Reader) -> Result<Vec<UserRow>> {
    Ok(reader.users()?)
}

/// Whether `password` is the one `hash` (a PHC string) was made from. A hash
/// that is not a PHC string Argon2 reads verifies nothing.
pub fn verify_password(hash: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
}

/// `password` hashed with Argon2id and a fresh random salt, as a PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$…`).
///
/// Fails only when the system's random source does.
pub fn hash_password(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| AppError::Input(format!("cannot hash the password: {e}")))
}

/// The writer lock and the archive, for `user <command>`; a daemon holding
/// the lock is named as such.
fn open_writer(config: &Config, command: &str) -> Result<(WriterLock, Store)> {
    let lock =
        WriterLock::acquire(&config.archive_path).map_err(|e| match WriterLock::state(&config.archive_path) {
            LockState::Held(Some(holder)) if holder.command == "daemon" => input(format!(
                "user {command}: the daemon (pid {}) is writing to archive {}, and accounts are written by one \
                 process at a time: stop the daemon, run `gstvault user {command}` again, then start it",
                holder.pid,
                config.archive_path.display()
            )),
            _ => AppError::Store(e),
        })?;
    let store = Store::open(&config.archive_path)?;
    Ok((lock, store))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify_only_their_password() {
        let one = hash_password("correct horse battery").unwrap();
        let two = hash_password("correct horse battery").unwrap();
        assert!(one.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{one}");
        assert_ne!(one, two, "a random salt each time");
        assert!(verify_password(&one, "correct horse battery"));
        assert!(verify_password(&two, "correct horse battery"));
        assert!(!verify_password(&one, "correct horse batterY"));
        assert!(!verify_password("not a hash", "correct horse battery"));
        assert!(!verify_password("", ""));
    }

    #[test]
    fn input_is_checked_flag_by_flag() {
        let now = Utc::now();
        let auditor = AddUser {
            name: "ca.sharma".into(),
            role: "auditor".into(),
            gstins: vec!["27AAPFU0939F1ZV".into()],
            ..Default::default()
        };
        let refused = |request: AddUser, password: &str| new_user(&request, password, now).unwrap_err().to_string();
        let password = "long enough password";
        assert!(refused(
            AddUser {
                role: "root".into(),
                ..auditor.clone()
            },
            password
        )
        .starts_with("--role \"root\""));
        assert!(refused(
            AddUser {
                gstins: vec!["27AAPFU0939F1ZW".into()],
                ..auditor.clone()
            },
            password
        )
        .starts_with("--gstin: GSTIN"));
        assert!(refused(
            AddUser {
                gstins: vec![],
                ..auditor.clone()
            },
            password
        )
        .contains("give at least one --gstin"));
        assert!(refused(
            AddUser {
                role: "staff".into(),
                ..auditor.clone()
            },
            password
        )
        .starts_with("--gstin: an account of role staff sees every GSTIN"));
        assert!(refused(
            AddUser {
                role: "admin".into(),
                gstins: vec![],
                from: Some("2025-04".into()),
                ..auditor.clone()
            },
            password
        )
        .starts_with("--from: an account of role admin sees every period"));
        assert!(refused(
            AddUser {
                from: Some("2026-04".into()),
                to: Some("2025-04".into()),
                ..auditor.clone()
            },
            password
        )
        .starts_with("--from 2026-04 is after --to 2025-04"));
        assert!(refused(
            AddUser {
                until: Some("31/03/2027".into()),
                ..auditor.clone()
            },
            password
        )
        .starts_with("--until \"31/03/2027\": not a date"));
        assert!(refused(
            AddUser {
                until: Some("2020-01-01".into()),
                ..auditor.clone()
            },
            password
        )
        .contains("is in the past"));
        let short = refused(auditor.clone(), "short");
        assert!(short.contains("at least 12") && !short.contains("short"), "{short}");
        let made = new_user(
            &AddUser {
                gstins: vec!["27AAPFU0939F1ZV".into(), "27AAPFU0939F1ZV".into()],
                from: Some("2025-04".into()),
                until: Some("2999-12-31".into()),
                ..auditor
            },
            password,
            now,
        )
        .unwrap();
        assert_eq!(made.role, Role::Auditor);
        assert_eq!(made.grants.len(), 1, "a GSTIN given twice is one grant");
        assert_eq!(made.grants[0].from, Some(Month::parse("2025-04").unwrap()));
        assert!(verify_password(&made.password_hash, password));
        assert!(
            !format!("{made:?}").contains(&made.password_hash),
            "Debug leaves the hash out"
        );
    }
}
