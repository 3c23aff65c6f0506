//! Test support shared by the chain crate's integration tests.

pub mod finney_mock;
pub mod values;
