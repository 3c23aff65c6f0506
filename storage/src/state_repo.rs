//! 404's git state repository: every file in the format 404's services write it (competition.md
//! §2), read from a directory or a commit, written in batched git commits and pushed.

pub mod batcher;
pub mod datetime;
pub mod file;
pub mod git;
pub mod global;
pub mod layout;
pub mod matrix;
pub mod miner;
pub mod record;
pub mod round;
pub mod source;

pub use batcher::{GitBatcher, PushTarget};
pub use file::StateFile;
pub use git::{Author, GitSource, PushPolicy, StateRepo, STALE_REMOTE_LOCK};
pub use git2::Oid;
pub use global::{leader_at, Config, LeaderEntry, Leaders, Stage, State};
pub use matrix::{MatchMatrix, MatrixRow};
pub use miner::{
    DuelReport, GenerationResult, GenerationsMap, LegacyDuel, LegacyMatchReport, MatchReport,
};
pub use record::{FromJson, Map, ToJson};
pub use round::{
    build_tag, docker_image, prompt_stem, AuditRequest, BuildInfo, BuildStatus, Builds,
    GenerationRepeat, GenerationReport, JudgeProgress, Prompts, RoundResult, Schedule, Seed,
    Submission, Submissions, Verdict, DOCKER_IMAGE_FORMAT,
};
pub use source::{read, DirSource, FileSource};
