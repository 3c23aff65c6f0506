//! sn17 judge crate: filled in by its own issue.
