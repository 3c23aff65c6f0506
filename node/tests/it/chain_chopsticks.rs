//! The chain client and the `sn17 chain …` CLI against a real Subtensor runtime (spec 218 in
//! chopsticks): subnet creation, registration, axon, commitments, weights after the rate limit,
//! the metagraph against raw storage, and the bad-input paths.

use std::path::Path;
use std::process::Command;

use codec::Decode;
use serde_json::Value;
use sn17_chain::commitments::Data;
use sn17_chain::metagraph::Source;
use sn17_chain::weights::WeightsOptions;
use sn17_chain::{Account, ChainError, ConnectOptions, PairSigner, Subtensor};
use sn17_tests::Chopsticks;

struct Cli<'a> {
    url: &'a str,
    wallets: &'a Path,
    cache: &'a Path,
}

impl Cli<'_> {
    /// Runs `sn17 ARGS` against the chain; returns (success, stdout, stderr).
    fn run(&self, wallet: &str, args: &[&str]) -> (bool, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_sn17"))
            .args(args)
            .args(["--subtensor.chain_endpoint", self.url])
            .args(["--wallet.path", &self.wallets.display().to_string()])
            .args(["--wallet.name", wallet, "--wallet.hotkey", "default"])
            .env("SN17_CACHE_DIR", self.cache)
            .env_remove("SN17_WALLET_PASSWORD")
            .output()
            .expect("sn17 runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn json(&self, wallet: &str, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let (ok, out, err) = self.run(wallet, &all);
        assert!(ok, "sn17 {args:?} failed: {err}");
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("sn17 {args:?} printed no JSON ({e}): {out}"))
    }
}

fn pubkey(cli: &Cli, wallet: &str) -> (Account, Account) {
    let shown = cli.json(wallet, &["wallet", "show"]);
    let cold: Account = shown["coldkey"]
        .as_str()
        .expect("coldkey")
        .parse()
        .expect("ss58");
    let hot: Account = shown["hotkey"]
        .as_str()
        .expect("hotkey")
        .parse()
        .expect("ss58");
    (cold, hot)
}

/// `SubtensorModule.<item>` key with already hashed parts.
fn sub_key(item: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut key = [
        sp_core::hashing::twox_128(b"SubtensorModule"),
        sp_core::hashing::twox_128(item),
    ]
    .concat();
    for p in parts {
        key.extend_from_slice(p);
    }
    key
}

/// A raw storage value at `at` (empty when absent).
async fn raw_at(chain: &Chopsticks, key: Vec<u8>, at: [u8; 32]) -> Vec<u8> {
    chain
        .rpc()
        .storage(&key, Some(at))
        .await
        .expect("raw storage")
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
// The chain slot is held for the whole test on purpose; no task of the test takes it.
#[allow(clippy::await_holding_lock)]
async fn chain_client_and_cli_on_a_real_runtime() {
    let Some((_slot, chain)) = crate::spec218_chain().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let wallets = dir.path().join("wallets");
    let cache = dir.path().join("cache");
    let cli = Cli {
        url: chain.url(),
        wallets: &wallets,
        cache: &cache,
    };

    // Wallets made by the CLI (plaintext coldkeys so the test needs no prompt).
    for w in ["owner", "miner1", "miner2"] {
        let (ok, _, err) = cli.run(w, &["wallet", "create", "--no-password"]);
        assert!(ok, "wallet create {w}: {err}");
    }
    let (owner_cold, owner_hot) = pubkey(&cli, "owner");
    let (m1_cold, m1_hot) = pubkey(&cli, "miner1");
    let (m2_cold, m2_hot) = pubkey(&cli, "miner2");
    let alice = PairSigner::dev("//Alice").expect("alice");
    chain
        .fund_and_sudo(
            &alice.account().ss58(),
            &[owner_cold.ss58(), m1_cold.ss58(), m2_cold.ss58()],
        )
        .await
        .expect("fund");

    // A new subnet, created through the CLI (register_network), then opened up for the test.
    let client = Subtensor::connect(chain.url(), &ConnectOptions::default())
        .await
        .expect("connect");
    assert_eq!(client.spec_version(), 218);
    let wallet = sn17_chain::wallet::Wallet::new(&wallets, "owner", "default").expect("wallet");
    let before = chain.netuids().await.expect("netuids");
    let created = cli.json("owner", &["chain", "create-subnet"]);
    let netuid = created["netuid"]
        .as_u64()
        .and_then(|n| u16::try_from(n).ok())
        .unwrap_or_else(|| panic!("create-subnet: {created}"));
    assert!(!before.contains(&netuid), "{netuid} existed before");
    assert!(chain.netuids().await.expect("netuids").contains(&netuid));
    let mut raw = chain.netuids().await.expect("netuids");
    raw.sort_unstable();
    let head = client.head().await.expect("head");
    assert_eq!(client.netuids(head).await.expect("netuids"), raw);
    chain.tune_subnet(netuid, 3, false).await.expect("tune");
    let nu = netuid.to_string();

    // Registration through the CLI.
    for w in ["owner", "miner1", "miner2"] {
        let reg = cli.json(
            w,
            &["chain", "register", "--netuid", &nu, "--max-price", "10"],
        );
        assert!(reg["uid"].is_u64(), "{reg}");
    }
    let again = cli.json("miner1", &["chain", "register", "--netuid", &nu]);
    assert_eq!(again["status"], "already", "{again}");

    // Axon.
    let (ok, _, err) = cli.run(
        "miner1",
        &[
            "chain", "serve", "--netuid", &nu, "--ip", "10.1.2.3", "--port", "8091",
        ],
    );
    assert!(ok, "serve: {err}");
    let (ok, _, err) = cli.run(
        "miner2",
        &[
            "chain",
            "serve",
            "--netuid",
            &nu,
            "--ip",
            "127.0.0.1",
            "--port",
            "8091",
        ],
    );
    assert!(!ok, "the chain refuses 127.0.0.1");
    assert!(
        err.contains("InvalidIpAddress") || err.contains("Custom(11)"),
        "{err}"
    );

    // Alpha stake on miner1, so the stake comparison below is not all zeros.
    chain
        .set_storage(serde_json::json!({ "SubtensorModule": {
            "TotalHotkeyAlpha": [[[m1_hot.ss58(), netuid], 4_200_000_000u64]]
        }}))
        .await
        .expect("stake");

    // Metagraph: CLI JSON, library storage path, library runtime-API path, raw storage.
    let mg = client
        .metagraph(netuid, Source::Storage)
        .await
        .expect("metagraph");
    assert_eq!(
        mg.neurons.len(),
        3,
        "the owner (registered by register_network) and two miners"
    );
    let by = |hk: &Account| mg.by_hotkey(hk).expect("registered").clone();
    assert_eq!(by(&m1_hot).coldkey, m1_cold);
    assert_eq!(by(&m2_hot).coldkey, m2_cold);
    assert_eq!(by(&owner_hot).coldkey, owner_cold);
    let axon = by(&m1_hot).axon.expect("served");
    assert_eq!(
        axon.ip_addr().map(|i| i.to_string()).as_deref(),
        Some("10.1.2.3")
    );
    assert_eq!(axon.port, 8091);
    assert!(by(&m2_hot).axon.is_none());
    assert_eq!(by(&m1_hot).stake, 4_200_000_000);

    let head = client.head().await.expect("head");
    for n in &mg.neurons {
        // Keys(netuid, uid) and Owner(hotkey) read with hand-built keys (chain.md §1.1).
        let mut key = [
            sp_core::hashing::twox_128(b"SubtensorModule"),
            sp_core::hashing::twox_128(b"Keys"),
        ]
        .concat();
        key.extend_from_slice(&netuid.to_le_bytes());
        key.extend_from_slice(&n.uid.to_le_bytes());
        let raw = chain
            .rpc()
            .storage(&key, Some(head.hash))
            .await
            .expect("raw")
            .expect("present");
        assert_eq!(raw, n.hotkey.0.to_vec());
        let mut key = [
            sp_core::hashing::twox_128(b"SubtensorModule"),
            sp_core::hashing::twox_128(b"Owner"),
        ]
        .concat();
        key.extend_from_slice(&sp_core::hashing::blake2_128(&n.hotkey.0));
        key.extend_from_slice(&n.hotkey.0);
        let raw = chain
            .rpc()
            .storage(&key, Some(head.hash))
            .await
            .expect("raw")
            .expect("present");
        assert_eq!(raw, n.coldkey.0.to_vec());
    }
    let mut key = [
        sp_core::hashing::twox_128(b"SubtensorModule"),
        sp_core::hashing::twox_128(b"Active"),
    ]
    .concat();
    key.extend_from_slice(&netuid.to_le_bytes());
    let raw = chain
        .rpc()
        .storage(&key, Some(mg.block_hash))
        .await
        .expect("raw")
        .unwrap_or_default();
    let active = Vec::<bool>::decode(&mut &raw[..]).expect("Vec<bool>");
    for n in &mg.neurons {
        assert_eq!(
            active.get(n.uid as usize).copied().unwrap_or(false),
            n.active
        );
    }

    // The other per-neuron fields against their storage maps, read raw and decoded here.
    let at = mg.block_hash;
    let per_subnet = |item: &[u8]| sub_key(item, &[&netuid.to_le_bytes()]);
    let permits =
        Vec::<bool>::decode(&mut &raw_at(&chain, per_subnet(b"ValidatorPermit"), at).await[..])
            .expect("Vec<bool>");
    let last_update =
        Vec::<u64>::decode(&mut &raw_at(&chain, per_subnet(b"LastUpdate"), at).await[..])
            .expect("Vec<u64>");
    let incentive =
        Vec::<u16>::decode(&mut &raw_at(&chain, per_subnet(b"Incentive"), at).await[..])
            .expect("Vec<u16>");
    let emission = Vec::<u64>::decode(&mut &raw_at(&chain, per_subnet(b"Emission"), at).await[..])
        .expect("Vec<u64>");
    assert!(
        last_update.iter().any(|b| *b > 0),
        "registration writes LastUpdate"
    );
    for n in &mg.neurons {
        let uid = n.uid as usize;
        assert_eq!(
            permits.get(uid).copied().unwrap_or(false),
            n.validator_permit
        );
        assert_eq!(last_update.get(uid).copied().unwrap_or(0), n.last_update);
        assert_eq!(incentive.get(uid).copied().unwrap_or(0), n.incentive);
        assert_eq!(emission.get(uid).copied().unwrap_or(0), n.emission);
        // TotalHotkeyAlpha(Blake2_128Concat hotkey, Identity netuid): u64 alpha.
        let blake_hk = [&sp_core::hashing::blake2_128(&n.hotkey.0)[..], &n.hotkey.0].concat();
        let stake = raw_at(
            &chain,
            sub_key(b"TotalHotkeyAlpha", &[&blake_hk, &netuid.to_le_bytes()]),
            at,
        )
        .await;
        let stake = if stake.is_empty() {
            0
        } else {
            u64::decode(&mut &stake[..]).expect("u64")
        };
        assert_eq!(stake, n.stake, "stake of uid {uid}");
        // Axons(Identity netuid, Blake2_128Concat hotkey): AxonInfo with two placeholders.
        let axon = raw_at(
            &chain,
            sub_key(b"Axons", &[&netuid.to_le_bytes(), &blake_hk]),
            at,
        )
        .await;
        match &n.axon {
            None => assert!(axon.is_empty(), "uid {uid} never served"),
            Some(a) => {
                let (block, version, ip, port, ip_type, protocol, _, _) =
                    <(u64, u32, u128, u16, u8, u8, u8, u8)>::decode(&mut &axon[..])
                        .expect("AxonInfo");
                assert_eq!(
                    (block, version, ip, port),
                    (a.block, a.version, a.ip, a.port)
                );
                assert_eq!((ip_type, protocol), (a.ip_type, a.protocol));
            }
        }
    }

    let via_api = client
        .metagraph_at(
            netuid,
            Source::RuntimeApi,
            sn17_chain::Head {
                hash: mg.block_hash,
                number: mg.block,
            },
        )
        .await
        .expect("runtime api");
    assert_eq!(via_api.neurons.len(), mg.neurons.len());
    for (a, b) in via_api.neurons.iter().zip(&mg.neurons) {
        // Spec 218's NeuronInfoLite.stake reads the pre-dTAO stake map, not TotalHotkeyAlpha,
        // so stake is compared against storage only.
        let mut a = a.clone();
        a.stake = b.stake;
        assert_eq!(&a, b);
    }
    let cli_mg = cli.json("owner", &["chain", "metagraph", "--netuid", &nu]);
    assert_eq!(cli_mg["neurons"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        cli_mg["neurons"][usize::from(by(&m1_hot).uid)]["hotkey"],
        m1_hot.ss58()
    );

    // Commitments: a plain 404 commitment, then the timelocked kind this runtime lacks.
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let (ok, _, err) = cli.run(
        "miner1",
        &["chain", "commit", "--netuid", &nu, "--commit", sha],
    );
    assert!(ok, "commit: {err}");
    let (ok, _, err) = cli.run(
        "miner2",
        &[
            "chain",
            "commit",
            "--netuid",
            &nu,
            "--repo",
            "o/n",
            "--cdn-url",
            "https://cdn.example/m2",
        ],
    );
    assert!(ok, "commit: {err}");
    let (ok, _, err) = cli.run(
        "miner2",
        &[
            "chain",
            "commit",
            "--netuid",
            &nu,
            "--commit",
            sha,
            "--reveal-blocks",
            "2",
        ],
    );
    assert!(!ok);
    assert!(
        err.contains("TimelockEncrypted") && err.contains("218"),
        "{err}"
    );
    let (ok, _, err) = cli.run(
        "miner2",
        &["chain", "commit", "--netuid", &nu, "--repo", "o/n.x"],
    );
    assert!(!ok && err.contains("no dots"), "{err}");
    let listed = cli.json("owner", &["chain", "commitments", "--netuid", &nu]);
    let rows = listed.as_array().expect("array");
    assert_eq!(rows.len(), 2, "{listed}");
    let m1_row = rows
        .iter()
        .find(|r| r["hotkey"] == m1_hot.ss58())
        .expect("miner1 row");
    assert_eq!(m1_row["parsed"]["commit"], sha);
    let m2_row = rows
        .iter()
        .find(|r| r["hotkey"] == m2_hot.ss58())
        .expect("miner2 row");
    assert_eq!(m2_row["parsed"]["cdn_url"], "https://cdn.example/m2");
    let reg = client
        .commitment_of(netuid, &m1_hot, client.head().await.expect("head"))
        .await
        .expect("read");
    let text = format!("{{\"commit\":\"{sha}\"}}");
    assert_eq!(
        reg.expect("committed").fields,
        vec![Data::Raw(text.into_bytes())]
    );

    // A malformed CommitmentOf value (written straight into storage) is skipped, not fatal.
    let entry_prefix = [
        sp_core::hashing::twox_128(b"Commitments"),
        sp_core::hashing::twox_128(b"CommitmentOf"),
    ]
    .concat();
    let mut bad_key = entry_prefix.clone();
    bad_key.extend_from_slice(&netuid.to_le_bytes());
    bad_key.extend_from_slice(&sp_core::hashing::twox_64(&owner_hot.0));
    bad_key.extend_from_slice(&owner_hot.0);
    chain
        .set_raw_storage(&[(
            bad_key,
            Some(vec![0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4, 250]),
        )])
        .await
        .expect("set");
    let listed = cli.json("owner", &["chain", "commitments", "--netuid", &nu]);
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(2),
        "malformed entry skipped: {listed}"
    );
    let head = client.head().await.expect("head");
    assert!(matches!(
        client.commitment_of(netuid, &owner_hot, head).await,
        Err(ChainError::Commitment(_))
    ));

    let n_uids = client
        .metagraph(netuid, Source::Storage)
        .await
        .expect("metagraph")
        .neurons
        .len();
    chain
        .set_storage(serde_json::json!({ "SubtensorModule": {
            "ValidatorPermit": [[[netuid], vec![true; n_uids]]]
        }}))
        .await
        .expect("permits");
    // Weights: the rate limit (3 blocks since registration), then a set read back upscaled.
    let owner_hot_signer = PairSigner::new(
        wallet
            .hotkey(&sn17_chain::wallet::PasswordSource::none())
            .expect("hotkey")
            .as_pair()
            .clone(),
    );
    let m1_uid = by(&m1_hot).uid;
    let m2_uid = by(&m2_hot).uid;
    let weights = [(m1_uid, 0.5), (m2_uid, 1.0)];
    // The owner's last update and the head, both before the attempt.
    let before = client.head().await.expect("head");
    let last = client
        .last_update(netuid, by(&owner_hot).uid, before)
        .await
        .expect("lu");
    let early = client
        .set_weights(
            netuid,
            &owner_hot_signer,
            &weights,
            &WeightsOptions::default(),
        )
        .await;
    if before.number.saturating_sub(last) < 3 {
        assert!(
            matches!(early, Err(ChainError::RateLimited { .. })),
            "{early:?}"
        );
    }
    chain.new_blocks(4).await.expect("blocks");
    let all = [(m1_uid, 0.5), (m2_uid, 1.0)];
    let spec = all
        .iter()
        .map(|(u, w)| format!("{u}={w}"))
        .collect::<Vec<_>>()
        .join(",");
    let set = cli.json(
        "owner",
        &["chain", "set-weights", "--netuid", &nu, "--weights", &spec],
    );
    assert_eq!(set["mode"], "set", "{set}");
    let head = client.head().await.expect("head");
    let mut stored = client
        .stored_weights(netuid, by(&owner_hot).uid, head)
        .await
        .expect("weights");
    stored.sort();
    let emit = sn17_chain::crv3::convert_weights_and_uids_for_emit(&all).expect("emit");
    assert_eq!(emit.values.iter().copied().max(), Some(65535));
    let mut expected: Vec<(u16, u16)> = emit
        .uids
        .iter()
        .copied()
        .zip(sn17_chain::crv3::chain_upscale(&emit.values))
        .collect();
    expected.sort();
    assert!(
        expected.contains(&(m1_uid, 32768)) && expected.contains(&(m2_uid, 65535)),
        "{expected:?}"
    );
    assert_eq!(stored, expected);
    // Too soon again: the client refuses before the pool does.
    let (ok, _, err) = cli.run(
        "owner",
        &["chain", "set-weights", "--netuid", &nu, "--weights", &spec],
    );
    assert!(!ok && err.contains("rate limit"), "{err}");

    // Commit-reveal on: this runtime has no timelocked commits, and says so.
    chain.tune_subnet(netuid, 0, true).await.expect("tune");
    let cr = client
        .set_weights(
            netuid,
            &owner_hot_signer,
            &weights,
            &WeightsOptions::default(),
        )
        .await;
    match cr {
        Err(ChainError::MissingItem {
            item,
            spec_version: 218,
        }) => assert!(item.contains("commit_timelocked_weights")),
        other => panic!("expected a missing-item error, got {other:?}"),
    }

    // Bad input: unregistered hotkey, unknown netuid, unreachable endpoint.
    let stranger = PairSigner::dev("//Stranger").expect("key");
    assert!(matches!(
        client
            .set_weights(netuid, &stranger, &weights, &WeightsOptions::default())
            .await,
        Err(ChainError::NotRegistered { .. })
    ));
    let (ok, _, err) = cli.run("owner", &["chain", "metagraph", "--netuid", "999"]);
    assert!(!ok && err.contains("subnet 999 does not exist"), "{err}");
    let t = std::time::Instant::now();
    let (ok, _, err) = Cli {
        url: "ws://127.0.0.1:9",
        wallets: &wallets,
        cache: &cache,
    }
    .run("owner", &["chain", "info"]);
    assert!(!ok && err.contains("cannot connect"), "{err}");
    assert!(t.elapsed() < std::time::Duration::from_secs(60));

    // The metadata cache: one file for this genesis and spec.
    let cached: Vec<_> = std::fs::read_dir(cache.join("metadata"))
        .expect("cache dir")
        .collect();
    assert_eq!(cached.len(), 1);
}
