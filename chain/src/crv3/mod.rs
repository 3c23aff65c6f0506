//! Commit-reveal v3: drand quicknet timelock payloads and the reveal-round schedule.
