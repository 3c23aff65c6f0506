//! The finney-only code paths (spec 424) against a mock node that serves the real finney-424
//! metadata: typed `get_neurons_lite` and the storage path, hyperparameters, commit-reveal v3
//! `set_weights`, timelocked commitments, `RevealedCommitments`, the coldkey lock, dispatch
//! errors named from the 424 metadata, and the typed "not finalised" timeout.
//!
//! Storage values and runtime API replies are encoded from the 424 type registry, storage keys
//! by frame-decode, and the extrinsics the client sends are decoded by the mock against the same
//! metadata; tlock ciphertexts are decrypted with drand quicknet's real round-1000 signature.

mod support;

use std::time::Duration;

use codec::{Decode, Encode};
use scale_value::Value;
use sn17_chain::commitments::{parse_404_commitment, Commitment404, Data};
use sn17_chain::crv3::drand::{QUICKNET_GENESIS_TIME, QUICKNET_PERIOD_SECS};
use sn17_chain::crv3::{
    decode_revealed_commitment, decode_weights_payload, decrypt_with_signature,
    DecodedWeightsPayload,
};
use sn17_chain::metagraph::{AxonInfo, Source};
use sn17_chain::weights::{WeightsOptions, WeightsOutcome};
use sn17_chain::{Account, ChainError, ConnectOptions, Neuron, PairSigner, Subtensor};
use support::finney_mock::{metadata_path, FinneyMock, START_BLOCK};
use support::values;

const NETUID: u16 = 17;
/// Real drand quicknet signature of round 1000 (chain.md appendix).
const ROUND_1000_SIG: &str = "b44679b9a59af2ec876b1a6b1ad52ea9b1615fc3982b19576350f93447cb1125e342b73a8dd2bacbe47e4b6b63ed5e39";

fn nu() -> Value {
    Value::u128(NETUID.into())
}

fn signer(uri: &str) -> PairSigner {
    PairSigner::dev(uri).unwrap_or_else(|e| panic!("dev key {uri}: {e}"))
}

fn round_1000_sig() -> Vec<u8> {
    hex::decode(ROUND_1000_SIG).expect("signature hex")
}

async fn start() -> Option<(FinneyMock, Subtensor)> {
    let path = metadata_path()?;
    let mock = FinneyMock::start(&path).await;
    let opts = ConnectOptions::default(); // no metadata cache: always fetched from the mock
    let client = Subtensor::connect(&mock.url, &opts)
        .await
        .unwrap_or_else(|e| panic!("connect to the mock: {e}"));
    Some((mock, client))
}

/// `SubtensorModule.<item>` of our netuid.
fn set_subnet(mock: &FinneyMock, item: &str, v: Value) {
    mock.set("SubtensorModule", item, vec![nu()], &v);
}

/// The subnet exists; `n` uids.
fn add_subnet(mock: &FinneyMock, n: u16) {
    set_subnet(mock, "NetworksAdded", Value::bool(true));
    set_subnet(mock, "SubnetworkN", Value::u128(n.into()));
}

fn register(mock: &FinneyMock, uid: u16, hotkey: &[u8; 32]) {
    mock.set(
        "SubtensorModule",
        "Keys",
        vec![nu(), Value::u128(uid.into())],
        &values::account(hotkey),
    );
    mock.set(
        "SubtensorModule",
        "Uids",
        vec![nu(), values::account(hotkey)],
        &Value::u128(uid.into()),
    );
}

fn u_vec<T: Into<u128> + Copy>(v: &[T]) -> Value {
    Value::unnamed_composite(v.iter().map(|x| Value::u128((*x).into())))
}

fn expected_neurons() -> Vec<Neuron> {
    let axon = |ip: [u8; 4], port: u16, version: u32| AxonInfo {
        block: 990,
        version,
        ip: u128::from(u32::from(std::net::Ipv4Addr::from(ip))),
        port,
        ip_type: 4,
        protocol: 4,
    };
    (0u16..3)
        .map(|uid| Neuron {
            uid,
            hotkey: Account([0x10 + uid as u8; 32]),
            coldkey: Account([0x20 + uid as u8; 32]),
            stake: 1_000_000_000 * (u64::from(uid) + 1) + 7,
            active: uid != 1,
            validator_permit: uid == 0,
            last_update: 900 + u64::from(uid),
            incentive: 1000 * uid,
            consensus: 2000 + uid,
            dividends: 3000 + 3 * uid,
            emission: 5_000_000 + u64::from(uid),
            axon: match uid {
                0 => Some(axon([10, 0, 0, 1], 8091, 1_002_003)),
                1 => Some(axon([192, 168, 1, 2], 9000, 7)),
                _ => None,
            },
        })
        .collect()
}

fn axon_value(mock: &FinneyMock, ty: u32, a: Option<&AxonInfo>) -> Value {
    match a {
        None => values::zero(mock.types(), ty),
        Some(a) => values::fill(
            mock.types(),
            ty,
            vec![
                ("block", Value::u128(a.block.into())),
                ("version", Value::u128(a.version.into())),
                ("ip", Value::u128(a.ip)),
                ("port", Value::u128(a.port.into())),
                ("ip_type", Value::u128(a.ip_type.into())),
                ("protocol", Value::u128(a.protocol.into())),
            ],
        ),
    }
}

/// Puts `neurons` in 424 storage and behind a typed `get_neurons_lite`.
fn serve_neurons(mock: &FinneyMock, neurons: &[Neuron]) {
    add_subnet(mock, neurons.len() as u16);
    // Axons is an OptionQuery map: its value type is AxonInfo itself (or Option of it).
    let axon_ty =
        values::option_inner_or_self(mock.types(), mock.storage_ty("SubtensorModule", "Axons"));
    for n in neurons {
        register(mock, n.uid, &n.hotkey.0);
        mock.set(
            "SubtensorModule",
            "Owner",
            vec![values::account(&n.hotkey.0)],
            &values::account(&n.coldkey.0),
        );
        mock.set(
            "SubtensorModule",
            "TotalHotkeyAlpha",
            vec![values::account(&n.hotkey.0), nu()],
            &Value::u128(n.stake.into()),
        );
        if let Some(a) = &n.axon {
            mock.set(
                "SubtensorModule",
                "Axons",
                vec![nu(), values::account(&n.hotkey.0)],
                &axon_value(mock, axon_ty, Some(a)),
            );
        }
    }
    let col = |f: &dyn Fn(&Neuron) -> u128| {
        Value::unnamed_composite(neurons.iter().map(|n| Value::u128(f(n))))
    };
    let flags = |f: &dyn Fn(&Neuron) -> bool| {
        Value::unnamed_composite(neurons.iter().map(|n| Value::bool(f(n))))
    };
    set_subnet(mock, "Active", flags(&|n| n.active));
    set_subnet(mock, "ValidatorPermit", flags(&|n| n.validator_permit));
    set_subnet(mock, "Consensus", col(&|n| n.consensus.into()));
    set_subnet(mock, "Dividends", col(&|n| n.dividends.into()));
    set_subnet(mock, "Incentive", col(&|n| n.incentive.into()));
    set_subnet(mock, "LastUpdate", col(&|n| n.last_update.into()));
    set_subnet(mock, "Emission", col(&|n| n.emission.into()));

    // The typed runtime API reply, built field by field from the 424 NeuronInfoLite.
    let out_ty = mock.api_output_ty("NeuronInfoRuntimeApi", "get_neurons_lite");
    let lite_ty = values::inner_ty(mock.types(), out_ty);
    let api_axon_ty = values::field_ty(mock.types(), lite_ty, "axon_info");
    let list = Value::unnamed_composite(neurons.iter().map(|n| {
        values::fill(
            mock.types(),
            lite_ty,
            vec![
                ("hotkey", values::account(&n.hotkey.0)),
                ("coldkey", values::account(&n.coldkey.0)),
                ("uid", Value::u128(n.uid.into())),
                ("netuid", nu()),
                ("active", Value::bool(n.active)),
                ("axon_info", axon_value(mock, api_axon_ty, n.axon.as_ref())),
                (
                    "stake",
                    Value::unnamed_composite([Value::unnamed_composite([
                        values::account(&n.coldkey.0),
                        Value::u128(n.stake.into()),
                    ])]),
                ),
                ("emission", Value::u128(n.emission.into())),
                ("incentive", Value::u128(n.incentive.into())),
                ("consensus", Value::u128(n.consensus.into())),
                ("dividends", Value::u128(n.dividends.into())),
                ("last_update", Value::u128(n.last_update.into())),
                ("validator_permit", Value::bool(n.validator_permit)),
                ("pruning_score", Value::u128(65535)),
            ],
        )
    }));
    let reply = values::encode(mock.types(), out_ty, &list);
    mock.on_api(
        "NeuronInfoRuntimeApi",
        "get_neurons_lite",
        Box::new(move |args| {
            if u16::decode(&mut &args[..]).ok() == Some(NETUID) {
                reply.clone()
            } else {
                Vec::<u8>::new().encode() // an empty list
            }
        }),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metagraph_typed_runtime_api_and_storage_agree_on_424() {
    let Some((mock, client)) = start().await else {
        return;
    };
    assert_eq!(client.spec_version(), 424);
    let expected = expected_neurons();
    serve_neurons(&mock, &expected);

    let api = client
        .metagraph(NETUID, Source::RuntimeApi)
        .await
        .expect("runtime API metagraph");
    let storage = client
        .metagraph(NETUID, Source::Storage)
        .await
        .expect("storage metagraph");
    let auto = client
        .metagraph(NETUID, Source::Auto)
        .await
        .expect("auto metagraph");
    assert_eq!(api.source, Source::RuntimeApi);
    assert_eq!(storage.source, Source::Storage);
    assert_eq!(auto.source, Source::Storage, "424 has every storage map");
    assert_eq!(api.neurons, expected, "typed get_neurons_lite");
    assert_eq!(storage.neurons, expected, "storage maps");
    assert_eq!(api.block, START_BLOCK);
    let file = std::fs::read(metadata_path().expect("present")).expect("read");
    assert_eq!(
        client.runtime().metadata_bytes,
        file,
        "V16 through Metadata_metadata_at_version"
    );
    assert!(mock
        .methods_seen()
        .iter()
        .any(|m| m == "state_queryStorageAt"));

    // A subnet that does not exist, through both paths.
    for source in [Source::RuntimeApi, Source::Storage] {
        match client.metagraph(99, source).await {
            Err(ChainError::UnknownNetuid(99)) => {}
            other => panic!("{source:?}: expected UnknownNetuid, got {other:?}"),
        }
    }
}

fn set_hyperparams(mock: &FinneyMock, commit_reveal: bool) {
    let set = |item: &str, v: Value| set_subnet(mock, item, v);
    set("Tempo", Value::u128(10));
    set("WeightsSetRateLimit", Value::u128(50));
    set("WeightsVersionKey", Value::u128(5));
    set("CommitRevealWeightsEnabled", Value::bool(commit_reveal));
    set("RevealPeriodEpochs", Value::u128(1));
    set("MinAllowedWeights", Value::u128(1));
    set("MaxWeightsLimit", Value::u128(65535));
    set("MaxAllowedUids", Value::u128(256));
    set("ImmunityPeriod", Value::u128(4096));
    set("Burn", Value::u128(1_000_000_000));
    set("ServingRateLimit", Value::u128(25));
    set("SubnetOwner", values::account(&[0x77; 32]));
    mock.set(
        "SubtensorModule",
        "CommitRevealWeightsVersion",
        vec![],
        &Value::u128(4),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_is_fetched_once_then_cached_by_genesis_and_spec() {
    let Some(path) = metadata_path() else {
        return;
    };
    let mock = FinneyMock::start(&path).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = ConnectOptions {
        metadata_cache: Some(dir.path().to_path_buf()),
        ..ConnectOptions::default()
    };
    let fetches = |mock: &FinneyMock| {
        mock.methods_seen()
            .iter()
            .filter(|m| *m == "state_call:Metadata_metadata_at_version")
            .count()
    };
    let first = Subtensor::connect(&mock.url, &opts).await.expect("connect");
    assert_eq!(fetches(&mock), 1);
    let second = Subtensor::connect(&mock.url, &opts).await.expect("connect");
    assert_eq!(fetches(&mock), 1, "the second connection reads the cache");
    assert_eq!(
        first.runtime().metadata_bytes,
        second.runtime().metadata_bytes
    );
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .expect("cache dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let genesis = hex::encode(first.runtime().genesis);
    assert_eq!(files, vec![format!("{genesis}-424.scale")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyperparameters_from_424_storage() {
    let Some((mock, client)) = start().await else {
        return;
    };
    add_subnet(&mock, 0);
    set_hyperparams(&mock, true);
    let head = client.head().await.expect("head");
    let hp = client.hyperparams(NETUID, head).await.expect("hyperparams");
    assert!(hp.missing.is_empty(), "424 lacks {:?}", hp.missing);
    assert_eq!(hp.tempo, 10);
    assert_eq!(hp.weights_rate_limit, 50);
    assert_eq!(hp.weights_version_key, 5);
    assert!(hp.commit_reveal_enabled);
    assert_eq!(hp.reveal_period_epochs, 1);
    assert_eq!(hp.commit_reveal_version, 4);
    assert_eq!(hp.min_allowed_weights, 1);
    assert_eq!(hp.max_allowed_uids, 256);
    assert_eq!(hp.immunity_period, 4096);
    assert_eq!(hp.burn, 1_000_000_000);
    assert_eq!(hp.serving_rate_limit, 25);
    assert_eq!(hp.subnet_owner, Some(Account([0x77; 32])));

    // RevealPeriodEpochs is Twox64Concat-keyed; a wrong hasher would read the default (1).
    set_subnet(&mock, "RevealPeriodEpochs", Value::u128(3));
    let hp = client.hyperparams(NETUID, head).await.expect("hyperparams");
    assert_eq!(hp.reveal_period_epochs, 3);
    assert!(matches!(
        client.hyperparams(99, head).await,
        Err(ChainError::UnknownNetuid(99))
    ));
}

/// Epoch state at head 1000: tempo 10, last epoch at 995, index 7, 5 blocks since the step.
/// The commit lands in 1001 (epoch 7); the next epoch fires in 1005, which is the first block
/// whose pre-coinbase epoch is 7 + 1 (chain.md §6).
fn set_epoch_state(mock: &FinneyMock) {
    let set = |item: &str, v: u64| set_subnet(mock, item, Value::u128(v.into()));
    set("LastEpochBlock", 995);
    set("PendingEpochAt", 0);
    set("SubnetEpochIndex", 7);
    set("BlocksSinceLastStep", 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crv3_set_weights_sends_a_timelocked_commit_that_decrypts() {
    let Some((mock, client)) = start().await else {
        return;
    };
    let alice = signer("//Alice");
    add_subnet(&mock, 3);
    register(&mock, 0, &alice.account().0);
    set_hyperparams(&mock, true);
    set_epoch_state(&mock);

    // reveal_round = floor((now + (first_reveal 1005 + 3 - head 1000) * 12 - genesis) / 3);
    // pick `now` so that it is round 1000, whose real signature we have.
    let first_reveal = 1005u64;
    let ahead_secs = (first_reveal + 3 - START_BLOCK) * 12;
    let now = QUICKNET_GENESIS_TIME + 1000 * QUICKNET_PERIOD_SECS - ahead_secs;
    let outcome = client
        .set_weights_at_time(
            NETUID,
            &alice,
            &[(0, 1.0), (1, 0.5), (2, 0.0)],
            &WeightsOptions::default(),
            now,
        )
        .await
        .expect("commit");
    match &outcome {
        WeightsOutcome::Committed {
            uids,
            values,
            version_key,
            reveal_round,
            commit_epoch,
            reveal_epoch,
            first_reveal_block,
            included,
        } => {
            assert_eq!(uids, &[0, 1]);
            assert_eq!(values, &[65535, 32768]);
            assert_eq!(*version_key, 5, "raised to the chain's WeightsVersionKey");
            assert_eq!(*reveal_round, 1000);
            assert_eq!((*commit_epoch, *reveal_epoch), (7, 8));
            assert_eq!(*first_reveal_block, first_reveal);
            assert!(included.has_event("System.ExtrinsicSuccess"));
        }
        other => panic!("expected a commit, got {other:?}"),
    }

    let sent = mock.submitted();
    assert_eq!(sent.len(), 1);
    let tx = &sent[0];
    assert_eq!(tx.pallet, "SubtensorModule");
    // 424 has the mechanism variant, which is what the SDK sends (chain.md §1.4).
    assert_eq!(tx.call, "commit_timelocked_mechanism_weights");
    assert_eq!(tx.block, START_BLOCK + 1);
    assert_eq!(mock.head(), START_BLOCK + 1);
    assert_eq!(values::uint(tx.arg("netuid")), u128::from(NETUID));
    assert_eq!(values::uint(tx.arg("mecid")), 0);
    assert_eq!(values::uint(tx.arg("reveal_round")), 1000);
    assert_eq!(values::uint(tx.arg("commit_reveal_version")), 4);
    let mut address = vec![0u8];
    address.extend_from_slice(&alice.account().0);
    assert_eq!(tx.address, address, "signed by the hotkey");

    // The signature verifies (the mock checked it on receipt); one changed byte breaks it.
    assert_eq!(mock.verify(&tx.bytes), Ok(()));
    let mut tampered = tx.bytes.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert_eq!(mock.verify(&tampered), Err("bad signature".to_string()));

    let commit = values::bytes(tx.arg("commit"));
    let plain = decrypt_with_signature(&commit, &round_1000_sig()).expect("decrypts at round 1000");
    match decode_weights_payload(&plain).expect("payload") {
        DecodedWeightsPayload::Current(p) => {
            assert_eq!(p.hotkey_account(), Some(alice.account().0));
            assert_eq!(p.uids, vec![0, 1]);
            assert_eq!(p.values, vec![65535, 32768]);
            assert_eq!(p.version_key, 5);
        }
        other => panic!("legacy payload: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weights_without_commit_reveal_use_set_weights_and_respect_the_rate_limit() {
    let Some((mock, client)) = start().await else {
        return;
    };
    let alice = signer("//Alice");
    add_subnet(&mock, 3);
    register(&mock, 0, &alice.account().0);
    set_hyperparams(&mock, false);
    // Last update 10 blocks ago with a limit of 50: refused before anything is sent.
    set_subnet(&mock, "LastUpdate", u_vec(&[START_BLOCK - 10]));
    match client
        .set_weights(NETUID, &alice, &[(1, 1.0)], &WeightsOptions::default())
        .await
    {
        Err(ChainError::RateLimited { blocks_left: 40 }) => {}
        other => panic!("expected RateLimited(40), got {other:?}"),
    }
    assert!(mock.submitted().is_empty());

    set_subnet(&mock, "LastUpdate", u_vec(&[START_BLOCK - 60]));
    let opts = WeightsOptions {
        version_key: Some(9),
        block_time_secs: None,
    };
    let outcome = client
        .set_weights(NETUID, &alice, &[(1, 2.0), (2, 1.0)], &opts)
        .await
        .expect("set_weights");
    assert!(matches!(
        outcome,
        WeightsOutcome::Set { version_key: 9, .. }
    ));
    let tx = &mock.submitted()[0];
    assert_eq!(
        (tx.pallet.as_str(), tx.call.as_str()),
        ("SubtensorModule", "set_weights")
    );
    let nums = |name: &str| -> Vec<u128> {
        values::items(tx.arg(name))
            .into_iter()
            .map(values::uint)
            .collect()
    };
    assert_eq!(nums("dests"), vec![1, 2]);
    assert_eq!(nums("weights"), vec![65535, 32768]);
    assert_eq!(values::uint(tx.arg("version_key")), 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reveal_commitment_is_a_timelocked_field_for_the_round() {
    let Some((mock, client)) = start().await else {
        return;
    };
    let alice = signer("//Alice");
    assert!(client.data_has_variant("TimelockEncrypted"));
    assert!(client.data_has_variant("BigRaw"));
    let text = r#"{"repo":"owner/name","cdn_url":"https://cdn.example/x.ply"}"#;
    // round = (now - genesis + 100 blocks * 12 s) / 3 = 1000
    let now = QUICKNET_GENESIS_TIME + 3000 - 100 * 12;
    let (included, round) = client
        .set_reveal_commitment_at_time(NETUID, &alice, text, 100, now)
        .await
        .expect("reveal commitment");
    assert_eq!(round, 1000);
    assert!(included.has_event("System.ExtrinsicSuccess"));

    let tx = &mock.submitted()[0];
    assert_eq!(
        (tx.pallet.as_str(), tx.call.as_str()),
        ("Commitments", "set_commitment")
    );
    assert_eq!(values::uint(tx.arg("netuid")), u128::from(NETUID));
    let fields = values::list(values::field(tx.arg("info"), "fields"));
    assert_eq!(fields.len(), 1);
    assert_eq!(values::variant_name(fields[0]), "TimelockEncrypted");
    assert_eq!(values::uint(values::field(fields[0], "reveal_round")), 1000);
    let encrypted = values::bytes(values::field(fields[0], "encrypted"));
    let plain = decrypt_with_signature(&encrypted, &round_1000_sig()).expect("decrypts");
    assert_eq!(
        decode_revealed_commitment(&plain).expect("SCALE string"),
        text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commitments_and_revealed_commitments_decode_424_values() {
    let Some((mock, client)) = start().await else {
        return;
    };
    let (hk_a, hk_b) = ([0xa1u8; 32], [0xb2u8; 32]);
    // CommitmentOf(17, a) = Registration { deposit 0, block 5, info { fields: [Raw5("hello")] } }
    let reg_ty = mock.storage_ty("Commitments", "CommitmentOf");
    let info_ty = values::field_ty(mock.types(), reg_ty, "info");
    let fields_ty = values::field_ty(mock.types(), info_ty, "fields");
    let data_ty = values::inner_ty(
        mock.types(),
        values::single_field_or_self(mock.types(), fields_ty),
    );
    values::variant_fields(mock.types(), data_ty, "Raw5");
    let reg = values::fill(
        mock.types(),
        reg_ty,
        vec![
            ("deposit", Value::u128(0)),
            ("block", Value::u128(5)),
            (
                "info",
                Value::named_composite([(
                    "fields",
                    Value::unnamed_composite([Value::unnamed_variant(
                        "Raw5",
                        [Value::from_bytes(b"hello")],
                    )]),
                )]),
            ),
        ],
    );
    mock.set(
        "Commitments",
        "CommitmentOf",
        vec![nu(), values::account(&hk_a)],
        &reg,
    );
    let head = client.head().await.expect("head");
    let regs = client.commitments(NETUID, head).await.expect("commitments");
    assert_eq!(regs.len(), 1);
    assert_eq!(regs[0].hotkey, Account(hk_a));
    assert_eq!(regs[0].block, 5);
    assert_eq!(regs[0].fields, vec![Data::Raw(b"hello".to_vec())]);
    let one = client
        .commitment_of(NETUID, &Account(hk_a), head)
        .await
        .expect("commitment_of");
    assert_eq!(one.as_ref(), Some(&regs[0]));
    assert_eq!(
        client
            .commitment_of(NETUID, &Account(hk_b), head)
            .await
            .expect("commitment_of"),
        None
    );

    // RevealedCommitments: Vec<(plaintext, reveal block)>, plaintext = SCALE(String).
    let repo = r#"{"repo":"owner/name","cdn_url":"https://cdn.example/a.ply"}"#;
    let sha = r#"{"commit":"0123456789abcdef0123456789abcdef01234567"}"#;
    let entries = |list: &[(&str, u64)]| {
        Value::unnamed_composite(list.iter().map(|(text, block)| {
            Value::unnamed_composite([
                Value::from_bytes(text.to_string().encode()),
                Value::u128((*block).into()),
            ])
        }))
    };
    mock.set(
        "Commitments",
        "RevealedCommitments",
        vec![nu(), values::account(&hk_a)],
        &entries(&[(sha, 700), (repo, 800)]),
    );
    mock.set(
        "Commitments",
        "RevealedCommitments",
        vec![nu(), values::account(&hk_b)],
        &entries(&[(repo, 810)]),
    );
    // Another subnet's entry must not show up.
    mock.set(
        "Commitments",
        "RevealedCommitments",
        vec![Value::u128(18), values::account(&hk_b)],
        &entries(&[(sha, 1)]),
    );
    let mut revealed = client
        .revealed_commitments(NETUID, head)
        .await
        .expect("revealed");
    revealed.sort_by_key(|r| r.hotkey);
    assert_eq!(revealed.len(), 2);
    assert_eq!(revealed[0].hotkey, Account(hk_a));
    let a: Vec<(&str, u64)> = revealed[0]
        .entries
        .iter()
        .map(|e| (e.text.as_str(), e.block))
        .collect();
    assert_eq!(a, vec![(sha, 700), (repo, 800)]);
    assert_eq!(revealed[1].entries[0].block, 810);
    match parse_404_commitment(&revealed[1].entries[0].text) {
        Ok(Commitment404 {
            repo: Some(repo), ..
        }) => assert_eq!(repo, "owner/name"),
        other => panic!("404 commitment: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coldkey_lock_decodes_the_typed_reply() {
    let Some((mock, client)) = start().await else {
        return;
    };
    assert!(client.has_coldkey_lock_api());
    let coldkey = [0xc0u8; 32];
    let out_ty = mock.api_output_ty("StakeInfoRuntimeApi", "get_coldkey_lock");
    let lock_ty = values::inner_ty(mock.types(), out_ty);
    let some = Value::unnamed_variant(
        "Some",
        [values::fill(
            mock.types(),
            lock_ty,
            vec![
                ("locked_mass", Value::u128(2_500_000_000)),
                ("last_update", Value::u128(990)),
            ],
        )],
    );
    let present = values::encode(mock.types(), out_ty, &some);
    let absent = values::encode(mock.types(), out_ty, &Value::unnamed_variant("None", []));
    mock.on_api(
        "StakeInfoRuntimeApi",
        "get_coldkey_lock",
        Box::new(
            move |args| match <([u8; 32], u16)>::decode(&mut &args[..]) {
                Ok((ck, NETUID)) if ck == coldkey => present.clone(),
                _ => absent.clone(),
            },
        ),
    );
    let head = client.head().await.expect("head");
    let lock = client
        .coldkey_lock(&Account(coldkey), NETUID, head)
        .await
        .expect("lock")
        .expect("has a lock");
    assert_eq!(lock.locked_mass, 2_500_000_000);
    assert_eq!(lock.last_update, 990);
    assert!((lock.locked_alpha() - 2.5).abs() < 1e-9);
    let none = client
        .coldkey_lock(&Account([1; 32]), NETUID, head)
        .await
        .expect("lock");
    assert_eq!(none, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatch_error_is_named_from_the_424_metadata() {
    let Some((mock, client)) = start().await else {
        return;
    };
    let alice = signer("//Alice");
    mock.fail_next_with("SubtensorModule", "InvalidIpType");
    let ip = std::net::IpAddr::from([8, 8, 8, 8]);
    match client.serve_axon(NETUID, &alice, ip, 8091, 1).await {
        Err(ChainError::Dispatch { pallet, error, .. }) => {
            assert_eq!(
                (pallet.as_str(), error.as_str()),
                ("SubtensorModule", "InvalidIpType")
            );
        }
        other => panic!("expected a dispatch error, got {other:?}"),
    }
    let tx = &mock.submitted()[0];
    assert_eq!(tx.call, "serve_axon");
    assert_eq!(values::uint(tx.arg("ip")), 0x0808_0808);
    assert_eq!(values::uint(tx.arg("port")), 8091);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transaction_never_finalised_is_a_typed_timeout() {
    let Some((mock, client)) = start().await else {
        return;
    };
    mock.set_finalize(false);
    let call = sn17_chain::calls::set_commitment(NETUID, vec![]);
    let timeout = Duration::from_millis(1500);
    match client
        .submit_with_timeout(&call, &signer("//Alice"), timeout)
        .await
    {
        Err(ChainError::NotFinalized { call, timeout: t }) => {
            assert_eq!(call, "Commitments.set_commitment");
            assert_eq!(t, timeout);
        }
        other => panic!("expected NotFinalized, got {other:?}"),
    }
    assert_eq!(mock.submitted().len(), 1, "it was sent and included");
}
