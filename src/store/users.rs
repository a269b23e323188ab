//! The web view's accounts as the archive keeps them (`users`,
//! `user_grants`, schema 11): one row per account with its role, its
//! password hash (a PHC string made by `app::users`; this module never sees a
//! password), when it was made, its last day and when it was removed; and
//! the GSTINs an auditor is granted. Operational rows: a password change and
//! a removal update the row in place. A removed account can never log in
//! again, and its name may be taken by a new account.

use chrono::NaiveDate;
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::rows::text_time_at;
use super::{Reader, Result, Store, StoreError};
use crate::domain::access::{Grant, Role, Viewer};
use crate::domain::gstin::Gstin;
use crate::domain::period::Month;
use crate::domain::time::Timestamp;

/// An account to add. `Debug` leaves the hash out.
#[derive(Clone, PartialEq, Eq)]
pub struct NewUser {
    pub name: String,
    pub role: Role,
    /// The password's PHC string; never the password.
    pub password_hash: String,
    pub grants: Vec<Grant>,
    /// The last IST day the account may see anything.
    pub until: Option<NaiveDate>,
    pub created_at: Timestamp,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("password_hash", &"<redacted>")
            .field("grants", &self.grants)
            .field("until", &self.until)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// A live account as `user list` shows it: never its hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRow {
    pub name: String,
    pub role: Role,
    pub grants: Vec<Grant>,
    pub until: Option<NaiveDate>,
    pub created_at: Timestamp,
}

const DATE: &str = "%Y-%m-%d";

fn unreadable(i: usize, what: String) -> rusqlite::Error {
    rusqlite::Error::InvalidColumnType(i, what, rusqlite::types::Type::Text)
}

fn role_at(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Role> {
    let text: String = r.get(i)?;
    Role::parse(&text).ok_or_else(|| unreadable(i, format!("role {text:?}")))
}

fn date_at(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<NaiveDate>> {
    match r.get::<_, Option<String>>(i)? {
        None => Ok(None),
        Some(text) => NaiveDate::parse_from_str(&text, DATE)
            .map(Some)
            .map_err(|_| unreadable(i, format!("date {text:?}"))),
    }
}

fn month_at(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<Month>> {
    match r.get::<_, Option<String>>(i)? {
        None => Ok(None),
        Some(text) => Month::parse(&text).map(Some).map_err(|e| unreadable(i, e.to_string())),
    }
}

fn row_to_grant(r: &rusqlite::Row<'_>) -> rusqlite::Result<Grant> {
    let gstin: String = r.get(0)?;
    Ok(Grant {
        gstin: Gstin::parse(&gstin).map_err(|e| unreadable(0, e.to_string()))?,
        from: month_at(r, 1)?,
        to: month_at(r, 2)?,
    })
}

impl Store {
    /// Adds a live account with its grants, in one transaction.
    ///
    /// Fails with [`StoreError::Refused`] when a live account has the name
    /// already, or when the archive cannot be written.
    pub fn add_user(&mut self, user: &NewUser) -> Result<()> {
        let path = self.reader.path.clone();
        let err = |e| super::sqlite(&path, e);
        let tx = self
            .reader
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let taken = tx
            .query_row(
                "SELECT 1 FROM users WHERE name = ?1 AND removed_at IS NULL",
                [&user.name],
                |_| Ok(()),
            )
            .optional()
            .map_err(err)?
            .is_some();
        if taken {
            return Err(StoreError::Refused {
                path: path.display().to_string(),
                message: format!(
                    "user {:?} exists already: choose another name, or `gstvault user remove {}` first",
                    user.name, user.name
                ),
            });
        }
        tx.execute(
            "INSERT INTO users (name, role, password_hash, created_at, until) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                user.name,
                user.role.as_str(),
                user.password_hash,
                user.created_at.to_string(),
                user.until.map(|d| d.format(DATE).to_string()),
            ],
        )
        .map_err(err)?;
        let id = tx.last_insert_rowid();
        for grant in &user.grants {
            tx.execute(
                "INSERT INTO user_grants (user_id, gstin, from_period, to_period) VALUES (?1, ?2, ?3, ?4)",
                params![
                    id,
                    grant.gstin.as_str(),
                    grant.from.map(|m| m.to_string()),
                    grant.to.map(|m| m.to_string()),
                ],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    /// Replaces the password hash of the live account `name`.
    ///
    /// Fails with [`StoreError::Refused`] when there is no such live
    /// account, or when the archive cannot be written.
    pub fn set_password(&mut self, name: &str, password_hash: &str) -> Result<()> {
        let changed = self
            .reader
            .conn
            .execute(
                "UPDATE users SET password_hash = ?2 WHERE name = ?1 AND removed_at IS NULL",
                params![name, password_hash],
            )
            .map_err(|e| self.err(e))?;
        self.exactly_one(changed, name)
    }

    /// Marks the live account `name` removed at `at`: it can never log in
    /// again, and its name is free for a new account.
    ///
    /// Fails with [`StoreError::Refused`] when there is no such live
    /// account, or when the archive cannot be written.
    pub fn remove_user(&mut self, name: &str, at: Timestamp) -> Result<()> {
        let changed = self
            .reader
            .conn
            .execute(
                "UPDATE users SET removed_at = ?2 WHERE name = ?1 AND removed_at IS NULL",
                params![name, at.to_string()],
            )
            .map_err(|e| self.err(e))?;
        self.exactly_one(changed, name)
    }

    fn exactly_one(&self, changed: usize, name: &str) -> Result<()> {
        if changed == 1 {
            return Ok(());
        }
        Err(StoreError::Refused {
            path: self.reader.path.display().to_string(),
            message: format!("no user {name:?} (`gstvault user list` shows the accounts)"),
        })
    }
}

impl Reader {
    /// Every live account, by name.
    ///
    /// Fails when the archive cannot be read or a row is not readable.
    pub fn users(&self) -> Result<Vec<UserRow>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, name, role, until, created_at FROM users WHERE removed_at IS NULL ORDER BY name")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    UserRow {
                        name: r.get(1)?,
                        role: role_at(r, 2)?,
                        grants: Vec::new(),
                        until: date_at(r, 3)?,
                        created_at: text_time_at(r, 4)?,
                    },
                ))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.err(e))?;
        rows.into_iter()
            .map(|(id, mut row)| {
                row.grants = self.grants(id)?;
                Ok(row)
            })
            .collect()
    }

    /// The live account `name` as the web view checks it, with its password
    /// hash (for verifying a login, never for showing); None when there is
    /// no live account of that name.
    ///
    /// Fails when the archive cannot be read or a row is not readable.
    pub fn viewer(&self, name: &str) -> Result<Option<(Viewer, String)>> {
        let found = self
            .conn
            .query_row(
                "SELECT id, role, until, password_hash FROM users WHERE name = ?1 AND removed_at IS NULL",
                [name],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        role_at(r, 1)?,
                        date_at(r, 2)?,
                        r.get::<_, String>(3)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some((id, role, until, hash)) = found else {
            return Ok(None);
        };
        let viewer = Viewer {
            name: name.to_string(),
            role,
            grants: self.grants(id)?,
            until,
        };
        Ok(Some((viewer, hash)))
    }

    fn grants(&self, user_id: i64) -> Result<Vec<Grant>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT gstin, from_period, to_period FROM user_grants WHERE user_id = ?1 ORDER BY rowid")
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([user_id], row_to_grant).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }
}
