//! gstvault's integration tests: one binary, the simulator in-process on
//! 127.0.0.1:0, time injected through the simulator's clock, never slept on.

// Tests and benchmarks stop at the first surprise: unwrapping is how they say so.
#![allow(clippy::unwrap_used)]

mod alerts;
mod architecture;
mod browser;
mod bundle;
mod capture;
mod changes;
mod claims;
mod cli;
mod config;
mod daemon;
mod damage;
mod faults;
mod hostile;
mod operator;
mod planner;
mod portal;
mod process;
mod props;
mod query;
mod query_itc;
mod rendered;
mod returns;
mod secrets;
mod users;
mod web;
mod workbook;
// The shared harness, also included by the benchmark and the planner example.
#[path = "../harness/mod.rs"]
mod support;
