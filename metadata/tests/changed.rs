//! "changed" on real metadata: the finney-424 file with one storage item's value type swapped
//! (as a runtime upgrade that widens a type would) must report exactly that item as changed,
//! breaking, and the runtime as incompatible; everything else stays ok.

use codec::{Decode, Encode};
use frame_metadata::v16::StorageEntryType;
use frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed};
use scale_info::{TypeDef, TypeDefPrimitive};
use sn17_metadata::{decode_metadata_full, ItemKind, Status};

const FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/chain-metadata/finney-spec424-v16.scale"
);

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
    let Ok(bytes) = std::fs::read(FILE) else {
        println!("SKIPPED: {FILE} not readable; this test needs ../shared");
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
    let table = sn17_metadata::render_table(&report);
    let row = table
        .lines()
        .find(|l| l.contains("SubtensorModule.Tempo"))
        .expect("Tempo row");
    assert!(row.starts_with("changed"), "{row}");
}
