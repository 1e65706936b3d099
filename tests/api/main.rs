//! Black-box tests through the HTTP application, each on a fresh database, on SQLite and (when
//! `TEST_DATABASE_URL` is set at build time) on PostgreSQL.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failing test should panic

mod cli;
mod common;

mod audit;
mod auditor;
mod demo;
mod disclosure;
mod errors;
pub mod interceptions;
mod migrations;
mod observe;
mod openapi;
mod operations;
mod releases;
mod tallies;
mod tokens;
mod units;
