//! Black-box tests through the HTTP application, each on a fresh database, on SQLite and (when
//! `TEST_DATABASE_URL` is set at build time) on PostgreSQL.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failing test should panic

mod cli;
mod common;

mod audit;
mod auditor;
mod authorization;
mod changelog;
mod console;
mod demo;
mod disclosure;
mod errors;
mod files;
mod head;
mod impersonation;
mod imports;
pub mod interceptions;
mod keys;
mod memory;
mod metrics;
mod migrations;
mod observe;
mod openapi;
mod operations;
mod reach;
mod releases;
mod reporting;
mod revocation;
mod server;
mod tallies;
mod tally_log;
mod tally_range;
mod tokens;
mod transactions;
mod units;
mod versions;
