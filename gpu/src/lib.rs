//! sn17 gpu crate: filled in by its own issue.
