//! The use cases that write. Each owns its transaction: it checks what it is asked against
//! the contract, takes the locks, asks the domain to decide, has `db` load and store, and closes
//! with the journal (feed positions and audit entries). HTTP handlers, the demo and file imports
//! all write through here; `db` never decides and never calls back up.

pub mod folding;
pub mod imports;
pub mod interceptions;
pub mod operations;
pub mod releases;
pub mod reporting;
pub mod stated;
pub mod tokens;
pub mod units;
