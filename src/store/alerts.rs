//! The daemon's alerts as the archive keeps them (`alerts`, schema 9): one
//! row per time a health condition was raised, with when it cleared and how
//! the delivery of each edge stands. Operational rows, updated in place like
//! `runs` and `sessions`; evidence rows never are. At most one row per
//! condition is open (not cleared), which a unique index holds.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::rows::{opt_text_time_at, text_time_at};
use super::{format_time, Reader, Result, Store};
use crate::domain::gstin::Gstin;
use crate::domain::health::{Condition, Delivery, Kind, Transition};
use crate::domain::time::Timestamp;

/// One raised condition, open or cleared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertRow {
    pub id: i64,
    /// The condition's stable key ([`Condition::key`]).
    pub condition: String,
    pub kind: Kind,
    pub gstin: Option<Gstin>,
    /// The reason line as raised.
    pub reason: String,
    pub raised_at: Timestamp,
    pub raised_delivery: Delivery,
    pub cleared_at: Option<Timestamp>,
    /// None while the condition holds.
    pub cleared_delivery: Option<Delivery>,
    pub last_error: Option<String>,
}

const ALERT_COLUMNS: &str = "id, condition, kind, gstin, reason, raised_at, raised_delivery, cleared_at, \
     cleared_delivery, last_error";

fn unreadable(i: usize, what: String) -> rusqlite::Error {
    rusqlite::Error::InvalidColumnType(i, what, rusqlite::types::Type::Text)
}

fn delivery_at(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<Delivery>> {
    match r.get::<_, Option<String>>(i)? {
        None => Ok(None),
        Some(text) => Delivery::parse(&text)
            .map(Some)
            .ok_or_else(|| unreadable(i, format!("alert delivery {text:?}"))),
    }
}

fn row_to_alert(r: &rusqlite::Row<'_>) -> rusqlite::Result<AlertRow> {
    let kind: String = r.get(2)?;
    let gstin: Option<String> = r.get(3)?;
    Ok(AlertRow {
        id: r.get(0)?,
        condition: r.get(1)?,
        kind: Kind::parse(&kind).ok_or_else(|| unreadable(2, format!("alert kind {kind:?}")))?,
        gstin: gstin
            .map(|g| Gstin::parse(&g).map_err(|e| unreadable(3, e.to_string())))
            .transpose()?,
        reason: r.get(4)?,
        raised_at: text_time_at(r, 5)?,
        raised_delivery: delivery_at(r, 6)?.ok_or_else(|| unreadable(6, "alert delivery NULL".into()))?,
        cleared_at: opt_text_time_at(r, 7)?,
        cleared_delivery: delivery_at(r, 8)?,
        last_error: r.get(9)?,
    })
}

impl Store {
    /// Records `condition` as raised at `at`; returns the row's id.
    ///
    /// Fails when the condition is open already (the unique index refuses a
    /// second open row) or the archive cannot be written.
    pub fn raise_alert(&mut self, condition: &Condition, at: DateTime<Utc>, delivery: Delivery) -> Result<i64> {
        self.reader
            .conn
            .execute(
                "INSERT INTO alerts (condition, kind, gstin, reason, raised_at, raised_delivery)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    condition.key(),
                    condition.kind.name(),
                    condition.gstin.as_ref().map(Gstin::as_str),
                    condition.reason,
                    format_time(at),
                    delivery.as_str()
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.reader.conn.last_insert_rowid())
    }

    /// Records the open alert `id` as cleared at `at`.
    pub fn clear_alert(&mut self, id: i64, at: DateTime<Utc>, delivery: Delivery) -> Result<()> {
        self.reader
            .conn
            .execute(
                "UPDATE alerts SET cleared_at = ?2, cleared_delivery = ?3 WHERE id = ?1 AND cleared_at IS NULL",
                params![id, format_time(at), delivery.as_str()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Records how the delivery of one edge of alert `id` stands, and why
    /// the last attempt failed (None keeps the last error).
    pub fn set_alert_delivery(
        &mut self,
        id: i64,
        transition: Transition,
        delivery: Delivery,
        error: Option<&str>,
    ) -> Result<()> {
        let sql = match transition {
            Transition::Raised => {
                "UPDATE alerts SET raised_delivery = ?2, last_error = COALESCE(?3, last_error) WHERE id = ?1"
            }
            Transition::Cleared => {
                "UPDATE alerts SET cleared_delivery = ?2, last_error = COALESCE(?3, last_error) WHERE id = ?1"
            }
        };
        self.reader
            .conn
            .execute(sql, params![id, delivery.as_str(), error])
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}

impl Reader {
    /// The alerts whose condition still holds, oldest first.
    pub fn open_alerts(&self) -> Result<Vec<AlertRow>> {
        self.query_alerts("WHERE cleared_at IS NULL")
    }

    /// Every alert, oldest first.
    pub fn alerts(&self) -> Result<Vec<AlertRow>> {
        self.query_alerts("")
    }

    /// The alerts with an edge still to deliver, oldest first.
    pub fn alerts_to_deliver(&self) -> Result<Vec<AlertRow>> {
        self.query_alerts("WHERE raised_delivery = 'pending' OR cleared_delivery = 'pending'")
    }

    fn query_alerts(&self, filter: &str) -> Result<Vec<AlertRow>> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {ALERT_COLUMNS} FROM alerts {filter} ORDER BY id"))
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], row_to_alert).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }
}
