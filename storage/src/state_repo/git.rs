//! The state repository in git: reads at the branch tip, atomic multi-file commits, and pushes
//! with retries that replay local commits onto a moved remote (the way 404's batcher re-applies
//! its pending files after a conflict, competition.md §10).

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::Duration;

use git2::build::{CheckoutBuilder, TreeUpdateBuilder};
use git2::{FileMode, ObjectType, Oid, Repository, Signature, Time};

use crate::error::{Error, Result};
use crate::state_repo::source::{FileSource, MAX_FILE_BYTES};

/// Who commits.
#[derive(Debug, Clone)]
pub struct Author {
    pub name: String,
    pub email: String,
}

impl Default for Author {
    fn default() -> Self {
        Self {
            name: "sn17".into(),
            email: "sn17@localhost".into(),
        }
    }
}

/// How hard to try a push.
#[derive(Debug, Clone)]
pub struct PushPolicy {
    pub attempts: u32,
    /// Delay before the second attempt; doubles each time, with ±50 % jitter.
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for PushPolicy {
    fn default() -> Self {
        Self {
            attempts: 5,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(60),
        }
    }
}

/// A local clone of a state repository on one branch.
pub struct StateRepo {
    repo: Repository,
    path: PathBuf,
    branch: String,
    author: Author,
    /// Fixed commit time (seconds) for reproducible histories in tests and simulations.
    fixed_time: Option<i64>,
}

impl std::fmt::Debug for StateRepo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateRepo")
            .field("path", &self.path)
            .field("branch", &self.branch)
            .finish()
    }
}

fn git_err<'a>(op: &'static str, repo: &'a Path) -> impl FnOnce(git2::Error) -> Error + 'a {
    move |e| Error::Git {
        op,
        repo: repo.to_path_buf(),
        reason: e.message().to_string(),
    }
}

impl StateRepo {
    /// Opens an existing repository.
    pub fn open(path: impl AsRef<Path>, branch: &str) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let repo = Repository::open(&path).map_err(git_err("open", &path))?;
        clear_stale_locks(&repo, branch);
        Ok(Self::wrap(repo, path, branch))
    }

    /// Creates a new repository whose HEAD is `branch` (no commits yet).
    pub fn init(path: impl AsRef<Path>, branch: &str) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let repo = Repository::init(&path).map_err(git_err("init", &path))?;
        repo.set_head(&format!("refs/heads/{branch}"))
            .map_err(git_err("set HEAD", &path))?;
        Ok(Self::wrap(repo, path, branch))
    }

    /// Creates an empty bare repository (a remote to push to, e.g. for tests or a local mirror).
    pub fn init_bare(path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        Repository::init_bare(path).map_err(git_err("init bare", path))?;
        Ok(())
    }

    /// Opens `path`, or clones `url` into it, or (for an empty remote) initialises it with
    /// `url` as `origin`.
    pub fn open_or_clone(path: impl AsRef<Path>, url: Option<&str>, branch: &str) -> Result<Self> {
        let path = path.as_ref();
        if path.join(".git").exists() || path.join("HEAD").exists() {
            return match Self::open(path, branch) {
                // A process killed between initialising for an empty remote and adding it
                // leaves a repository without `origin`: add it (an existing one is kept).
                Ok(repo) => match url {
                    Some(url) if repo.repo.find_remote("origin").is_err() => {
                        tracing::warn!(path = %path.display(), "adding the missing origin remote");
                        repo.set_remote("origin", url)?;
                        Ok(repo)
                    }
                    _ => Ok(repo),
                },
                // A process killed inside `git init` leaves a `.git` that cannot be opened and
                // holds no object: nothing to lose, so start it again.
                Err(_) if !has_objects(&path.join(".git")) && !has_objects(path) => {
                    tracing::warn!(path = %path.display(), "re-initialising a half-created git repository");
                    let _ = std::fs::remove_dir_all(path.join(".git"));
                    Self::open_or_clone(path, url, branch)
                }
                Err(e) => Err(e),
            };
        }
        let Some(url) = url else {
            return Self::init(path, branch);
        };
        match git2::build::RepoBuilder::new()
            .branch(branch)
            .clone(url, path)
        {
            Ok(repo) => Ok(Self::wrap(repo, path.to_path_buf(), branch)),
            Err(_) => {
                let _ = std::fs::remove_dir_all(path);
                let me = Self::init(path, branch)?;
                me.set_remote("origin", url)?;
                if me.fetch("origin")?.is_some() {
                    me.sync_to_remote("origin")?;
                }
                Ok(me)
            }
        }
    }

    fn wrap(repo: Repository, path: PathBuf, branch: &str) -> Self {
        Self {
            repo,
            path,
            branch: branch.to_string(),
            author: Author::default(),
            fixed_time: None,
        }
    }

    pub fn with_author(mut self, author: Author) -> Self {
        self.author = author;
        self
    }

    /// Commits get this time instead of the clock's.
    pub fn set_fixed_time(&mut self, unix_secs: Option<i64>) {
        self.fixed_time = unix_secs;
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn branch(&self) -> &str {
        &self.branch
    }

    fn branch_ref(&self) -> String {
        format!("refs/heads/{}", self.branch)
    }

    /// Adds or replaces a remote.
    pub fn set_remote(&self, name: &str, url: &str) -> Result<()> {
        if self.repo.find_remote(name).is_ok() {
            self.repo
                .remote_set_url(name, url)
                .map_err(git_err("set remote", &self.path))?;
        } else {
            self.repo
                .remote(name, url)
                .map_err(git_err("add remote", &self.path))?;
        }
        Ok(())
    }

    /// The branch tip, or `None` before the first commit.
    pub fn head(&self) -> Result<Option<Oid>> {
        match self.repo.refname_to_id(&self.branch_ref()) {
            Ok(id) => Ok(Some(id)),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(git_err("read branch", &self.path)(e)),
        }
    }

    fn tree_at(&self, commit: Option<Oid>) -> Result<Option<git2::Tree<'_>>> {
        let Some(id) = commit else { return Ok(None) };
        let c = self
            .repo
            .find_commit(id)
            .map_err(git_err("find commit", &self.path))?;
        c.tree().map(Some).map_err(git_err("read tree", &self.path))
    }

    /// A reader of the files at `commit` (the branch tip when `None`).
    pub fn at(&self, commit: Option<Oid>) -> Result<GitSource<'_>> {
        let commit = match commit {
            Some(c) => Some(c),
            None => self.head()?,
        };
        Ok(GitSource {
            repo: self,
            tree: self.tree_at(commit)?,
        })
    }

    /// Commits `files` (path → content) on top of the branch tip in one commit. Returns `None`
    /// and commits nothing when every file already has that content, which makes replaying a
    /// step after a crash a no-op.
    pub fn commit(&self, files: &[(String, Vec<u8>)], message: &str) -> Result<Option<Oid>> {
        let parent_id = self.head()?;
        let parent = match parent_id {
            Some(id) => Some(
                self.repo
                    .find_commit(id)
                    .map_err(git_err("find commit", &self.path))?,
            ),
            None => None,
        };
        let base_tree = match &parent {
            Some(p) => p.tree().map_err(git_err("read tree", &self.path))?,
            None => {
                let empty = self
                    .repo
                    .treebuilder(None)
                    .and_then(|b| b.write())
                    .map_err(git_err("write tree", &self.path))?;
                self.repo
                    .find_tree(empty)
                    .map_err(git_err("read tree", &self.path))?
            }
        };
        let mut update = TreeUpdateBuilder::new();
        for (path, content) in files {
            check_repo_path(path)?;
            let blob = self
                .repo
                .blob(content)
                .map_err(git_err("write blob", &self.path))?;
            update.upsert(path.as_str(), blob, FileMode::Blob);
        }
        let tree_id = update
            .create_updated(&self.repo, &base_tree)
            .map_err(git_err("build tree", &self.path))?;
        if parent.is_some() && tree_id == base_tree.id() {
            return Ok(None);
        }
        let tree = self
            .repo
            .find_tree(tree_id)
            .map_err(git_err("read tree", &self.path))?;
        let sig = self.signature(None)?;
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        let id = self
            .repo
            .commit(
                Some(&self.branch_ref()),
                &sig,
                &sig,
                message,
                &tree,
                &parents,
            )
            .map_err(git_err("commit", &self.path))?;
        self.refresh_worktree()?;
        tracing::debug!(commit = %id, files = files.len(), "state repo commit");
        Ok(Some(id))
    }

    fn signature(&self, time: Option<Time>) -> Result<Signature<'static>> {
        let time = time.or_else(|| self.fixed_time.map(|t| Time::new(t, 0)));
        match time {
            Some(t) => Signature::new(&self.author.name, &self.author.email, &t),
            None => Signature::now(&self.author.name, &self.author.email),
        }
        .map_err(git_err("signature", &self.path))
    }

    /// Keeps a non-bare checkout's files in step with the branch (the ref is the truth).
    fn refresh_worktree(&self) -> Result<()> {
        if self.repo.is_bare() {
            return Ok(());
        }
        let on_branch = self
            .repo
            .find_reference("HEAD")
            .ok()
            .and_then(|h| {
                h.symbolic_target()
                    .ok()
                    .flatten()
                    .map(|t| t == self.branch_ref())
            })
            .unwrap_or(false);
        if on_branch {
            self.repo
                .checkout_head(Some(CheckoutBuilder::new().force()))
                .map_err(git_err("checkout", &self.path))?;
        }
        Ok(())
    }

    /// Commit ids and messages from the tip back to the root.
    pub fn log(&self) -> Result<Vec<(Oid, String)>> {
        let Some(head) = self.head()? else {
            return Ok(Vec::new());
        };
        let mut walk = self.repo.revwalk().map_err(git_err("log", &self.path))?;
        walk.push(head).map_err(git_err("log", &self.path))?;
        let mut out = Vec::new();
        for id in walk {
            let id = id.map_err(git_err("log", &self.path))?;
            let c = self
                .repo
                .find_commit(id)
                .map_err(git_err("log", &self.path))?;
            out.push((id, c.message().unwrap_or_default().to_string()));
        }
        Ok(out)
    }

    /// Fetches `remote`'s branch; returns its tip, or `None` when the remote has no such branch.
    pub fn fetch(&self, remote: &str) -> Result<Option<Oid>> {
        let mut r = self
            .repo
            .find_remote(remote)
            .map_err(git_err("find remote", &self.path))?;
        let spec = format!("+refs/heads/{b}:refs/remotes/{remote}/{b}", b = self.branch);
        let mut opts = git2::FetchOptions::new();
        opts.remote_callbacks(callbacks());
        r.fetch(&[spec.as_str()], Some(&mut opts), None)
            .map_err(git_err("fetch", &self.path))?;
        match self
            .repo
            .refname_to_id(&format!("refs/remotes/{remote}/{}", self.branch))
        {
            Ok(id) => Ok(Some(id)),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(git_err("read remote branch", &self.path)(e)),
        }
    }

    /// Pushes the branch, retrying with backoff; when the remote moved, local commits are
    /// replayed on top of it first (last writer wins per file).
    pub fn push(&self, remote: &str, policy: &PushPolicy) -> Result<()> {
        let attempts = policy.attempts.max(1);
        let mut delay = policy.base_delay;
        let mut last = String::new();
        for attempt in 1..=attempts {
            match self.push_once(remote) {
                Ok(()) => return Ok(()),
                Err(reason) => {
                    tracing::warn!(attempt, remote, %reason, "state repo push failed");
                    last = reason;
                    if self.clear_stale_remote_lock(remote, &last) {
                        // The lock was the only obstacle: push again without counting it (its
                        // failure, if any, is the one reported).
                        match self.push_once(remote) {
                            Ok(()) => return Ok(()),
                            Err(again) => last = again,
                        }
                    }
                }
            }
            if attempt == attempts {
                break;
            }
            if let Err(e) = self.fetch(remote).and_then(|_| self.sync_to_remote(remote)) {
                tracing::warn!(error = %e, "cannot rebase onto the remote");
            }
            std::thread::sleep(jitter(delay));
            delay = (delay * 2).min(policy.max_delay);
        }
        Err(Error::PushRejected {
            remote: remote.to_string(),
            attempts,
            reason: last,
        })
    }

    /// A push killed while a local (path) remote held a ref lock leaves `<ref>.lock` in that
    /// remote, and every later push fails on it. A push holds such a lock for milliseconds, so a
    /// lock named by the failure that is still there, unchanged, [`STALE_REMOTE_LOCK`] after it
    /// was written is a dead push's: it is removed. Network remotes are left alone (their server
    /// owns its locks). Returns whether a lock was removed.
    fn clear_stale_remote_lock(&self, remote: &str, reason: &str) -> bool {
        // (Most failures are rejections, not locks: the message is checked first.)
        let Some(lock) = locked_file(reason) else {
            return false;
        };
        let Some(root) = self
            .repo
            .find_remote(remote)
            .ok()
            .and_then(|r| r.url().ok().and_then(local_remote_path))
        else {
            return false;
        };
        // Only a ref lock inside that remote, never anything else the message might name.
        let (Ok(root), Some(parent)) = (root.canonicalize(), lock.parent()) else {
            return false;
        };
        let inside = parent.canonicalize().is_ok_and(|p| {
            p.starts_with(&root) && p.strip_prefix(&root).is_ok_and(|r| r.starts_with("refs"))
        });
        if !inside || lock.extension().is_none_or(|e| e != "lock") {
            return false;
        }
        let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        let Some(written) = modified(&lock) else {
            return false;
        };
        let age = written.elapsed().unwrap_or_default();
        if age < STALE_REMOTE_LOCK {
            std::thread::sleep(STALE_REMOTE_LOCK - age);
        }
        if modified(&lock) != Some(written) {
            return false;
        }
        tracing::warn!(path = %lock.display(), "removing a stale ref lock a killed push left in the remote");
        std::fs::remove_file(&lock).is_ok()
    }

    fn push_once(&self, remote: &str) -> std::result::Result<(), String> {
        let Some(_) = self.head().map_err(|e| e.to_string())? else {
            return Ok(());
        };
        let mut r = self
            .repo
            .find_remote(remote)
            .map_err(|e| e.message().to_string())?;
        let rejected: RefCell<Option<String>> = RefCell::new(None);
        let mut cbs = callbacks();
        cbs.push_update_reference(|name, status| {
            if let Some(s) = status {
                *rejected.borrow_mut() = Some(format!("{name}: {s}"));
            }
            Ok(())
        });
        let mut opts = git2::PushOptions::new();
        opts.remote_callbacks(cbs);
        let spec = format!("{0}:{0}", self.branch_ref());
        r.push(&[spec.as_str()], Some(&mut opts))
            .map_err(|e| e.message().to_string())?;
        drop(opts);
        match rejected.into_inner() {
            Some(reason) => Err(reason),
            None => Ok(()),
        }
    }

    /// Brings the local branch onto the fetched remote tip: fast-forward when behind, replay
    /// local-only commits on top when diverged, nothing when ahead.
    pub fn sync_to_remote(&self, remote: &str) -> Result<()> {
        let remote_ref = format!("refs/remotes/{remote}/{}", self.branch);
        let Ok(theirs) = self.repo.refname_to_id(&remote_ref) else {
            return Ok(());
        };
        let Some(ours) = self.head()? else {
            self.repo
                .reference(&self.branch_ref(), theirs, true, "sync to remote")
                .map_err(git_err("update branch", &self.path))?;
            return self.refresh_worktree();
        };
        if ours == theirs || self.repo.graph_descendant_of(ours, theirs).unwrap_or(false) {
            return Ok(());
        }
        let base = self.repo.merge_base(ours, theirs).ok();
        let mut mine = Vec::new();
        let mut walk = self.repo.revwalk().map_err(git_err("log", &self.path))?;
        walk.push(ours).map_err(git_err("log", &self.path))?;
        if let Some(b) = base {
            walk.hide(b).map_err(git_err("log", &self.path))?;
        }
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
            .map_err(git_err("log", &self.path))?;
        for id in walk {
            mine.push(id.map_err(git_err("log", &self.path))?);
        }
        let mut tip = theirs;
        for id in mine {
            tip = self.replay_commit(id, tip)?;
        }
        self.repo
            .reference(&self.branch_ref(), tip, true, "replay onto remote")
            .map_err(git_err("update branch", &self.path))?;
        tracing::info!(remote, commits = %tip, "replayed local state commits onto the remote");
        self.refresh_worktree()
    }

    /// Re-applies the files `id` changed onto `onto`; returns the new tip.
    fn replay_commit(&self, id: Oid, onto: Oid) -> Result<Oid> {
        let c = self
            .repo
            .find_commit(id)
            .map_err(git_err("find commit", &self.path))?;
        let tree = c.tree().map_err(git_err("read tree", &self.path))?;
        let parent_tree = match c.parent(0) {
            Ok(p) => Some(p.tree().map_err(git_err("read tree", &self.path))?),
            Err(_) => None,
        };
        let diff = self
            .repo
            .diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), None)
            .map_err(git_err("diff", &self.path))?;
        let onto_commit = self
            .repo
            .find_commit(onto)
            .map_err(git_err("find commit", &self.path))?;
        let onto_tree = onto_commit
            .tree()
            .map_err(git_err("read tree", &self.path))?;
        let mut update = TreeUpdateBuilder::new();
        for delta in diff.deltas() {
            let file = delta.new_file();
            let Some(path) = file.path().and_then(|p| p.to_str()) else {
                continue;
            };
            if delta.status() == git2::Delta::Deleted {
                update.remove(path);
            } else {
                update.upsert(path, file.id(), FileMode::Blob);
            }
        }
        let new_tree = update
            .create_updated(&self.repo, &onto_tree)
            .map_err(git_err("build tree", &self.path))?;
        if new_tree == onto_tree.id() {
            return Ok(onto);
        }
        let new_tree = self
            .repo
            .find_tree(new_tree)
            .map_err(git_err("read tree", &self.path))?;
        let author = c.author();
        let committer = self.signature(Some(c.committer().when()))?;
        self.repo
            .commit(
                None,
                &author,
                &committer,
                c.message().unwrap_or_default(),
                &new_tree,
                &[&onto_commit],
            )
            .map_err(git_err("commit", &self.path))
    }
}

/// Whether a git directory holds any object (loose or packed).
fn has_objects(git_dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(git_dir.join("objects")) else {
        return false;
    };
    entries.flatten().any(|e| {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name == "info" {
            return false;
        }
        std::fs::read_dir(e.path()).is_ok_and(|mut d| d.next().is_some())
    })
}

/// How old a ref lock in a local remote must be before a push treats it as a dead push's.
pub const STALE_REMOTE_LOCK: Duration = Duration::from_secs(2);

/// The directory of a remote given as a local path or `file://` URL; `None` for network URLs.
fn local_remote_path(url: &str) -> Option<PathBuf> {
    if let Some(p) = url.strip_prefix("file://") {
        return Some(PathBuf::from(p));
    }
    (!url.contains("://") && !url.contains('@')).then(|| PathBuf::from(url))
}

/// The file libgit2 names in "failed to lock file '<path>' for writing".
fn locked_file(reason: &str) -> Option<PathBuf> {
    let rest = reason.split("failed to lock file '").nth(1)?;
    let path = rest.split('\'').next()?;
    Some(PathBuf::from(path))
}

/// A process killed inside a ref or index update leaves `*.lock` files that make every later
/// update fail. The state clone belongs to one sn17 process, so at open any lock is stale.
fn clear_stale_locks(repo: &Repository, branch: &str) {
    let git = repo.path();
    let mut names: Vec<String> = ["index.lock", "HEAD.lock", "config.lock", "packed-refs.lock"]
        .map(String::from)
        .to_vec();
    names.push(format!("refs/heads/{branch}.lock"));
    // A push killed after the remote took it leaves the remote-tracking ref locked.
    if let Ok(remotes) = repo.remotes() {
        for r in remotes.iter().filter_map(|r| r.ok().flatten()) {
            names.push(format!("refs/remotes/{r}/{branch}.lock"));
        }
    }
    for name in &names {
        let p = git.join(name);
        if p.exists() {
            tracing::warn!(path = %p.display(), "removing a stale git lock left by a killed process");
            let _ = std::fs::remove_file(p);
        }
    }
}

fn check_repo_path(path: &str) -> Result<()> {
    let bad = path.is_empty()
        || path.starts_with('/')
        || path
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..");
    if bad || path.starts_with(".git") {
        return Err(Error::BadPath(path.to_string()));
    }
    Ok(())
}

/// Credentials for https remotes come from `SN17_GIT_TOKEN` (never logged).
fn callbacks<'a>() -> git2::RemoteCallbacks<'a> {
    let mut cbs = git2::RemoteCallbacks::new();
    cbs.credentials(
        |_url, user, _allowed| match std::env::var("SN17_GIT_TOKEN") {
            Ok(token) => git2::Cred::userpass_plaintext(user.unwrap_or("x-access-token"), &token),
            Err(_) => Err(git2::Error::from_str("no credentials (set SN17_GIT_TOKEN)")),
        },
    );
    cbs
}

fn jitter(d: Duration) -> Duration {
    use rand::Rng;
    d.mul_f64(rand::thread_rng().gen_range(0.5..1.5))
}

/// Files at one commit of a [`StateRepo`].
pub struct GitSource<'r> {
    repo: &'r StateRepo,
    tree: Option<git2::Tree<'r>>,
}

impl FileSource for GitSource<'_> {
    fn read_bytes(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let Some(tree) = &self.tree else {
            return Ok(None);
        };
        let entry = match tree.get_path(Path::new(path)) {
            Ok(e) => e,
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(git_err("read path", &self.repo.path)(e)),
        };
        if entry.kind() != Some(ObjectType::Blob) {
            return Ok(None);
        }
        let blob = self
            .repo
            .repo
            .find_blob(entry.id())
            .map_err(git_err("read blob", &self.repo.path))?;
        let size = blob.size() as u64;
        if size > MAX_FILE_BYTES {
            return Err(Error::FileTooLarge {
                path: path.to_string(),
                size,
                limit: MAX_FILE_BYTES,
            });
        }
        Ok(Some(blob.content().to_vec()))
    }

    fn list_dir(&self, path: &str) -> Result<Vec<String>> {
        let Some(tree) = &self.tree else {
            return Ok(Vec::new());
        };
        let sub;
        let dir = if path.is_empty() {
            tree
        } else {
            let entry = match tree.get_path(Path::new(path)) {
                Ok(e) => e,
                Err(_) => return Ok(Vec::new()),
            };
            sub = match self.repo.repo.find_tree(entry.id()) {
                Ok(t) => t,
                Err(_) => return Ok(Vec::new()),
            };
            &sub
        };
        let mut names: Vec<String> = dir
            .iter()
            .filter_map(|e| e.name().ok().map(str::to_string))
            .collect();
        names.sort();
        Ok(names)
    }
}
