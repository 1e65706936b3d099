//! Publishing without disclosure. The public never reads live figures: the secretariat makes a
//! *release* of an operation (its figures frozen at a change-feed position), reviews it and
//! publishes it, and published releases never change. Every figure of a release is protected by
//! controlled rounding to a base of at least the operation's suppression threshold, kept
//! consistent from one release to the next ([`rounding`]); the method and the auditor that
//! proves it are described in docs/TALLIES.md.

pub mod csv;
pub mod figures;
pub mod page;
pub mod preview;
pub mod publication;
pub mod release;
pub mod rounding;
