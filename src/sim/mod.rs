//! The Sandbox simulator: a loopback HTTP server that speaks the Sandbox GST
//! API (auth, envelope, quirks, paging, rate limits, faults) for every catalog
//! endpoint, answering from a deterministic business model per GSTIN. It is
//! used by the tests and `gstvault demo`/`simulate`; it must never be pointed
//! at or mistaken for the real API, and nothing outside tests and the demo
//! depends on it.
//!
//! [`model`] is the business (pure, no IO, no clock); [`server`] is the HTTP
//! layer (tokens, simulated clock, faults, rate limit, served log).

pub mod model;
pub mod server;

pub use server::{Faults, ObjectRequest, OtpCall, OtpFault, RunningSimulator, Served, SimConfig, Simulator};

use crate::clock::Clock;
use crate::domain::gstin::Gstin;

/// The simulated portal's clock is the one tests and the demo capture by, so
/// both sides agree on the date.
impl Clock for Simulator {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        Simulator::now(self)
    }
}

/// The fixed OTP the simulator accepts for every GSTIN.
pub const TEST_OTP: &str = "575757";
pub const DEMO_API_KEY: &str = "key_test_gstvault_demo";
pub const DEMO_API_SECRET: &str = "secret_test_gstvault_demo";

/// Three valid GSTINs in different states (Maharashtra, Karnataka, Tamil Nadu).
pub fn demo_gstins() -> Vec<Gstin> {
    [(27, "AAPFU0939F"), (29, "AABCK4521M"), (33, "AOSPA7307Q")]
        .into_iter()
        .filter_map(|(state, pan)| Gstin::compose(state, pan, '1').ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_gstins_are_three_states() {
        let g = demo_gstins();
        assert_eq!(g.len(), 3);
        let states: Vec<&str> = g.iter().map(|g| g.state_code()).collect();
        assert_eq!(states, ["27", "29", "33"]);
    }
}
