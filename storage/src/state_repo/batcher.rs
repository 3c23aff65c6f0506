//! 404's GitBatcher (competition.md §10): writes collect in memory (last write per path wins),
//! and are committed together, with the sorted unique messages joined by `\n`, once the batch
//! interval has passed since the last commit, or on `flush`. Reads see pending writes first.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use git2::Oid;

use crate::error::Result;
use crate::state_repo::file::StateFile;
use crate::state_repo::git::{PushPolicy, StateRepo};
use crate::state_repo::source::FileSource;

/// The normal interval between batched commits.
pub const BATCH_INTERVAL: Duration = Duration::from_secs(600);
/// The interval after a failed push.
pub const RETRY_INTERVAL: Duration = Duration::from_secs(60);

/// Where commits are pushed.
#[derive(Debug, Clone)]
pub struct PushTarget {
    pub remote: String,
    pub policy: PushPolicy,
}

pub struct GitBatcher {
    repo: StateRepo,
    pending: BTreeMap<String, Vec<u8>>,
    messages: BTreeSet<String>,
    normal_interval: Duration,
    interval: Duration,
    last_commit: Option<Instant>,
    push: Option<PushTarget>,
    /// Commits made locally that the remote does not have yet.
    unpushed: bool,
    /// 404 commits the first write at once; a deferred batcher commits only on `flush`.
    eager_first: bool,
}

impl GitBatcher {
    pub fn new(repo: StateRepo, interval: Duration, push: Option<PushTarget>) -> Self {
        Self {
            repo,
            pending: BTreeMap::new(),
            messages: BTreeSet::new(),
            normal_interval: interval,
            interval,
            last_commit: None,
            // Unknown after a restart: the first flush pushes whatever the remote lacks.
            unpushed: push.is_some(),
            push,
            eager_first: true,
        }
    }

    /// Commits only on [`flush`](Self::flush) (and when the interval passes), never on the
    /// first write: a step's files then land in one commit whatever came before.
    pub fn deferred(mut self) -> Self {
        self.eager_first = false;
        self.last_commit = Some(Instant::now());
        self
    }

    pub fn repo(&self) -> &StateRepo {
        &self.repo
    }

    pub fn repo_mut(&mut self) -> &mut StateRepo {
        &mut self.repo
    }

    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Queues a write; commits when the interval has passed (the first write commits at once).
    pub fn write(&mut self, path: &str, content: Vec<u8>, message: &str) -> Result<Option<Oid>> {
        self.pending.insert(path.to_string(), content);
        self.messages.insert(message.to_string());
        let due = match self.last_commit {
            None => self.eager_first,
            Some(t) => t.elapsed() >= self.interval,
        };
        if due {
            self.flush()
        } else {
            Ok(None)
        }
    }

    /// Queues a file without committing (the next flush or due write commits it).
    pub fn queue(&mut self, path: &str, content: Vec<u8>) {
        self.pending.insert(path.to_string(), content);
    }

    /// Adds a message to the next commit.
    pub fn add_message(&mut self, message: &str) {
        self.messages.insert(message.to_string());
    }

    /// Queues a typed file.
    pub fn write_file<T: StateFile>(
        &mut self,
        path: &str,
        file: &T,
        message: &str,
    ) -> Result<Option<Oid>> {
        self.write(path, file.encode().into_bytes(), message)
    }

    /// Commits everything pending (and pushes, when configured).
    pub fn flush(&mut self) -> Result<Option<Oid>> {
        let mut committed = None;
        if !self.pending.is_empty() {
            let files: Vec<(String, Vec<u8>)> =
                std::mem::take(&mut self.pending).into_iter().collect();
            let message = std::mem::take(&mut self.messages)
                .into_iter()
                .collect::<Vec<_>>()
                .join("\n");
            match self.repo.commit(&files, &message) {
                Ok(id) => {
                    committed = id;
                    self.unpushed |= id.is_some();
                    self.last_commit = Some(Instant::now());
                }
                Err(e) => {
                    // Put the batch back without overwriting anything written since.
                    for (path, content) in files {
                        self.pending.entry(path).or_insert(content);
                    }
                    self.messages
                        .extend(message.split('\n').map(str::to_string));
                    self.interval = RETRY_INTERVAL.min(self.normal_interval);
                    return Err(e);
                }
            }
        }
        if let (true, Some(target)) = (self.unpushed, &self.push) {
            match self.repo.push(&target.remote, &target.policy) {
                Ok(()) => {
                    self.unpushed = false;
                    self.interval = self.normal_interval;
                }
                Err(e) => {
                    self.interval = RETRY_INTERVAL.min(self.normal_interval);
                    return Err(e);
                }
            }
        }
        Ok(committed)
    }

    /// The file as it will be: pending content first, else the branch tip.
    pub fn read_bytes(&self, path: &str) -> Result<Option<Vec<u8>>> {
        if let Some(p) = self.pending.get(path) {
            return Ok(Some(p.clone()));
        }
        self.repo.at(None)?.read_bytes(path)
    }

    /// Reads a typed file with read-your-writes.
    pub fn read<T: StateFile>(&self, path: &str) -> Result<Option<T>> {
        crate::state_repo::source::read(self, path)
    }
}

impl FileSource for GitBatcher {
    fn read_bytes(&self, path: &str) -> Result<Option<Vec<u8>>> {
        GitBatcher::read_bytes(self, path)
    }

    fn list_dir(&self, path: &str) -> Result<Vec<String>> {
        let mut names: BTreeSet<String> = self.repo.at(None)?.list_dir(path)?.into_iter().collect();
        let prefix = if path.is_empty() {
            String::new()
        } else {
            format!("{path}/")
        };
        for p in self.pending.keys() {
            if let Some(rest) = p.strip_prefix(&prefix) {
                if let Some(first) = rest.split('/').next() {
                    names.insert(first.to_string());
                }
            }
        }
        Ok(names.into_iter().collect())
    }
}
