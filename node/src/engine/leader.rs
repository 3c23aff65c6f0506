//! Leader transitions and weights (competition.md §3.6, §9): a new winner enters with weight 1.0
//! at the next round's reveal deadline; a defending leader decays by `weight_decay` per round
//! down to `weight_floor`; the owner UID receives `1 − w`.

use serde::Serialize;
use sn17_storage::state_repo::{LeaderEntry, RoundResult};

/// The subnet owner's UID on SN17 (`SUBNET_OWNER_UID`).
pub const OWNER_UID: u16 = 199;
/// Seconds before a leader change within which the weights-setter waits for it.
pub const NEXT_LEADER_WAIT_SECS: u64 = 1500;
pub const BLOCK_SECS: u64 = 12;

/// Python's `round(x, ndigits)`: the correctly rounded decimal, ties to even.
pub fn py_round(x: f64, ndigits: usize) -> f64 {
    format!("{x:.ndigits$}").parse().unwrap_or(x)
}

/// The entry the round-manager appends after a round (§9.1), or `None` when a leader at the
/// floor defends again.
pub fn transition(
    result: &RoundResult,
    latest: &LeaderEntry,
    effective_block: u64,
    decay: f64,
    floor: f64,
) -> Option<LeaderEntry> {
    let changed = (result.repo.as_str(), result.commit.as_str())
        != (latest.repo.as_str(), latest.commit.as_str());
    if result.winner_hotkey != "leader" && changed {
        return Some(LeaderEntry::new(
            &result.winner_hotkey,
            &result.repo,
            &result.commit,
            result.docker_image.as_deref().unwrap_or_default(),
            1.0,
            effective_block,
        ));
    }
    if latest.weight <= floor {
        return None;
    }
    let mut next = LeaderEntry::new(
        &latest.hotkey,
        &latest.repo,
        &latest.commit,
        &latest.docker,
        0.0,
        effective_block,
    );
    next.weight = py_round((latest.weight - decay).max(floor), 10);
    Some(next)
}

/// The `winner.json` of a defended round: the latest leader's fields under `"leader"`.
pub fn defended_result(latest: &LeaderEntry) -> RoundResult {
    RoundResult {
        winner_hotkey: "leader".into(),
        repo: latest.repo.clone(),
        commit: latest.commit.clone(),
        docker_image: Some(latest.docker.clone()),
        raw: Default::default(),
    }
}

/// The weight vector the weights-setter sets at `block`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightPlan {
    pub block: u64,
    pub leader_hotkey: Option<String>,
    pub leader_uid: Option<u16>,
    pub leader_weight: f64,
    /// (uid, weight) before the chain client's u16 scaling.
    pub weights: Vec<(u16, f64)>,
    pub note: String,
}

/// `uids=[owner]` when there is no leader, it is unregistered, or it is the owner; else
/// `[owner, leader]` with `[1 − w, w]`.
pub fn weights_at(
    leaders: &[LeaderEntry],
    block: u64,
    uid_of: impl Fn(&str) -> Option<u16>,
    owner_uid: u16,
) -> WeightPlan {
    let entry = sn17_storage::state_repo::leader_at(leaders, block);
    let mut plan = WeightPlan {
        block,
        leader_hotkey: entry.map(|e| e.hotkey.clone()),
        leader_uid: None,
        leader_weight: 0.0,
        weights: vec![(owner_uid, 1.0)],
        note: String::new(),
    };
    let Some(e) = entry else {
        plan.note = "no leader in force: everything to the owner".into();
        return plan;
    };
    let Some(uid) = uid_of(&e.hotkey) else {
        plan.note = "leader not registered: everything to the owner".into();
        return plan;
    };
    plan.leader_uid = Some(uid);
    if uid == owner_uid {
        plan.note = "leader is the owner UID".into();
        return plan;
    }
    plan.leader_weight = e.weight;
    plan.weights = vec![(owner_uid, 1.0 - e.weight), (uid, e.weight)];
    plan
}

/// The weights-setter skips setting when the next leader takes over within 1500 s (§9.3).
pub fn postpone_for_next_leader(leaders: &[LeaderEntry], block: u64) -> bool {
    leaders.last().is_some_and(|l| {
        l.effective_block > block
            && (l.effective_block - block) * BLOCK_SECS <= NEXT_LEADER_WAIT_SECS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(hk: &str, commit: &str, w: f64, b: u64) -> LeaderEntry {
        LeaderEntry::new(hk, "o/r", commit, "img", w, b)
    }

    fn result(hk: &str, commit: &str) -> RoundResult {
        RoundResult {
            winner_hotkey: hk.into(),
            repo: "o/r".into(),
            commit: commit.into(),
            docker_image: Some("img2".into()),
            raw: Default::default(),
        }
    }

    #[test]
    fn decay_sequence_and_floor() {
        let mut l = entry("A", "c1", 1.0, 10);
        let mut weights = vec![];
        for b in 0..6 {
            match transition(&result("leader", "c1"), &l, 20 + b, 0.2, 0.2) {
                Some(n) => {
                    weights.push(n.weight);
                    l = n;
                }
                None => break,
            }
        }
        assert_eq!(
            weights,
            [0.8, 0.6, 0.4, 0.2],
            "current code rounds to 10 decimals"
        );
        // Without rounding the old code produced 0.6000000000000001.
        assert_eq!(0.8f64 - 0.2, 0.6000000000000001);
    }

    #[test]
    fn new_leader_same_code_defends_and_new_commit_resets() {
        let l = entry("A", "c1", 0.4, 10);
        let n = transition(&result("B", "c2"), &l, 30, 0.2, 0.2).expect("new leader");
        assert_eq!(
            (
                n.hotkey.as_str(),
                n.weight,
                n.effective_block,
                n.docker.as_str()
            ),
            ("B", 1.0, 30, "img2")
        );
        let d = transition(&result("B", "c1"), &l, 30, 0.2, 0.2).expect("same repo+commit defends");
        assert_eq!((d.hotkey.as_str(), d.weight), ("A", 0.2));
        let r = transition(&result("A", "c9"), &l, 30, 0.2, 0.2).expect("same hotkey, new commit");
        assert_eq!(r.weight, 1.0);
    }

    #[test]
    fn weights_follow_effective_blocks() {
        let leaders = vec![
            entry("base", "c0", 0.0, 0),
            entry("A", "c1", 1.0, 100),
            entry("A", "c1", 0.8, 200),
            entry("B", "c2", 1.0, 300),
        ];
        let uid = |hk: &str| match hk {
            "A" => Some(5),
            "base" => Some(199),
            _ => None,
        };
        assert_eq!(
            weights_at(&leaders, 50, uid, OWNER_UID).weights,
            [(199, 1.0)]
        );
        assert_eq!(
            weights_at(&leaders, 150, uid, OWNER_UID).weights,
            [(199, 0.0), (5, 1.0)]
        );
        let p = weights_at(&leaders, 299, uid, OWNER_UID);
        assert_eq!(
            p.weights,
            [(199, 1.0 - 0.8), (5, 0.8)],
            "B takes effect only at its block"
        );
        assert_eq!(
            weights_at(&leaders, 300, uid, OWNER_UID).weights,
            [(199, 1.0)],
            "B unregistered"
        );
        assert!(postpone_for_next_leader(&leaders, 300 - 125));
        assert!(!postpone_for_next_leader(&leaders, 300 - 126));
        assert!(!postpone_for_next_leader(&leaders, 300));
        assert_eq!(py_round(1.0 / 2048.0, 10), 0.0004882812, "ties to even");
    }
}
