//! Invariants of the simulated business.
