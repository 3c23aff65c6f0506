//! What a validator gossips, read from its state repository once the engine has committed it:
//! a round's seed (with `prompts.txt` inline when it fits, and a raw URL pinned to the state
//! commit when the repository is on GitHub), and a finished round's result (every match margin
//! of `matches_matrix.csv` and the state commit that holds the round) and leader change.

use codec::Encode as _;
use sha2::Digest as _;
use sn17_storage::db::{DrandSeed, Store};
use sn17_storage::state_repo::{
    layout, GitBatcher, LeaderEntry, MatchMatrix, Prompts, RoundResult as WinnerFile, Schedule,
    Seed,
};

use super::error::Result;
use super::message::{
    LeaderChange, MatchOutcome, Payload, RoundResult, RoundSeed, MAX_INLINE_PROMPTS,
    MAX_MESSAGE_BYTES,
};

/// Room left in a result message for its matches (the rest of the envelope is well under 4 KiB).
const RESULT_BUDGET: usize = MAX_MESSAGE_BYTES - 4 * 1024;

/// `owner/name` of a GitHub remote (`https://github.com/o/n(.git)`, `git@github.com:o/n`,
/// `ssh://git@github.com/o/n`), credentials in the URL ignored.
pub fn github_repo(remote: &str) -> Option<String> {
    let rest = remote.strip_prefix("git@github.com:").or_else(|| {
        let (_, after) = remote.split_once("://")?;
        // Drop `user:token@` (never publish credentials).
        let host_path = after.rsplit_once('@').map_or(after, |(_, h)| h);
        host_path.strip_prefix("github.com/")
    })?;
    let rest = rest.trim_end_matches('/');
    let rest = rest.strip_suffix(".git").unwrap_or(rest);
    let (owner, name) = rest.split_once('/')?;
    let ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 100
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    };
    (ok(owner) && ok(name)).then(|| format!("{owner}/{name}"))
}

/// The branch tip as 40 hex digits, when everything the batcher holds is committed (a pending
/// file would not be in that commit).
pub fn committed_head(repo: &GitBatcher) -> Result<Option<String>> {
    if repo.has_pending() {
        return Ok(None);
    }
    Ok(repo.repo().head()?.map(|oid| oid.to_string()))
}

/// The drand round a seed was derived from: the engine's drand policy keeps the beacon it used
/// as a chain snapshot record (`round_{N}_drand_seed` at the latest reveal block). `None` for
/// seeds drawn otherwise (404's CSPRNG), or when the record names another seed.
pub fn drand_round(store: &Store, round: u64, latest_reveal_block: u64, seed: u32) -> Option<u64> {
    DrandSeed::load(store, round, latest_reveal_block)
        .filter(|d| d.seed == seed)
        .map(|d| d.drand_round)
}

/// The gossip form of a round's seed, or `None` before the round has one. `seed.json` (404's
/// format) holds only the value, so `drand_round` comes from the engine's records in `store`.
pub fn round_seed(
    repo: &GitBatcher,
    round: u64,
    remote: &str,
    store: Option<&Store>,
) -> Result<Option<RoundSeed>> {
    let (Some(seed), Some(schedule), Some(prompts)) = (
        repo.read::<Seed>(&layout::round_file(round, layout::SEED))?,
        repo.read::<Schedule>(&layout::round_file(round, layout::SCHEDULE))?,
        repo.read_bytes(&layout::round_file(round, layout::PROMPTS))?,
    ) else {
        return Ok(None);
    };
    let count = Prompts::parse(&String::from_utf8_lossy(&prompts)).0.len();
    let prompts_url = match (github_repo(remote), committed_head(repo)?) {
        (Some(gh), Some(commit)) => format!(
            "https://raw.githubusercontent.com/{gh}/{commit}/{}",
            layout::round_file(round, layout::PROMPTS)
        ),
        _ => String::new(),
    };
    Ok(Some(RoundSeed {
        round,
        seed: seed.0,
        drand_round: store
            .and_then(|s| drand_round(s, round, schedule.latest_reveal_block, seed.0)),
        schedule: (&schedule).into(),
        prompts_sha256: sha2::Sha256::digest(&prompts).into(),
        prompts_count: u32::try_from(count).unwrap_or(u32::MAX),
        prompts_url,
        prompts_inline: if prompts.len() <= MAX_INLINE_PROMPTS {
            prompts
        } else {
            Vec::new()
        },
    }))
}

/// A finished round's result (`winner.json`, `matches_matrix.csv`, the state commit) and the
/// newest leader entry, as gossip payloads. The result waits while the batcher holds
/// uncommitted files: it names the commit that records the round, which does not exist yet.
pub fn round_outcome(repo: &GitBatcher, round: u64, remote: &str) -> Result<Vec<Payload>> {
    let mut out = Vec::new();
    let winner = repo.read::<WinnerFile>(&layout::round_file(round, layout::WINNER))?;
    if let (Some(w), Some(commit)) = (winner, committed_head(repo)?) {
        let mut r = RoundResult::from_winner(round, &w);
        if let Some(m) =
            repo.read::<MatchMatrix>(&layout::round_file(round, layout::MATCHES_MATRIX))?
        {
            r.matches = m.rows.iter().map(MatchOutcome::from_row).collect();
        }
        // A round with hundreds of matches keeps the first that fit (qualification first,
        // as the judge writes them); the state commit has them all.
        if r.encoded_size() > RESULT_BUDGET {
            // One pass: each match's share of the encoding, cut once where the budget ends
            // (+4: the list's compact length grows with its count).
            let matches = std::mem::take(&mut r.matches);
            let mut size = r.encoded_size() + 4;
            let keep = matches
                .iter()
                .take_while(|m| {
                    size += m.encoded_size();
                    size <= RESULT_BUDGET
                })
                .count();
            r.matches = matches;
            r.matches.truncate(keep);
        }
        r.state_repo = github_repo(remote).unwrap_or_default();
        r.state_commit = commit;
        out.push(Payload::Result(r));
    }
    let leaders: Option<Vec<LeaderEntry>> = repo.read(layout::LEADER)?;
    if let Some(last) = leaders.as_ref().and_then(|l| l.last()) {
        out.push(Payload::Leader(LeaderChange::from_entry(round, last)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sn17_storage::db::ChainSnapshotRecord;
    use sn17_storage::state_repo::{StateFile, StateRepo};
    use std::time::Duration;

    #[test]
    fn github_remotes_are_recognised() {
        for (remote, want) in [
            (
                "https://github.com/404-Repo/404-competition-0.git",
                Some("404-Repo/404-competition-0"),
            ),
            ("https://x-access-token:SECRET@github.com/o/n", Some("o/n")),
            ("git@github.com:o/n.git", Some("o/n")),
            ("ssh://git@github.com/o/n/", Some("o/n")),
            ("/srv/state.git", None),
            ("https://gitlab.com/o/n", None),
            ("https://github.com/o/n/extra", None),
        ] {
            assert_eq!(github_repo(remote).as_deref(), want, "{remote}");
        }
    }

    fn repo_with_round(dir: &std::path::Path) -> GitBatcher {
        let repo = StateRepo::init(dir, "main").expect("init");
        let mut b = GitBatcher::new(repo, Duration::from_secs(3600), None);
        let mut matrix = MatchMatrix::default();
        matrix.set("leader", "5Win", 0.0859375);
        matrix.set("leader", "5Lose", -0.25);
        let files: Vec<(String, String)> = vec![
            (layout::round_file(2, layout::SEED), Seed(77).encode()),
            (
                layout::round_file(2, layout::SCHEDULE),
                Schedule::new(10, 20, 30).encode(),
            ),
            (
                layout::round_file(2, layout::PROMPTS),
                "https://p/1.png\nhttps://p/2.png".into(),
            ),
            (
                layout::round_file(2, layout::MATCHES_MATRIX),
                matrix.encode(),
            ),
            (
                layout::round_file(2, layout::WINNER),
                WinnerFile {
                    winner_hotkey: "5Win".into(),
                    repo: "w/gen".into(),
                    commit: "abc".into(),
                    docker_image: None,
                    raw: Default::default(),
                }
                .encode(),
            ),
        ];
        for (path, text) in files {
            b.queue(&path, text.into_bytes());
        }
        b.add_message("round 2");
        b
    }

    #[test]
    fn results_carry_the_matches_and_the_state_commit() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut repo = repo_with_round(dir.path());
        let remote = "https://github.com/o/state";
        // Not committed yet: no commit to name, so no result yet.
        let pending = round_outcome(&repo, 2, remote).expect("outcome");
        assert!(pending.is_empty(), "{pending:?}");
        let commit = repo.flush().expect("commit").expect("a commit").to_string();
        let out = round_outcome(&repo, 2, remote).expect("outcome");
        let Some(Payload::Result(r)) = out.first() else {
            panic!("{out:?}")
        };
        assert_eq!(r.winner, "5Win");
        assert_eq!(r.state_repo, "o/state");
        assert_eq!(r.state_commit, commit);
        assert_eq!(r.state_commit.len(), 40);
        let margins: Vec<(&str, i64)> = r
            .matches
            .iter()
            .map(|m| (m.winner.as_str(), m.margin_micro))
            .collect();
        assert_eq!(margins, [("5Win", 85_938), ("leader", -250_000)]);
        assert!(round_outcome(&repo, 3, remote).expect("none").is_empty());
    }

    #[test]
    fn seeds_carry_the_prompts_inline_and_a_pinned_url() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut repo = repo_with_round(dir.path());
        let commit = repo.flush().expect("commit").expect("a commit").to_string();
        // The engine's drand policy left the beacon it used.
        let db = tempfile::tempdir().expect("tmp");
        let store = Store::open(db.path(), &Default::default()).expect("store");
        let drand = DrandSeed {
            netuid: 17,
            round: 2,
            block: 20,
            block_time: 1_700_000_000,
            drand_chain: "52db9ba7".into(),
            drand_round: 123_456,
            randomness: "00".repeat(32),
            signature: "11".repeat(48),
            seed: 77,
        };
        store.put(&drand.record().expect("record")).expect("put");
        assert_eq!(DrandSeed::load(&store, 2, 20), Some(drand));
        // A record of another shape is not a seed.
        store
            .put(&ChainSnapshotRecord {
                block: 21,
                block_hash: String::new(),
                kind: ChainSnapshotRecord::drand_seed_kind(2),
                data: serde_json::json!({"drand_round": 1}),
            })
            .expect("put");
        assert_eq!(DrandSeed::load(&store, 2, 21), None);
        let s = round_seed(&repo, 2, "git@github.com:o/state.git", Some(&store))
            .expect("read")
            .expect("a seed");
        assert_eq!(s.drand_round, Some(123_456));
        assert_eq!((s.seed, s.prompts_count), (77, 2));
        assert_eq!(s.prompts_inline, b"https://p/1.png\nhttps://p/2.png");
        assert_eq!(
            s.prompts_sha256,
            <[u8; 32]>::from(sha2::Sha256::digest(&s.prompts_inline))
        );
        assert_eq!(
            s.prompts_url,
            format!("https://raw.githubusercontent.com/o/state/{commit}/rounds/2/prompts.txt")
        );
        // A local remote has no public URL (the prompts travel inline); no drand record, no
        // drand round, and one naming another seed is not believed.
        let local = round_seed(&repo, 2, "/srv/state.git", None)
            .expect("read")
            .expect("seed");
        assert_eq!((local.prompts_url.as_str(), local.drand_round), ("", None));
        assert_eq!(drand_round(&store, 2, 20, 78), None);
        assert!(round_seed(&repo, 9, "", None).expect("read").is_none());
    }
}
