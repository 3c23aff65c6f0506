//! Compatibility checks against the real metadata files in
//! `../shared/chain-metadata` (skipped, with a message, when absent), and the
//! decoding errors.

use std::collections::BTreeSet;
use std::time::Instant;

use codec::{Decode, Encode};
use frame_metadata::v16::StorageEntryType;
use frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed};
use scale_info::{TypeDef, TypeDefPrimitive};

use sn17_metadata::{
    check, decode_metadata, decode_metadata_full, render_table, Envelope, ItemKind, MetadataError,
    Report, Status, MAX_METADATA_BYTES,
};

const METADATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/chain-metadata");

/// The bytes of a metadata file, or `None` (with a printed message) when the
/// shared directory is not there.
fn load(name: &str) -> Option<Vec<u8>> {
    let path = format!("{METADATA_DIR}/{name}");
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            println!("SKIPPED: metadata file {path} not readable ({e}); this test needs ../shared");
            None
        }
    }
}

fn report_for(name: &str, version: u8, spec: u32) -> Option<Report> {
    let bytes = load(name)?;
    let decoded = match decode_metadata_full(&bytes) {
        Ok(d) => d,
        Err(e) => panic!("{name}: {e}"),
    };
    assert_eq!(decoded.version, version, "{name}: metadata version");
    assert_eq!(decoded.envelope, Envelope::Prefixed);
    assert!(!decoded.from_hex);
    let report = decoded.check();
    assert_eq!(report.metadata_version, Some(version));
    let found_spec = report.spec.as_ref().map(|s| s.spec_version);
    assert_eq!(found_spec, Some(spec), "{name}: spec_version");
    assert_eq!(
        report.spec.as_ref().map(|s| s.spec_name.as_str()),
        Some("node-subtensor")
    );
    println!("{}", render_table(&report));
    Some(report)
}

fn labels(report: &Report, status: &str) -> BTreeSet<String> {
    report.labels_with_status(status).into_iter().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Every required item is present in exactly the expected form.
fn assert_required_exact(report: &Report) {
    for item in report.items.iter().filter(|i| i.required) {
        assert_eq!(
            item.status,
            Status::Ok,
            "{}: {:?}",
            item.label(),
            item.notes
        );
    }
    assert!(report.summary.compatible);
    assert!(report.summary.required_failures.is_empty());
}

/// Missing in finney 393 and devnet 381 (no stateful epochs yet, no
/// register_limit, no conviction lock).
const MISSING_393: &[&str] = &[
    "storage SubtensorModule.LastEpochBlock",
    "storage SubtensorModule.PendingEpochAt",
    "storage SubtensorModule.SubnetEpochIndex",
    "call SubtensorModule.register_limit",
    "api SubnetInfoRuntimeApi.get_next_epoch_start_block",
    "api StakeInfoRuntimeApi.get_coldkey_lock",
];

/// What spec 218 (raonet, Feb 2025) lacks, apart from runtime APIs.
const MISSING_218_NON_API: &[&str] = &[
    "storage SubtensorModule.CommitRevealWeightsVersion",
    "storage SubtensorModule.LastEpochBlock",
    "storage SubtensorModule.PendingEpochAt",
    "storage SubtensorModule.SubnetEpochIndex",
    "storage SubtensorModule.TimelockedWeightCommits",
    "storage Commitments.RevealedCommitments",
    "storage Commitments.TimelockedIndex",
    "storage Commitments.MaxSpace",
    "storage Drand.Pulses",
    "storage Drand.LastStoredRound",
    "call SubtensorModule.set_mechanism_weights",
    "call SubtensorModule.commit_timelocked_weights",
    "call SubtensorModule.commit_timelocked_mechanism_weights",
    "call SubtensorModule.register_limit",
    "call AdminUtils.sudo_set_stake_threshold",
    "type Commitments.Data::TimelockEncrypted",
    "type Commitments.Data::BigRaw",
];

/// Runtime API methods spec 218 lacks (visible in its V15 metadata only).
const MISSING_218_API: &[&str] = &[
    "api SubnetInfoRuntimeApi.get_metagraph",
    "api SubnetInfoRuntimeApi.get_selective_metagraph",
    "api SubnetInfoRuntimeApi.get_next_epoch_start_block",
    "api StakeInfoRuntimeApi.get_coldkey_lock",
];

#[test]
fn finney_424_everything_ok() {
    let Some(report) = report_for("finney-spec424-v16.scale", 16, 424) else {
        return;
    };
    assert_required_exact(&report);
    let not_ok: Vec<String> = report
        .items
        .iter()
        .filter(|i| i.status != Status::Ok)
        .map(|i| i.label())
        .collect();
    assert!(not_ok.is_empty(), "not ok on 424: {not_ok:?}");
    assert_eq!(report.summary.ok, report.summary.total);

    let caps = report.capabilities;
    for (name, on) in caps.flags() {
        let expected = !matches!(
            name,
            "neuron_api_returns_bytes" | "register_network_takes_mechid"
        );
        assert_eq!(on, expected, "capability {name}");
    }
}

#[test]
fn finney_393_required_ok_and_exact_missing() {
    let Some(report) = report_for("finney-spec393-v16.scale", 16, 393) else {
        return;
    };
    assert_required_exact(&report);
    assert_eq!(labels(&report, "missing"), set(MISSING_393));
    assert!(labels(&report, "changed").is_empty());
    assert!(labels(&report, "alternative").is_empty());
    let caps = report.capabilities;
    assert!(caps.has_timelocked_mechanism_weights && caps.has_timelocked_commitments);
    assert!(caps.has_selective_metagraph && !caps.neuron_api_returns_bytes);
    assert!(!caps.has_stateful_epochs && !caps.has_coldkey_lock_api && !caps.has_register_limit);
}

#[test]
fn devnet_381_same_gaps_as_finney_393() {
    let Some(report) = report_for("devnet-spec381-v16.scale", 16, 381) else {
        return;
    };
    assert_required_exact(&report);
    assert_eq!(labels(&report, "missing"), set(MISSING_393));
    assert_eq!(report.summary.ok + MISSING_393.len(), report.summary.total);
}

#[test]
fn devnet_240_has_drand_but_no_timelocked_commits() {
    let Some(report) = report_for("devnet-spec240-v15.scale", 15, 240) else {
        return;
    };
    assert_required_exact(&report);
    let mut expected: BTreeSet<String> = set(MISSING_218_NON_API);
    // Spec 240 already has the Drand pallet and AdminUtils.sudo_set_stake_threshold …
    for present in [
        "storage Drand.Pulses",
        "storage Drand.LastStoredRound",
        "call AdminUtils.sudo_set_stake_threshold",
    ] {
        expected.remove(present);
    }
    // … typed metagraph APIs, but no selective metagraph yet.
    expected.extend(set(&[
        "api SubnetInfoRuntimeApi.get_selective_metagraph",
        "api SubnetInfoRuntimeApi.get_next_epoch_start_block",
        "api StakeInfoRuntimeApi.get_coldkey_lock",
    ]));
    assert_eq!(labels(&report, "missing"), expected);
    assert!(labels(&report, "alternative").is_empty());
    let caps = report.capabilities;
    assert!(caps.has_drand && caps.has_metagraph_api);
    assert!(!caps.has_timelocked_weights && !caps.has_timelocked_commitments);
    assert!(!caps.neuron_api_returns_bytes && !caps.register_network_takes_mechid);
}

#[test]
fn raonet_218_v15_lacks_exactly() {
    let Some(report) = report_for("raonet-spec218-v15.scale", 15, 218) else {
        return;
    };
    let mut expected = set(MISSING_218_NON_API);
    expected.extend(set(MISSING_218_API));
    assert_eq!(labels(&report, "missing"), expected);
    assert_eq!(
        labels(&report, "alternative"),
        set(&[
            "call SubtensorModule.register_network",
            "api NeuronInfoRuntimeApi.get_neurons_lite",
            "api NeuronInfoRuntimeApi.get_neuron_lite",
            "api SubnetInfoRuntimeApi.get_dynamic_info",
        ])
    );
    assert!(labels(&report, "changed").is_empty());
    assert!(labels(&report, "unknown").is_empty());
    // Everything required is usable: the neuron API through its opaque bytes.
    assert!(
        report.summary.compatible,
        "{:?}",
        report.summary.required_failures
    );
    let neurons = report
        .item(
            ItemKind::RuntimeApi,
            "NeuronInfoRuntimeApi",
            "get_neurons_lite",
        )
        .map(|i| i.status.clone());
    assert!(
        matches!(&neurons, Some(Status::Alternative { label, found, .. })
            if label == "opaque Vec<u8>" && found == "(netuid: u16) -> Vec<u8>"),
        "{neurons:?}"
    );
    let caps = report.capabilities;
    assert!(caps.runtime_apis_described && caps.neuron_api_returns_bytes);
    assert!(caps.register_network_takes_mechid && caps.has_subnet_owner_hotkey);
    assert!(!caps.has_drand && !caps.has_timelocked_weights && !caps.has_mechanism_weights);
    assert!(!caps.has_timelocked_commitments && !caps.has_big_raw_commitments);
    assert!(!caps.has_metagraph_api && !caps.has_selective_metagraph);
    assert!(!caps.has_coldkey_lock_api && !caps.has_register_limit && !caps.has_stateful_epochs);
}

#[test]
fn raonet_218_v14_lacks_exactly_and_cannot_tell_apis() {
    let Some(report) = report_for("raonet-spec218-v14.scale", 14, 218) else {
        return;
    };
    assert_eq!(labels(&report, "missing"), set(MISSING_218_NON_API));
    let apis: BTreeSet<String> = report
        .items
        .iter()
        .filter(|i| i.kind == ItemKind::RuntimeApi)
        .map(|i| i.label())
        .collect();
    assert_eq!(labels(&report, "unknown"), apis);
    assert_eq!(
        labels(&report, "alternative"),
        set(&["call SubtensorModule.register_network"])
    );
    assert!(report.summary.compatible);
    assert_eq!(
        report.summary.required_unknown,
        vec![
            "api NeuronInfoRuntimeApi.get_neurons_lite".to_string(),
            "api AccountNonceApi.account_nonce".to_string(),
        ]
    );
    assert!(!report.capabilities.runtime_apis_described);
    assert!(render_table(&report).contains("not verifiable from this metadata"));
}

#[test]
fn raonet_218_v14_and_v15_agree_outside_runtime_apis() {
    let (Some(v14), Some(v15)) = (
        report_for("raonet-spec218-v14.scale", 14, 218),
        report_for("raonet-spec218-v15.scale", 15, 218),
    ) else {
        return;
    };
    let outside = |r: &Report| {
        r.items
            .iter()
            .filter(|i| i.kind != ItemKind::RuntimeApi)
            .map(|i| (i.label(), i.status.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(outside(&v14), outside(&v15));
}

#[test]
fn report_json_round_trips_and_table_renders() {
    let Some(report) = report_for("raonet-spec218-v15.scale", 15, 218) else {
        return;
    };
    let json = match report.to_json() {
        Ok(j) => j,
        Err(e) => panic!("serialize: {e}"),
    };
    let value: serde_json::Value = match serde_json::from_str(&json) {
        Ok(v) => v,
        Err(e) => panic!("parse: {e}"),
    };
    assert_eq!(
        value["summary"]["compatible"],
        serde_json::Value::Bool(true)
    );
    assert_eq!(value["capabilities"]["neuron_api_returns_bytes"], true);
    assert_eq!(value["spec"]["spec_version"], 218);
    let drand = value["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["name"] == "Pulses"));
    assert_eq!(drand.map(|d| d["status"].clone()), Some("missing".into()));
    let back: Report = match serde_json::from_str(&json) {
        Ok(r) => r,
        Err(e) => panic!("deserialize: {e}"),
    };
    assert_eq!(back, report);

    let table = render_table(&report);
    assert_eq!(
        table.lines().filter(|l| l.starts_with("missing ")).count(),
        21
    );
    assert!(table.contains("compatible: yes"));
    assert!(table.contains("Runtime node-subtensor spec 218"));
}

#[test]
fn check_without_version_and_envelopes() {
    let Some(bytes) = load("finney-spec424-v16.scale") else {
        return;
    };
    let started = Instant::now();
    let metadata = match decode_metadata(&bytes) {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    };
    println!("decoded {} bytes in {:?}", bytes.len(), started.elapsed());
    let plain = check(&metadata);
    assert_eq!(plain.metadata_version, None);
    assert!(plain.summary.compatible);

    // OpaqueMetadata (Metadata_metadata) and Option<OpaqueMetadata>
    // (Metadata_metadata_at_version) wrappings.
    let mut opaque = codec::Encode::encode(&codec::Compact(bytes.len() as u32));
    opaque.extend_from_slice(&bytes);
    let mut some = vec![1u8];
    some.extend_from_slice(&opaque);
    for (input, envelope) in [(&opaque, Envelope::Opaque), (&some, Envelope::OptionOpaque)] {
        let decoded = match decode_metadata_full(input) {
            Ok(d) => d,
            Err(e) => panic!("{envelope:?}: {e}"),
        };
        assert_eq!(decoded.envelope, envelope);
        assert_eq!(decoded.check(), {
            let mut r = plain.clone();
            r.metadata_version = Some(16);
            r
        });
    }
    assert_eq!(
        decode_metadata(&[0]).map(|_| ()),
        Err(MetadataError::VersionNotAvailable)
    );

    // The same as JSON-RPC hex text.
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let text = format!("\"0x{hex}\"\n");
    let decoded = match decode_metadata_full(text.as_bytes()) {
        Ok(d) => d,
        Err(e) => panic!("hex: {e}"),
    };
    assert!(decoded.from_hex);
    assert_eq!(decoded.spec.map(|s| s.spec_version), Some(424));
    assert!(matches!(
        decode_metadata(b"0x6d65746g"),
        Err(MetadataError::InvalidHex(_))
    ));
}

#[test]
fn truncated_and_corrupted_metadata_give_named_errors() {
    let Some(bytes) = load("finney-spec424-v16.scale") else {
        return;
    };
    for len in [5, 1000, bytes.len() / 2, bytes.len() - 1] {
        let err = decode_metadata(&bytes[..len]).map(|_| ()).err();
        assert!(
            matches!(err, Some(MetadataError::Corrupt { version: 16, .. })),
            "truncated to {len}: {err:?}"
        );
    }
    assert_eq!(
        decode_metadata(&bytes[..3]).map(|_| ()),
        Err(MetadataError::Truncated { len: 3 })
    );

    // Garbage where the type registry starts.
    let mut corrupted = bytes.clone();
    corrupted[5..69].fill(0xff);
    let err = decode_metadata(&corrupted).map(|_| ()).err();
    assert!(
        matches!(err, Some(MetadataError::Corrupt { version: 16, .. })),
        "{err:?}"
    );

    // Bytes after a complete metadata value.
    let mut trailing = bytes.clone();
    trailing.extend_from_slice(&[0, 1, 2]);
    assert_eq!(
        decode_metadata(&trailing).map(|_| ()),
        Err(MetadataError::TrailingBytes {
            version: 16,
            extra: 3
        })
    );

    // An opaque wrapping whose length prefix disagrees (truncated download).
    let mut short = codec::Encode::encode(&codec::Compact(bytes.len() as u32));
    short.extend_from_slice(&bytes[..bytes.len() - 10]);
    assert!(matches!(
        decode_metadata(&short),
        Err(MetadataError::Corrupt { version: 16, .. })
    ));

    // Unsupported versions.
    let mut v13 = bytes.clone();
    v13[4] = 13;
    assert_eq!(
        decode_metadata(&v13).map(|_| ()),
        Err(MetadataError::UnsupportedVersion(13))
    );
}

#[test]
fn non_metadata_gives_named_errors() {
    assert_eq!(decode_metadata(b"").map(|_| ()), Err(MetadataError::Empty));
    assert_eq!(
        decode_metadata(b"{\"jsonrpc\":\"2.0\"}").map(|_| ()),
        Err(MetadataError::NotMetadata)
    );
    let readme = load("README.md").unwrap_or_else(|| b"# not metadata".to_vec());
    assert_eq!(
        decode_metadata(&readme).map(|_| ()),
        Err(MetadataError::NotMetadata)
    );
    let too_large = vec![0u8; MAX_METADATA_BYTES + 1];
    assert_eq!(
        decode_metadata(&too_large).map(|_| ()),
        Err(MetadataError::TooLarge {
            size: MAX_METADATA_BYTES + 1,
            limit: MAX_METADATA_BYTES
        })
    );
}

/// The 424 metadata with `SubtensorModule.<item>`'s value type replaced by `new_value`.
fn with_value_type(bytes: &[u8], item: &str, new_value: TypeDefPrimitive) -> Vec<u8> {
    let RuntimeMetadataPrefixed(magic, RuntimeMetadata::V16(mut md)) =
        RuntimeMetadataPrefixed::decode(&mut &bytes[..]).expect("424 decodes")
    else {
        panic!("424 is V16");
    };
    let new_id = md
        .types
        .types
        .iter()
        .find(|t| {
            t.ty.path.segments.is_empty() && t.ty.type_def == TypeDef::Primitive(new_value.clone())
        })
        .map(|t| t.id)
        .expect("the registry has the primitive");
    let entry = md
        .pallets
        .iter_mut()
        .find(|p| p.name == "SubtensorModule")
        .and_then(|p| p.storage.as_mut())
        .and_then(|s| s.entries.iter_mut().find(|e| e.name == item))
        .expect("the storage item exists");
    match &mut entry.ty {
        StorageEntryType::Map { value, .. } | StorageEntryType::Plain(value) => {
            *value = new_id.into();
        }
    }
    RuntimeMetadataPrefixed(magic, RuntimeMetadata::V16(md)).encode()
}

#[test]
fn a_widened_storage_type_is_reported_changed() {
    // (A runtime upgrade that widens a type: exactly that item is changed and breaking, the
    // runtime incompatible, everything else still ok.)
    let Some(bytes) = load("finney-spec424-v16.scale") else {
        return;
    };
    let before = decode_metadata_full(&bytes).expect("decodes").check();
    assert!(before.summary.compatible);
    assert_eq!(before.summary.changed, 0);

    // Tempo: u16 → u64.
    let mutated = with_value_type(&bytes, "Tempo", TypeDefPrimitive::U64);
    let report = decode_metadata_full(&mutated).expect("decodes").check();
    let tempo = report
        .item(ItemKind::Storage, "SubtensorModule", "Tempo")
        .expect("Tempo is checked");
    match &tempo.status {
        Status::Changed {
            expected,
            found,
            breaking,
        } => {
            assert!(*breaking, "a different integer width cannot be read");
            assert!(expected.contains("u16"), "{expected}");
            assert!(found.contains("u64"), "{found}");
        }
        other => panic!("Tempo: expected changed, got {other:?}"),
    }
    assert_eq!(report.summary.changed, 1, "only Tempo changed");
    assert_eq!(report.summary.ok, before.summary.ok - 1);
    assert!(!report.is_compatible());
    assert_eq!(
        report.summary.required_failures,
        vec!["storage SubtensorModule.Tempo".to_string()]
    );
    let table = render_table(&report);
    let row = table
        .lines()
        .find(|l| l.contains("SubtensorModule.Tempo"))
        .expect("Tempo row");
    assert!(row.starts_with("changed"), "{row}");
}
