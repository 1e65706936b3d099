//! Types and rules of the domain, with no HTTP and no SQL in them.

pub mod country;
pub mod operation;
pub mod page;
pub mod text;
pub mod unit;
pub mod version;
