//! The web view's accounts as a table (`user list`): name, role, what it may
//! see (every GSTIN, or the grants with their windows), its last day and
//! when it was made. Never a password hash: [`UserRow`] has none.

use super::table::{Cell, Table};
use crate::domain::access::Role;
use crate::store::UserRow;

/// `name, role, gstins, until, created_at`; `gstins` is `all` for admin and
/// staff, else the grants (`27AAPFU0939F1ZV 2025-04..2026-03`) joined by `; `.
pub fn users_table(rows: &[UserRow]) -> Table {
    let mut t = Table::new(vec!["name", "role", "gstins", "until", "created_at"]);
    for r in rows {
        let gstins = match r.role {
            Role::Admin | Role::Staff => "all".to_string(),
            Role::Auditor => r.grants.iter().map(|g| g.describe()).collect::<Vec<_>>().join("; "),
        };
        t.push(vec![
            Cell::text(&r.name),
            Cell::text(r.role.as_str()),
            Cell::Text(gstins),
            r.until.map(|d| Cell::Literal(d.to_string())).unwrap_or(Cell::Empty),
            Cell::Time(r.created_at),
        ]);
    }
    t
}
