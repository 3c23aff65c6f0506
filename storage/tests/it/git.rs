//! Real git: write a round, push it to a local bare remote, clone it elsewhere, read it back.

use std::time::Duration;

use sn17_storage::state_repo::layout::{self, message};
use sn17_storage::state_repo::{
    self as sr, GenerationResult, GenerationsMap, GitBatcher, LeaderEntry, MatchMatrix, Prompts,
    PushPolicy, PushTarget, Schedule, Seed, Stage, State, StateFile, StateRepo, Submission,
    Submissions,
};

fn bare_remote(dir: &std::path::Path) -> String {
    let path = dir.join("remote.git");
    StateRepo::init_bare(&path).expect("bare repo");
    path.to_str().expect("utf-8 path").to_string()
}

fn quick() -> PushPolicy {
    PushPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
    }
}

fn round_files() -> Vec<(String, Vec<u8>)> {
    let mut subs = Submissions::new();
    subs.insert(
        "5G1GM8LUMzzSiyQ6kMJQsTcTVLb5pFUD3jXDuUkcN8VyUX7A",
        Submission {
            repo: "Uglejo/data-basilisk".into(),
            commit: "12b14e7e0cf359cb009e7eef319a19508460c688".into(),
            cdn_url: Some("https://d3l0fgfrhdvac9.cloudfront.net/Uglejo_data-basilisk".into()),
            revealed_at_block: 7456445,
            round: "mesh-1".into(),
            raw: Default::default(),
        },
    );
    let mut gens = GenerationsMap::new();
    gens.insert(
        "e7f6",
        GenerationResult::new(None, None, Some("js_fetch_failed: HTTP 404".into()), 0),
    );
    let mut matrix = MatchMatrix::default();
    matrix.set(
        "leader",
        "5G1GM8LUMzzSiyQ6kMJQsTcTVLb5pFUD3jXDuUkcN8VyUX7A",
        -0.0859375,
    );
    vec![
        (
            "state.json".into(),
            State::new(
                1,
                Stage::MinerGeneration,
                Some("2026-02-05T10:00:00Z".into()),
            )
            .encode()
            .into_bytes(),
        ),
        (
            layout::round_file(1, layout::SEED),
            Seed(3274970996).encode().into_bytes(),
        ),
        (
            layout::round_file(1, layout::SCHEDULE),
            Schedule::new(7454967, 7476090, 7476690)
                .encode()
                .into_bytes(),
        ),
        (
            layout::round_file(1, layout::PROMPTS),
            Prompts(vec!["https://a/x.png".into(), "https://a/y.png".into()])
                .encode()
                .into_bytes(),
        ),
        (
            layout::round_file(1, layout::SUBMISSIONS),
            subs.encode().into_bytes(),
        ),
        (
            layout::round_file(1, layout::MATCHES_MATRIX),
            matrix.encode().into_bytes(),
        ),
        (
            layout::miner_file(
                1,
                "5G1GM8LUMzzSiyQ6kMJQsTcTVLb5pFUD3jXDuUkcN8VyUX7A",
                layout::SUBMITTED,
            )
            .expect("path"),
            gens.encode().into_bytes(),
        ),
        (
            "leader.json".into(),
            vec![LeaderEntry::new(
                "h",
                "o/r",
                "c",
                "d",
                0.6000000000000001,
                7,
            )]
            .encode()
            .into_bytes(),
        ),
    ]
}

#[test]
fn write_push_clone_read_back_identical() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = bare_remote(dir.path());
    let repo = StateRepo::open_or_clone(dir.path().join("a"), Some(&url), "main")
        .expect("init from empty remote");
    let files = round_files();
    let id = repo
        .commit(&files, &message::open_done(1))
        .expect("commit")
        .expect("new commit");
    assert_eq!(
        repo.commit(&files, "again").expect("commit"),
        None,
        "same content commits nothing"
    );
    repo.push("origin", &quick()).expect("push");

    let clone = StateRepo::open_or_clone(dir.path().join("b"), Some(&url), "main").expect("clone");
    assert_eq!(clone.head().expect("head"), Some(id));
    let src = clone.at(None).expect("tree");
    for (path, bytes) in &files {
        assert_eq!(
            sr::FileSource::read_bytes(&src, path)
                .expect("read")
                .as_ref(),
            Some(bytes),
            "{path}"
        );
        // The checkout on disk has the same bytes.
        assert_eq!(
            std::fs::read(dir.path().join("b").join(path)).ok().as_ref(),
            Some(bytes),
            "{path} on disk"
        );
    }
    let leaders: Vec<LeaderEntry> = sr::read(&src, "leader.json")
        .expect("read")
        .expect("present");
    assert_eq!(leaders[0].weight, 0.6000000000000001);
    let seed: Seed = sr::read(&src, "rounds/1/seed.json")
        .expect("read")
        .expect("present");
    assert_eq!(seed, Seed(3274970996));
    assert_eq!(
        clone.log().expect("log")[0].1,
        "Seed, prompts and submissions for round 1"
    );
}

#[test]
fn a_rejected_push_replays_local_commits_onto_the_remote() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = bare_remote(dir.path());
    let a = StateRepo::open_or_clone(dir.path().join("a"), Some(&url), "main").expect("a");
    a.commit(&[("state.json".into(), b"{}".to_vec())], "init")
        .expect("commit");
    a.push("origin", &quick()).expect("push a");
    let b = StateRepo::open_or_clone(dir.path().join("b"), Some(&url), "main").expect("b");
    b.commit(&[("rounds/0/x.json".into(), b"1".to_vec())], "from b")
        .expect("commit b");
    b.push("origin", &quick()).expect("push b");
    // a has not seen b's commit: its push is rejected, then replayed on top and retried.
    a.commit(&[("rounds/0/y.json".into(), b"2".to_vec())], "from a")
        .expect("commit a");
    a.push("origin", &quick()).expect("push a after conflict");
    let c = StateRepo::open_or_clone(dir.path().join("c"), Some(&url), "main").expect("c");
    let src = c.at(None).expect("tree");
    assert_eq!(
        sr::FileSource::read_bytes(&src, "rounds/0/x.json").expect("x"),
        Some(b"1".to_vec())
    );
    assert_eq!(
        sr::FileSource::read_bytes(&src, "rounds/0/y.json").expect("y"),
        Some(b"2".to_vec())
    );
    let msgs: Vec<String> = c.log().expect("log").into_iter().map(|(_, m)| m).collect();
    assert_eq!(msgs, ["from a", "from b", "init"]);
}

#[test]
fn a_push_to_a_missing_remote_fails_after_its_retries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = StateRepo::init(dir.path().join("a"), "main").expect("init");
    repo.set_remote(
        "origin",
        dir.path().join("nope.git").to_str().expect("path"),
    )
    .expect("remote");
    repo.commit(&[("a".into(), b"1".to_vec())], "m")
        .expect("commit");
    match repo.push("origin", &quick()) {
        Err(sn17_storage::Error::PushRejected { attempts: 3, .. }) => {}
        other => panic!("expected PushRejected, got {other:?}"),
    }
}

#[test]
fn batcher_joins_sorted_messages_and_reads_its_own_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = bare_remote(dir.path());
    let repo = StateRepo::open_or_clone(dir.path().join("a"), Some(&url), "main").expect("repo");
    let push = PushTarget {
        remote: "origin".into(),
        policy: quick(),
    };
    let mut b = GitBatcher::new(repo, Duration::from_secs(3600), Some(push));
    // The first write commits at once.
    assert!(b
        .write("rounds/1/a.json", b"a".to_vec(), "Update x")
        .expect("write")
        .is_some());
    assert!(b
        .write(
            "rounds/1/m.json",
            b"1".to_vec(),
            "Match report: leader vs 5E5A9q65xz"
        )
        .expect("write")
        .is_none());
    assert!(b
        .write(
            "rounds/1/m.json",
            b"2".to_vec(),
            "Match report: leader vs 5DcQs3LcdM"
        )
        .expect("write")
        .is_none());
    assert!(b
        .write(
            "rounds/1/mm.csv",
            b"3".to_vec(),
            "Update matches matrix for round 1"
        )
        .expect("write")
        .is_none());
    assert_eq!(
        b.read_bytes("rounds/1/m.json").expect("read"),
        Some(b"2".to_vec()),
        "read-your-writes"
    );
    assert_eq!(
        sr::FileSource::list_dir(&b, "rounds/1").expect("ls"),
        ["a.json", "m.json", "mm.csv"]
    );
    b.flush().expect("flush");
    assert!(!b.has_pending());
    let log = b.repo().log().expect("log");
    assert_eq!(
        log[0].1,
        "Match report: leader vs 5DcQs3LcdM\nMatch report: leader vs 5E5A9q65xz\nUpdate matches matrix for round 1"
    );
    let clone = StateRepo::open_or_clone(dir.path().join("c"), Some(&url), "main").expect("clone");
    assert_eq!(
        clone.head().expect("head"),
        b.repo().head().expect("head"),
        "flush pushed"
    );
}

#[test]
fn paths_outside_the_repository_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = StateRepo::init(dir.path().join("a"), "main").expect("init");
    for bad in ["../x", "/etc/passwd", "a//b", ".git/config", "a/./b", ""] {
        assert!(
            matches!(
                repo.commit(&[(bad.to_string(), b"x".to_vec())], "m"),
                Err(sn17_storage::Error::BadPath(_))
            ),
            "{bad}"
        );
    }
}

#[test]
fn a_git_dir_left_half_created_by_a_killed_init_is_started_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state");
    // What a process killed inside `git init` can leave: a `.git` with no HEAD and no objects.
    std::fs::create_dir_all(path.join(".git/objects/info")).expect("mkdir");
    std::fs::create_dir_all(path.join(".git/refs")).expect("mkdir");
    let repo = StateRepo::open_or_clone(&path, None, "main").expect("re-initialised");
    assert!(repo.head().expect("head").is_none());
    let id = repo
        .commit(&[("a.txt".to_string(), b"x".to_vec())], "first")
        .expect("commit");
    assert!(id.is_some());

    // A repository with objects is never thrown away, even when it cannot be opened.
    std::fs::remove_file(path.join(".git/HEAD")).expect("break HEAD");
    assert!(StateRepo::open_or_clone(&path, None, "main").is_err());
    assert!(
        path.join(".git/objects")
            .read_dir()
            .expect("objects")
            .count()
            > 1
    );
}

#[test]
fn a_repository_left_without_its_remote_by_a_killed_init_gets_it_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = bare_remote(dir.path());
    let path = dir.path().join("state");
    // What a process killed after `init` and before adding the empty remote leaves.
    drop(StateRepo::init(&path, "main").expect("init"));
    let repo = StateRepo::open_or_clone(&path, Some(&url), "main").expect("reopened");
    let id = repo
        .commit(&[("a.txt".to_string(), b"x".to_vec())], "first")
        .expect("commit")
        .expect("new commit");
    repo.push("origin", &quick())
        .expect("push to the re-added remote");
    let clone =
        StateRepo::open_or_clone(dir.path().join("clone"), Some(&url), "main").expect("clone");
    assert_eq!(clone.head().expect("head"), Some(id));

    // A remote already set is left as it is: the next push still goes to the first one.
    let other = dir.path().join("elsewhere.git");
    StateRepo::init_bare(&other).expect("bare");
    let other = other.to_str().expect("utf-8").to_string();
    let again = StateRepo::open_or_clone(&path, Some(&other), "main").expect("reopened");
    let id2 = again
        .commit(&[("b.txt".to_string(), b"y".to_vec())], "second")
        .expect("commit")
        .expect("new commit");
    again.push("origin", &quick()).expect("push");
    assert_eq!(clone.fetch("origin").expect("fetch"), Some(id2));
    let empty =
        StateRepo::open_or_clone(dir.path().join("empty"), Some(&other), "main").expect("init");
    assert_eq!(empty.head().expect("head"), None);
}

#[test]
fn a_push_killed_mid_way_leaves_no_lock_that_blocks_the_next_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = bare_remote(dir.path());
    let path = dir.path().join("a");
    let a = StateRepo::open_or_clone(&path, Some(&url), "main").expect("a");
    a.commit(&[("state.json".into(), b"{}".to_vec())], "init")
        .expect("commit");
    a.push("origin", &quick()).expect("push");
    a.commit(&[("state.json".into(), b"{\"a\": 1}".to_vec())], "next")
        .expect("commit");
    drop(a);
    // What a SIGKILL between the remote's update and the tracking ref's rename leaves.
    let lock = path.join(".git/refs/remotes/origin/main.lock");
    std::fs::write(&lock, b"").expect("lock");
    let a = StateRepo::open(&path, "main").expect("reopen");
    assert!(!lock.exists(), "the stale lock is cleared at open");
    a.push("origin", &quick()).expect("push after the crash");
    let remote = StateRepo::open(&url, "main").expect("remote");
    assert_eq!(remote.head().expect("head"), a.head().expect("head"));
}

#[test]
fn a_push_killed_inside_the_remote_leaves_a_lock_the_next_push_clears() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = bare_remote(dir.path());
    let a = StateRepo::open_or_clone(dir.path().join("a"), Some(&url), "main").expect("a");
    a.commit(&[("state.json".into(), b"{}".to_vec())], "init")
        .expect("commit");
    a.push("origin", &quick()).expect("push");
    a.commit(&[("state.json".into(), b"{\"a\": 1}".to_vec())], "next")
        .expect("commit");
    // What a SIGKILL inside the remote's ref update leaves: the branch's lock in the bare repo.
    let lock = std::path::Path::new(&url).join("refs/heads/main.lock");
    std::fs::write(&lock, b"").expect("lock");
    let t = std::time::Instant::now();
    a.push("origin", &quick())
        .expect("the stale lock is cleared and the push lands");
    assert!(!lock.exists(), "the dead push's lock is gone");
    // It waited for the lock to be provably stale, not less.
    assert!(t.elapsed() >= sn17_storage::state_repo::STALE_REMOTE_LOCK - Duration::from_millis(50));
    let remote = StateRepo::open(&url, "main").expect("remote");
    assert_eq!(remote.head().expect("head"), a.head().expect("head"));
    // A lock outside refs/ (e.g. the remote's config) is never touched.
    let config_lock = std::path::Path::new(&url).join("config.lock");
    std::fs::write(&config_lock, b"").expect("lock");
    a.commit(&[("state.json".into(), b"{\"a\": 2}".to_vec())], "again")
        .expect("commit");
    a.push("origin", &quick())
        .expect("a ref push does not need config");
    assert!(config_lock.exists());
}
