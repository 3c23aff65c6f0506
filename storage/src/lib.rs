//! sn17 storage crate: filled in by its own issue.
