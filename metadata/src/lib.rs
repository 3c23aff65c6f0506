//! The Subtensor interface sn17 relies on.
