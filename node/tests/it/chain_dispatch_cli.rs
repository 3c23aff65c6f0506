//! A real dispatch error from the spec-218 runtime in chopsticks, and the CLI paths the main
//! chopsticks test does not take: `sn17 metadata check FILE | --url`, `sn17 metadata fetch`,
//! `sn17 chain info --json`, `sn17 chain commitments --revealed` on a runtime without it, and
//! `--network` / `--subtensor.network` given a URL.

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use sn17_chain::commitments::Data;
use sn17_chain::{ChainError, ConnectOptions, PairSigner, Subtensor};
use sn17_tests::shared::shared_file;

/// Runs `sn17 ARGS` with its caches in `cache`; returns (success, stdout, stderr).
fn sn17(cache: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sn17"))
        .args(args)
        .env("SN17_CACHE_DIR", cache)
        .env_remove("SN17_NETWORK")
        .env_remove("SN17_CHAIN_ENDPOINT")
        .output()
        .expect("sn17 runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json_of(what: &str, out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{what} printed no JSON ({e}): {out}"))
}

/// Labels (`kind Scope.name`) of the report's items with `status`.
fn labels(report: &Value, status: &str) -> Vec<String> {
    report["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["status"] == status)
        .map(|i| {
            let kind = match i["kind"].as_str().unwrap_or_default() {
                "runtime_api" => "api",
                k => k,
            };
            format!(
                "{} {}.{}",
                kind,
                i["scope"].as_str().unwrap_or_default(),
                i["name"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

/// The finney-424 metadata with `SubtensorModule.Tempo`'s value type id replaced by u64's, by
/// patching the encoded storage entry: name, modifier Default, Map, one Identity hasher, key id,
/// value id (all ids here fit one compact byte).
fn tempo_as_u64(bytes: &[u8]) -> Vec<u8> {
    let md = sn17_metadata::decode_metadata(bytes).expect("424 decodes");
    let tempo = md
        .pallet_by_name("SubtensorModule")
        .and_then(|p| p.storage())
        .and_then(|s| s.entry_by_name("Tempo"))
        .expect("Tempo");
    let value_ty = tempo.value_ty();
    let key_ty = tempo.keys().next().map(|k| k.key_id).expect("one key");
    let u64_ty = md
        .types()
        .types
        .iter()
        .find(|t| {
            t.ty.path.segments.is_empty() && format!("{:?}", t.ty.type_def) == "Primitive(U64)"
        })
        .map(|t| t.id)
        .expect("u64 in the registry");
    let compact = |id: u32| -> u8 {
        assert!(id < 64, "type id {id} needs more than one compact byte");
        (id << 2) as u8
    };
    let mut pattern = b"\x14Tempo\x01\x01\x04\x06".to_vec();
    pattern.push(compact(key_ty));
    pattern.push(compact(value_ty));
    let at: Vec<usize> = bytes
        .windows(pattern.len())
        .enumerate()
        .filter(|(_, w)| *w == pattern.as_slice())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 1, "the Tempo entry is found exactly once");
    let mut out = bytes.to_vec();
    out[at[0] + pattern.len() - 1] = compact(u64_ty);
    out
}

#[test]
fn metadata_check_of_files_through_the_cli() {
    let (Some(f424), Some(f218)) = (
        shared_file("chain-metadata/finney-spec424-v16.scale"),
        shared_file("chain-metadata/raonet-spec218-v15.scale"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let f424 = f424.display().to_string();
    let f218 = f218.display().to_string();

    // finney 424: every item ok, exit 0.
    let (ok, out, err) = sn17(dir.path(), &["metadata", "check", &f424, "--json"]);
    assert!(ok, "424 check failed: {err}");
    let report = json_of("metadata check 424", &out);
    assert_eq!(report["spec"]["spec_version"], 424);
    assert_eq!(report["summary"]["compatible"], true);
    let total = report["items"].as_array().map(Vec::len).unwrap_or(0);
    assert!(total > 50, "{total} items");
    assert_eq!(labels(&report, "ok").len(), total, "not all ok on 424");
    let (ok, table, _) = sn17(dir.path(), &["metadata", "check", &f424]);
    assert!(ok);
    assert!(table.contains("spec 424"), "{table}");
    assert!(table.contains(" 0 missing"), "{table}");
    assert!(!table.lines().any(|l| l.starts_with("missing")), "{table}");

    // raonet 218: the optional items it lacks are listed as missing; nothing required is, so
    // the command succeeds (it fails only when a required item is missing or breakingly changed).
    let (ok, out, err) = sn17(dir.path(), &["metadata", "check", &f218, "--json"]);
    assert!(ok, "218 check failed: {err}");
    let report = json_of("metadata check 218", &out);
    assert_eq!(report["spec"]["spec_version"], 218);
    let missing = labels(&report, "missing");
    for item in [
        "call SubtensorModule.commit_timelocked_weights",
        "call SubtensorModule.commit_timelocked_mechanism_weights",
        "storage Commitments.RevealedCommitments",
        "storage Drand.Pulses",
        "api StakeInfoRuntimeApi.get_coldkey_lock",
    ] {
        assert!(
            missing.iter().any(|m| m == item),
            "{item} not in {missing:?}"
        );
    }
    assert_eq!(report["summary"]["missing"], missing.len());
    let (ok, table, _) = sn17(dir.path(), &["metadata", "check", &f218]);
    assert!(ok);
    let missing_rows: Vec<&str> = table.lines().filter(|l| l.starts_with("missing")).collect();
    assert_eq!(missing_rows.len(), missing.len(), "{table}");
    assert!(
        missing_rows
            .iter()
            .any(|l| l.contains("Commitments.RevealedCommitments")),
        "{table}"
    );

    // A required item whose type changed (Tempo: u16 → u64, patched in the 424 bytes): listed
    // as changed, and the command fails.
    let mutated = dir.path().join("tempo-u64.scale");
    std::fs::write(&mutated, tempo_as_u64(&std::fs::read(&f424).expect("read"))).expect("write");
    let mutated = mutated.display().to_string();
    let (ok, out, err) = sn17(dir.path(), &["metadata", "check", &mutated, "--json"]);
    assert!(!ok, "a breaking change must fail the check");
    assert!(err.contains("storage SubtensorModule.Tempo"), "{err}");
    let report = json_of("metadata check (Tempo u64)", &out);
    assert_eq!(
        labels(&report, "changed"),
        vec!["storage SubtensorModule.Tempo"]
    );
    assert_eq!(report["summary"]["compatible"], false);
    let (ok, table, _) = sn17(dir.path(), &["metadata", "check", &mutated]);
    assert!(!ok);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("changed") && l.contains("SubtensorModule.Tempo")),
        "{table}"
    );

    // Not metadata at all: a named error and a failing exit status.
    let junk = dir.path().join("junk.scale");
    std::fs::write(&junk, b"not metadata").expect("write");
    let (ok, _, err) = sn17(
        dir.path(),
        &["metadata", "check", &junk.display().to_string()],
    );
    assert!(!ok);
    assert!(err.contains("decoding metadata"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
// The chain slot is held for the whole test on purpose; no task of the test takes it.
#[allow(clippy::await_holding_lock)]
async fn dispatch_error_and_cli_reads_on_a_real_runtime() {
    let Some((_slot, chain)) = crate::spec218_chain().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join("cache");
    let url = chain.url().to_string();
    let alice = PairSigner::dev("//Alice").expect("alice");
    chain
        .fund_and_sudo(&alice.account().ss58(), &[])
        .await
        .expect("fund");
    let client = Subtensor::connect(&url, &ConnectOptions::default())
        .await
        .expect("connect");
    assert_eq!(client.spec_version(), 218);
    let netuid = *chain
        .netuids()
        .await
        .expect("netuids")
        .iter()
        .find(|n| **n != 0)
        .expect("the genesis has a subnet besides root");
    let head = client.head().await.expect("head");
    assert_eq!(
        client
            .uid_of(netuid, &alice.account(), head)
            .await
            .expect("uid"),
        None
    );

    // A commitment from a hotkey not registered on the subnet passes the pool and fails in the
    // block; the error comes back named by pallet and variant from the runtime's metadata.
    let field = Data::raw(b"x").expect("raw").to_value();
    let call = sn17_chain::calls::set_commitment(netuid, vec![field]);
    match client.submit(&call, &alice).await {
        Err(ChainError::Dispatch { pallet, error, .. }) => {
            assert_eq!(pallet, "Commitments");
            assert_eq!(error, "AccountNotAllowedCommit");
        }
        other => panic!("expected a dispatch error, got {other:?}"),
    }

    // sn17 metadata check --url: 218 is usable, exit 0.
    let (ok, out, err) = sn17(&cache, &["metadata", "check", "--url", &url, "--json"]);
    assert!(ok, "check --url: {err}");
    let report = json_of("metadata check --url", &out);
    assert_eq!(report["spec"]["spec_version"], 218);
    assert!(labels(&report, "missing")
        .iter()
        .any(|l| l == "storage Commitments.RevealedCommitments"));

    // sn17 metadata fetch: the file holds what the node serves, and --json says so.
    let saved = dir.path().join("raonet.scale");
    let (ok, out, err) = sn17(
        &cache,
        &[
            "metadata",
            "fetch",
            "--url",
            &url,
            "--out",
            &saved.display().to_string(),
            "--json",
        ],
    );
    assert!(ok, "fetch: {err}");
    let fetched = json_of("metadata fetch", &out);
    let bytes = std::fs::read(&saved).expect("saved file");
    assert_eq!(fetched["bytes"], bytes.len());
    assert_eq!(fetched["spec"]["spec_version"], 218);
    assert_eq!(bytes, client.runtime().metadata_bytes);
    let (ok, _, err) = sn17(&cache, &["metadata", "check", &saved.display().to_string()]);
    assert!(ok, "check of the fetched file: {err}");

    // sn17 chain info --json: runtime identity and the subnet's hyperparameters.
    let nu = netuid.to_string();
    let (ok, out, err) = sn17(
        &cache,
        &[
            "chain",
            "info",
            "--subtensor.chain_endpoint",
            &url,
            "--netuid",
            &nu,
            "--json",
        ],
    );
    assert!(ok, "chain info: {err}");
    let info = json_of("chain info", &out);
    assert_eq!(info["spec_version"], 218);
    assert_eq!(
        info["genesis"],
        format!("0x{}", hex::encode(client.runtime().genesis))
    );
    let hp = client
        .hyperparams(netuid, client.head().await.expect("head"))
        .await
        .expect("hyperparams");
    assert_eq!(info["hyperparams"]["netuid"], netuid);
    assert_eq!(info["hyperparams"]["tempo"], hp.tempo);
    assert_eq!(
        info["hyperparams"]["weights_rate_limit"],
        hp.weights_rate_limit
    );
    assert_eq!(
        info["hyperparams"]["commit_reveal_enabled"],
        hp.commit_reveal_enabled
    );
    assert!(info["hyperparams_error"].is_null(), "{info}");

    // --network and --subtensor.network take a URL too (btcli spellings).
    for flag in ["--network", "--subtensor.network"] {
        let (ok, out, err) = sn17(
            &cache,
            &["chain", "info", flag, &url, "--netuid", &nu, "--json"],
        );
        assert!(ok, "{flag}: {err}");
        assert_eq!(json_of(flag, &out)["genesis"], info["genesis"]);
    }
    let (ok, _, err) = sn17(&cache, &["chain", "info", "--network", "mainnet"]);
    assert!(!ok && err.contains("unknown network"), "{err}");

    // Revealed commitments on a runtime without them: an error naming the missing item.
    let (ok, _, err) = sn17(
        &cache,
        &[
            "chain",
            "commitments",
            "--revealed",
            "--subtensor.chain_endpoint",
            &url,
            "--netuid",
            &nu,
        ],
    );
    assert!(!ok);
    assert!(
        err.contains("Commitments.RevealedCommitments") && err.contains("218"),
        "{err}"
    );
}
