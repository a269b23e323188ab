//! The Sandbox simulator (being written).
