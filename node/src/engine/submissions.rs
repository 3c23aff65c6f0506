//! Submissions from revealed commitments, as 404's collector builds them (competition.md §3.2–3.4):
//! reveals inside the round's window, the latest value per field, validation, the coldkey-lock
//! anti-sybil filter, and priority order by reveal block.
//!
//! Tie-break (documented decision): submissions revealed at the same block are ordered by the
//! chain's storage key of `RevealedCommitments` (Twox64Concat of the hotkey: the 8-byte xxhash64
//! of the account id, then the account id), compared bytewise. 404 also starts from storage
//! order, but its lock filter regroups the kept submissions by coldkey (in order of first
//! appearance) before its stable re-sort by reveal block (competition.md §3.3 step 5,
//! §13.3.7), so the two orders differ only when same-block reveals of one coldkey's hotkeys
//! interleave in storage order with another coldkey's. sn17 does not reproduce that grouping
//! (§13.3.7 allows a new deterministic tie-break) and sorts explicitly, so the order does not
//! depend on where the list came from.

use std::collections::HashMap;

use serde::Serialize;
use sn17_storage::pyjson::{self, Value};

/// The alpha a coldkey must lock per submitting hotkey (`REQUIRED_LOCK_ALPHA`).
pub const REQUIRED_LOCK_ALPHA: f64 = 100.0;

/// Longest commitment text parsed (the chain allows 3100 bytes per epoch).
const MAX_TEXT: usize = 4096;

/// One hotkey's revealed commitments: (reveal block, text) in chain order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revealed {
    pub hotkey: String,
    /// The 32-byte account id, for the storage-order tie-break (`None` if unknown).
    pub account: Option<[u8; 32]>,
    pub entries: Vec<(u64, String)>,
}

/// A valid submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Submission {
    pub hotkey: String,
    pub repo: String,
    pub commit: String,
    /// Normalised as pydantic's `HttpUrl` prints it (a bare host gains `/`).
    pub cdn_url: String,
    pub reveal_block: u64,
    #[serde(skip)]
    pub order_key: Vec<u8>,
}

/// Why a hotkey has no submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", content = "detail", rename_all = "snake_case")]
pub enum Rejection {
    NoRevealInWindow,
    Incomplete(Vec<&'static str>),
    ShortHotkey,
    BadRepo(String),
    BadCommit(String),
    BadCdnUrl(String),
    NotRegistered,
    InsufficientLock {
        coldkey: String,
        locked: String,
        required: String,
    },
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoRevealInWindow => write!(f, "no reveal inside the round's window"),
            Self::Incomplete(m) => write!(f, "missing {}", m.join(", ")),
            Self::ShortHotkey => write!(f, "hotkey shorter than 10 characters"),
            Self::BadRepo(r) => write!(f, "repo {r:?} is not owner/name (no dots)"),
            Self::BadCommit(c) => write!(f, "commit {c:?} is not 40 lowercase hex characters"),
            Self::BadCdnUrl(u) => write!(f, "cdn_url {u:?} is not an http(s) URL with a host"),
            Self::NotRegistered => write!(f, "hotkey not in the metagraph"),
            Self::InsufficientLock {
                coldkey,
                locked,
                required,
            } => {
                write!(f, "coldkey {coldkey} locks {locked} α, needs {required}")
            }
        }
    }
}

/// A field value as 404 records it: strings, or another truthy JSON value (which can only fail
/// validation later, but still wins the "latest value" choice, as in 404).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum FieldValue {
    Str(String),
    Other(String),
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::Float(f) => f.value != 0.0,
        Value::Str(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

const FIELDS: [&str; 3] = ["repo", "commit", "cdn_url"];

/// Parses one hotkey's reveals into a submission (§3.2 steps 1–7).
pub fn parse_submission(r: &Revealed, earliest: u64, latest: u64) -> Result<Submission, Rejection> {
    let in_window: Vec<&(u64, String)> = r
        .entries
        .iter()
        .filter(|(b, _)| (earliest..=latest).contains(b))
        .collect();
    if in_window.is_empty() {
        return Err(Rejection::NoRevealInWindow);
    }
    let mut best: [Option<(u64, FieldValue)>; 3] = [None, None, None];
    for (block, text) in in_window {
        if text.len() > MAX_TEXT {
            continue;
        }
        // 404 replaces every single quote before json.loads; non-objects are skipped (404
        // would raise TypeError there, competition.md §13.3.4).
        let Ok(Value::Object(obj)) = pyjson::parse(&text.replace('\'', "\"")) else {
            continue;
        };
        for (i, key) in FIELDS.iter().enumerate() {
            let Some(v) = obj.get(key).filter(|v| truthy(v)) else {
                continue;
            };
            let fv = match v {
                Value::Str(s) => FieldValue::Str(s.clone()),
                other => FieldValue::Other(pyjson::to_compact(other)),
            };
            let cand = (*block, fv);
            if best[i].as_ref().is_none_or(|b| cand > *b) {
                best[i] = Some(cand);
            }
        }
    }
    let missing: Vec<&'static str> = FIELDS
        .iter()
        .zip(&best)
        .filter(|(_, b)| b.is_none())
        .map(|(k, _)| *k)
        .collect();
    let [Some(repo), Some(commit), Some(cdn)] = best else {
        return Err(Rejection::Incomplete(missing));
    };
    let text = |v: FieldValue| match v {
        FieldValue::Str(s) | FieldValue::Other(s) => s,
    };
    let reveal_block = commit.0;
    let (repo, commit_s, cdn_raw) = (text(repo.1), text(commit.1), text(cdn.1));
    if r.hotkey.chars().count() < 10 {
        return Err(Rejection::ShortHotkey);
    }
    if !valid_repo(&repo) {
        return Err(Rejection::BadRepo(repo));
    }
    if !valid_commit(&commit_s) {
        return Err(Rejection::BadCommit(commit_s));
    }
    let cdn_url =
        normalize_http_url(cdn_raw.trim_end_matches('/')).ok_or(Rejection::BadCdnUrl(cdn_raw))?;
    Ok(Submission {
        hotkey: r.hotkey.clone(),
        repo,
        commit: commit_s,
        cdn_url,
        reveal_block,
        order_key: storage_order_key(r),
    })
}

/// `^[\w-]+/[\w-]+$`: two non-empty parts of word characters or `-` (no dots).
pub fn valid_repo(repo: &str) -> bool {
    let word = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
    };
    matches!(repo.split_once('/'), Some((a, b)) if word(a) && word(b))
}

/// `^[a-f0-9]{40}$`.
pub fn valid_commit(commit: &str) -> bool {
    commit.len() == 40
        && commit
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// pydantic `HttpUrl`: http or https, a host, at most 2083 characters; printed normalised.
pub fn normalize_http_url(s: &str) -> Option<String> {
    if s.len() > 2083 {
        return None;
    }
    let u = url::Url::parse(s).ok()?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none_or(str::is_empty) {
        return None;
    }
    Some(u.to_string())
}

/// The `RevealedCommitments` storage key suffix: xxhash64 of the account id, then the id.
fn storage_order_key(r: &Revealed) -> Vec<u8> {
    match r.account {
        Some(id) => {
            let mut k = sp_crypto_hashing::twox_64(&id).to_vec();
            k.extend_from_slice(&id);
            k
        }
        None => r.hotkey.as_bytes().to_vec(),
    }
}

/// Parses every hotkey's reveals; returns the submissions in priority order and the rejections.
pub fn collect(
    revealed: &[Revealed],
    earliest: u64,
    latest: u64,
) -> (Vec<Submission>, Vec<(String, Rejection)>) {
    let mut subs = Vec::new();
    let mut rejected = Vec::new();
    for r in revealed {
        match parse_submission(r, earliest, latest) {
            Ok(s) => subs.push(s),
            Err(Rejection::NoRevealInWindow) => {}
            Err(e) => rejected.push((r.hotkey.clone(), e)),
        }
    }
    sort_by_priority(&mut subs);
    (subs, rejected)
}

/// Reveal block first, then the storage-key tie-break.
pub fn sort_by_priority(subs: &mut [Submission]) {
    subs.sort_by(|a, b| (a.reveal_block, &a.order_key).cmp(&(b.reveal_block, &b.order_key)));
}

/// The conviction-lock filter (§3.3): unregistered hotkeys are dropped; each coldkey must lock
/// `required × (its submitting hotkeys)` alpha or all its submissions go. `locks` maps coldkey →
/// locked alpha (absent = 0); `None` means the runtime has no lock API and only the
/// registration check applies.
pub fn conviction_filter(
    subs: Vec<Submission>,
    coldkey_of: &HashMap<String, String>,
    locks: Option<&HashMap<String, f64>>,
    required: f64,
) -> (Vec<Submission>, Vec<(String, Rejection)>) {
    let mut rejected = Vec::new();
    let mut registered = Vec::new();
    for s in subs {
        if coldkey_of.contains_key(&s.hotkey) {
            registered.push(s);
        } else {
            rejected.push((s.hotkey.clone(), Rejection::NotRegistered));
        }
    }
    let Some(locks) = locks else {
        return (registered, rejected);
    };
    let mut count: HashMap<&str, usize> = HashMap::new();
    for s in &registered {
        *count.entry(coldkey_of[&s.hotkey].as_str()).or_default() += 1;
    }
    let mut kept = Vec::new();
    for s in &registered {
        let ck = coldkey_of[&s.hotkey].as_str();
        let locked = locks.get(ck).copied().unwrap_or(0.0);
        let need = required * count[ck] as f64;
        if locked < need {
            rejected.push((
                s.hotkey.clone(),
                Rejection::InsufficientLock {
                    coldkey: ck.to_string(),
                    locked: locked.to_string(),
                    required: need.to_string(),
                },
            ));
        } else {
            kept.push(s.clone());
        }
    }
    sort_by_priority(&mut kept);
    (kept, rejected)
}

/// Coldkeys in order of first appearance among `subs` (the order 404 queries locks in).
pub fn coldkeys_in_order(subs: &[Submission], coldkey_of: &HashMap<String, String>) -> Vec<String> {
    let mut seen = Vec::new();
    for s in subs {
        if let Some(ck) = coldkey_of.get(&s.hotkey) {
            if !seen.contains(ck) {
                seen.push(ck.clone());
            }
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    const HK: &str = "5G1GM8LUMzzSiyQ6kMJQsTcTVLb5pFUD3jXDuUkcN8VyUX7A";
    const C1: &str = "12b14e7e0cf359cb009e7eef319a19508460c688";
    const C2: &str = "aa10f6f21a33467c6a31d25d7569ad4c8fd49f62";

    fn rev(hk: &str, entries: &[(u64, &str)]) -> Revealed {
        Revealed {
            hotkey: hk.into(),
            account: None,
            entries: entries.iter().map(|(b, t)| (*b, t.to_string())).collect(),
        }
    }

    #[test]
    fn two_step_commitments_combine_and_the_commit_block_is_the_priority() {
        let r = rev(
            HK,
            &[
                (100, &format!("{{\"commit\": \"{C1}\"}}")),
                (
                    105,
                    "{'repo': 'Uglejo/data-basilisk', 'cdn_url': 'https://cdn.example/x/'}",
                ),
            ],
        );
        let s = parse_submission(&r, 90, 110).expect("valid");
        assert_eq!(
            (s.reveal_block, s.repo.as_str(), s.cdn_url.as_str()),
            (100, "Uglejo/data-basilisk", "https://cdn.example/x")
        );
        // A bare host gains a slash, as pydantic's HttpUrl prints it.
        let r = rev(
            HK,
            &[(
                100,
                &format!(
                    "{{\"repo\":\"a/b\",\"commit\":\"{C1}\",\"cdn_url\":\"https://CDN.example\"}}"
                ),
            )],
        );
        assert_eq!(
            parse_submission(&r, 0, 200)
                .map(|s| s.cdn_url)
                .ok()
                .as_deref(),
            Some("https://cdn.example/")
        );
    }

    #[test]
    fn latest_per_field_wins_and_the_window_is_inclusive() {
        let r = rev(
            HK,
            &[
                (
                    99,
                    &format!("{{\"repo\":\"old/x\",\"commit\":\"{C2}\",\"cdn_url\":\"http://a\"}}"),
                ),
                (
                    100,
                    &format!("{{\"repo\":\"a/b\",\"commit\":\"{C1}\",\"cdn_url\":\"http://a\"}}"),
                ),
                (110, &format!("{{\"commit\":\"{C2}\"}}")),
                (111, &format!("{{\"commit\":\"{}\"}}", "f".repeat(40))),
            ],
        );
        let s = parse_submission(&r, 100, 110).expect("valid");
        assert_eq!(
            (s.commit.as_str(), s.reveal_block, s.repo.as_str()),
            (C2, 110, "a/b")
        );
        // Same block: the lexicographically larger value wins.
        let r = rev(
            HK,
            &[
                (5, "{\"repo\":\"a/b\",\"cdn_url\":\"http://a\"}"),
                (5, &format!("{{\"commit\":\"{C1}\"}}")),
                (5, &format!("{{\"commit\":\"{C2}\"}}")),
            ],
        );
        assert_eq!(
            parse_submission(&r, 0, 9).map(|s| s.commit).ok().as_deref(),
            Some(C2)
        );
        assert_eq!(parse_submission(&r, 6, 9), Err(Rejection::NoRevealInWindow));
    }

    #[test]
    fn invalid_values_are_named() {
        let mk = |repo: &str, commit: &str, cdn: &str| {
            rev(
                HK,
                &[(
                    1,
                    &format!(
                        "{{\"repo\":\"{repo}\",\"commit\":\"{commit}\",\"cdn_url\":\"{cdn}\"}}"
                    ),
                )],
            )
        };
        assert!(matches!(
            parse_submission(&mk("a.b/c", C1, "http://a"), 0, 9),
            Err(Rejection::BadRepo(_))
        ));
        assert!(matches!(
            parse_submission(&mk("abc", C1, "http://a"), 0, 9),
            Err(Rejection::BadRepo(_))
        ));
        assert!(matches!(
            parse_submission(&mk("a/b", &C1.to_uppercase(), "http://a"), 0, 9),
            Err(Rejection::BadCommit(_))
        ));
        assert!(matches!(
            parse_submission(&mk("a/b", C1, "ftp://a"), 0, 9),
            Err(Rejection::BadCdnUrl(_))
        ));
        assert!(matches!(
            parse_submission(&mk("a/b", C1, "not a url"), 0, 9),
            Err(Rejection::BadCdnUrl(_))
        ));
        let short = rev(
            "5short",
            &[(
                1,
                &format!("{{\"repo\":\"a/b\",\"commit\":\"{C1}\",\"cdn_url\":\"http://a\"}}"),
            )],
        );
        assert_eq!(parse_submission(&short, 0, 9), Err(Rejection::ShortHotkey));
        // Non-JSON, non-object JSON and empty values are skipped, leaving fields missing.
        let r = rev(
            HK,
            &[
                (1, "\"just a string\""),
                (2, "{not json"),
                (3, "{\"repo\": \"\", \"commit\": null}"),
            ],
        );
        assert_eq!(
            parse_submission(&r, 0, 9),
            Err(Rejection::Incomplete(vec!["repo", "commit", "cdn_url"]))
        );
        // A later non-string value still wins, then fails validation (as in 404).
        let r = rev(
            HK,
            &[
                (
                    1,
                    &format!("{{\"repo\":\"a/b\",\"commit\":\"{C1}\",\"cdn_url\":\"http://a\"}}"),
                ),
                (2, "{\"repo\": 5}"),
            ],
        );
        assert!(matches!(
            parse_submission(&r, 0, 9),
            Err(Rejection::BadRepo(_))
        ));
    }

    #[test]
    fn ties_follow_the_storage_key_and_locks_filter_whole_coldkeys() {
        let body = format!("{{\"repo\":\"a/b\",\"commit\":\"{C1}\",\"cdn_url\":\"http://a\"}}");
        let mk = |hk: &str, id: u8, block: u64| Revealed {
            hotkey: hk.into(),
            account: Some([id; 32]),
            entries: vec![(block, body.clone())],
        };
        let input = vec![
            mk("5AAAAAAAAAA", 1, 7),
            mk("5BBBBBBBBBB", 2, 7),
            mk("5CCCCCCCCCC", 3, 6),
            mk("5DDDDDDDDDD", 4, 7),
        ];
        let (subs, _) = collect(&input, 0, 10);
        let mut reversed = input.clone();
        reversed.reverse();
        let (subs2, _) = collect(&reversed, 0, 10);
        assert_eq!(subs, subs2, "order does not depend on input order");
        assert_eq!(subs[0].hotkey, "5CCCCCCCCCC");
        let key = |id: u8| {
            let mut k = sp_crypto_hashing::twox_64(&[id; 32]).to_vec();
            k.extend_from_slice(&[id; 32]);
            k
        };
        let mut want: Vec<(Vec<u8>, &str)> = vec![
            (key(1), "5AAAAAAAAAA"),
            (key(2), "5BBBBBBBBBB"),
            (key(4), "5DDDDDDDDDD"),
        ];
        want.sort();
        assert_eq!(
            subs[1..]
                .iter()
                .map(|s| s.hotkey.as_str())
                .collect::<Vec<_>>(),
            want.iter().map(|w| w.1).collect::<Vec<_>>()
        );

        let coldkey_of: HashMap<String, String> = [
            ("5AAAAAAAAAA", "ck1"),
            ("5BBBBBBBBBB", "ck1"),
            ("5CCCCCCCCCC", "ck2"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let locks: HashMap<String, f64> = [("ck1".to_string(), 150.0), ("ck2".to_string(), 100.0)]
            .into_iter()
            .collect();
        assert_eq!(coldkeys_in_order(&subs, &coldkey_of), ["ck2", "ck1"]);
        let (kept, dropped) =
            conviction_filter(subs.clone(), &coldkey_of, Some(&locks), REQUIRED_LOCK_ALPHA);
        assert_eq!(
            kept.iter().map(|s| s.hotkey.as_str()).collect::<Vec<_>>(),
            ["5CCCCCCCCCC"]
        );
        assert_eq!(
            dropped.len(),
            3,
            "5DDD unregistered, both ck1 hotkeys under-locked"
        );
        let (kept, _) = conviction_filter(subs, &coldkey_of, None, REQUIRED_LOCK_ALPHA);
        assert_eq!(
            kept.len(),
            3,
            "without the lock API only registration is checked"
        );
    }
}
