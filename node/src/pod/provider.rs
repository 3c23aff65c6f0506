//! Where a repository's pod runs. 404 deploys each miner's Docker image on rented H200s
//! (§8.3); sn17 asks a [`PodProvider`] for a lease and talks to it through the pod API, so a
//! cloud GPU provider is one more implementation of this trait. [`StaticPods`] is the one that
//! ships: pods that are already running (a miner's own, a validator's machine, the devnet's).

use std::collections::BTreeMap;

use futures::future::BoxFuture;

use super::PodError;

/// What to run: a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodTarget {
    pub hotkey: String,
    pub repo: String,
    pub commit: String,
    pub docker_image: Option<String>,
}

/// A pod to talk to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodLease {
    /// 404's pod name: `miner-{round:02}-{hk10 lowercased}-{index}`.
    pub name: String,
    pub url: String,
    pub token: Option<String>,
}

/// 404's pod name for a round, hotkey and pod index.
pub fn pod_name(round: u64, hotkey: &str, index: u32) -> String {
    let hk10: String = hotkey.chars().take(10).collect();
    format!("miner-{round:02}-{}-{index}", hk10.to_lowercase())
}

pub trait PodProvider: Send + Sync {
    fn name(&self) -> &str;
    /// A running pod for `target` (deploying it if the provider does that).
    fn acquire<'a>(
        &'a self,
        target: &'a PodTarget,
        round: u64,
    ) -> BoxFuture<'a, Result<PodLease, PodError>>;
    /// Gives the pod back (a no-op for pods the provider did not start).
    fn release<'a>(&'a self, lease: &'a PodLease) -> BoxFuture<'a, ()>;
}

/// Pods already running, by repository (`owner/name=URL`), with an optional catch-all.
#[derive(Debug, Clone, Default)]
pub struct StaticPods {
    by_repo: BTreeMap<String, String>,
    fallback: Option<String>,
    token: Option<String>,
}

impl StaticPods {
    /// Parses `REPO=URL` entries; a bare `URL` is the catch-all.
    pub fn parse(entries: &[String], token: Option<String>) -> Result<Self, PodError> {
        let mut me = Self {
            token,
            ..Self::default()
        };
        for e in entries {
            match e.split_once('=') {
                Some((repo, url)) if !repo.is_empty() && url.starts_with("http") => {
                    me.by_repo.insert(repo.to_string(), url.to_string());
                }
                None if e.starts_with("http") => me.fallback = Some(e.clone()),
                _ => {
                    return Err(PodError::NoPod {
                        repo: e.clone(),
                        reason: "expected REPO=http://HOST:PORT or http://HOST:PORT".into(),
                    })
                }
            }
        }
        Ok(me)
    }

    pub fn is_empty(&self) -> bool {
        self.by_repo.is_empty() && self.fallback.is_none()
    }
}

impl PodProvider for StaticPods {
    fn name(&self) -> &str {
        "static"
    }

    fn acquire<'a>(
        &'a self,
        target: &'a PodTarget,
        round: u64,
    ) -> BoxFuture<'a, Result<PodLease, PodError>> {
        let found = self
            .by_repo
            .get(&target.repo)
            .or(self.fallback.as_ref())
            .cloned();
        Box::pin(async move {
            let url = found.ok_or_else(|| PodError::NoPod {
                repo: target.repo.clone(),
                reason: "no pod configured for this repository (--audit-pod REPO=URL)".into(),
            })?;
            Ok(PodLease {
                name: pod_name(round, &target.hotkey, 0),
                url,
                token: self.token.clone(),
            })
        })
    }

    fn release<'a>(&'a self, _lease: &'a PodLease) -> BoxFuture<'a, ()> {
        Box::pin(async {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_parsing() {
        assert_eq!(pod_name(7, "5F4HANQJAXyz", 0), "miner-07-5f4hanqjax-0");
        let p = StaticPods::parse(
            &["a/b=http://127.0.0.1:1".into(), "http://127.0.0.1:2".into()],
            None,
        )
        .expect("parse");
        assert_eq!(p.by_repo["a/b"], "http://127.0.0.1:1");
        assert_eq!(p.fallback.as_deref(), Some("http://127.0.0.1:2"));
        assert!(StaticPods::parse(&["nonsense".into()], None).is_err());
    }
}
