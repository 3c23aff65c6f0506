//! The shape-matching rules on a small hand-made type registry.

use scale_info::{
    build::{Fields, Variants},
    MetaType, Path, PortableRegistry, Registry, Type, TypeInfo,
};
use sn17_metadata::matcher::{match_args, match_shape};
use sn17_metadata::shape::{field, variant, Field, Shape, VariantSpec};

struct NetUid;
impl TypeInfo for NetUid {
    type Identity = Self;
    fn type_info() -> Type {
        Type::builder()
            .path(Path::new("NetUid", "subtensor_runtime_common"))
            .composite(Fields::unnamed().field(|f| f.ty::<u16>()))
    }
}

struct AccountId32;
impl TypeInfo for AccountId32 {
    type Identity = Self;
    fn type_info() -> Type {
        Type::builder()
            .path(Path::new("AccountId32", "sp_core::crypto"))
            .composite(Fields::unnamed().field(|f| f.ty::<[u8; 32]>()))
    }
}

struct BoundedBytes;
impl TypeInfo for BoundedBytes {
    type Identity = Self;
    fn type_info() -> Type {
        Type::builder()
            .path(Path::new("BoundedVec", "bounded_collections"))
            .composite(Fields::unnamed().field(|f| f.ty::<Vec<u8>>()))
    }
}

/// `struct Axon { block: u64, port: u16, extra: bool }`.
struct Axon;
impl TypeInfo for Axon {
    type Identity = Self;
    fn type_info() -> Type {
        Type::builder()
            .path(Path::new("Axon", "pallet_subtensor"))
            .composite(
                Fields::named()
                    .field(|f| f.ty::<u64>().name("block"))
                    .field(|f| f.ty::<u16>().name("port"))
                    .field(|f| f.ty::<bool>().name("extra")),
            )
    }
}

/// `enum Data { None, Raw0([u8; 0]), Raw1([u8; 1]), Raw2([u8; 2]), Locked { bytes: BoundedBytes, round: u64 } }`.
struct Data;
impl TypeInfo for Data {
    type Identity = Self;
    fn type_info() -> Type {
        Type::builder()
            .path(Path::new("Data", "pallet_commitments"))
            .variant(
                Variants::new()
                    .variant("None", |v| v.index(0))
                    .variant("Raw0", |v| {
                        v.index(1)
                            .fields(Fields::unnamed().field(|f| f.ty::<[u8; 0]>()))
                    })
                    .variant("Raw1", |v| {
                        v.index(2)
                            .fields(Fields::unnamed().field(|f| f.ty::<[u8; 1]>()))
                    })
                    .variant("Raw2", |v| {
                        v.index(3)
                            .fields(Fields::unnamed().field(|f| f.ty::<[u8; 2]>()))
                    })
                    .variant("Locked", |v| {
                        v.index(4).fields(
                            Fields::named()
                                .field(|f| f.ty::<BoundedBytes>().name("bytes"))
                                .field(|f| f.ty::<u64>().name("round")),
                        )
                    }),
            )
    }
}

/// Registers `T` and returns the registry with its id.
fn registry_with<T: TypeInfo + 'static>() -> (PortableRegistry, u32) {
    let mut registry = Registry::new();
    let id = registry.register_type(&MetaType::new::<T>()).id;
    (registry.into(), id)
}

fn matches<T: TypeInfo + 'static>(shape: Shape) -> Result<(), String> {
    let (types, id) = registry_with::<T>();
    match_shape(&types, id, &shape).map_err(|m| m.to_string())
}

#[test]
fn newtypes_are_transparent() {
    assert_eq!(matches::<NetUid>(Shape::U16), Ok(()));
    assert_eq!(matches::<AccountId32>(Shape::AccountId32), Ok(()));
    assert_eq!(matches::<[u8; 32]>(Shape::AccountId32), Ok(()));
    assert_eq!(matches::<BoundedBytes>(Shape::Bytes), Ok(()));
    assert_eq!(matches::<Vec<NetUid>>(Shape::Vec(&Shape::U16)), Ok(()));
    assert!(matches::<NetUid>(Shape::U64).is_err());
    assert!(matches::<[u8; 31]>(Shape::AccountId32).is_err());
}

#[test]
fn primitives_compacts_options_tuples_are_exact() {
    assert!(matches::<u16>(Shape::Compact(&Shape::U16)).is_err());
    assert!(matches::<codec::Compact<u16>>(Shape::U16).is_err());
    assert_eq!(
        matches::<codec::Compact<u64>>(Shape::Compact(&Shape::U64)),
        Ok(())
    );
    assert_eq!(
        matches::<Option<NetUid>>(Shape::Option(&Shape::U16)),
        Ok(())
    );
    assert!(matches::<Option<u16>>(Shape::U16).is_err());
    assert_eq!(
        matches::<Vec<(u16, u16)>>(Shape::Vec(&Shape::Tuple(&[Shape::U16, Shape::U16]))),
        Ok(())
    );
    assert!(matches::<(u16, u16, u16)>(Shape::Tuple(&[Shape::U16, Shape::U16])).is_err());
    assert!(matches::<Vec<u16>>(Shape::Bytes).is_err());
    assert_eq!(matches::<u32>(Shape::Any), Ok(()));
}

#[test]
fn composites_allow_extra_fields_and_report_the_path() {
    const NEEDED: Shape =
        Shape::Composite(&[field("port", Shape::U16), field("block", Shape::U64)]);
    assert_eq!(matches::<Axon>(NEEDED), Ok(()));
    const WRONG: Shape = Shape::Composite(&[field("port", Shape::U32)]);
    assert_eq!(
        matches::<Axon>(WRONG),
        Err("at `port`: expected u32, found u16".to_string())
    );
    const ABSENT: Shape = Shape::Composite(&[field("ip", Shape::U128)]);
    assert_eq!(
        matches::<Axon>(ABSENT),
        Err("at `ip`: expected u128, found no such field".to_string())
    );
    const NESTED: Shape = Shape::Vec(&Shape::Option(&Shape::Composite(&[field(
        "block",
        Shape::U32,
    )])));
    assert_eq!(
        matches::<Vec<Option<Axon>>>(NESTED),
        Err("at `[].?.block`: expected u32, found u64".to_string())
    );
}

#[test]
fn variants_and_families() {
    const FAMILY: &[VariantSpec] = &[
        variant("None", &[]),
        VariantSpec::ByteArrayFamily {
            prefix: "Raw",
            max: 2,
        },
    ];
    assert_eq!(matches::<Data>(Shape::Variant(FAMILY)), Ok(()));
    const TOO_LONG: &[VariantSpec] = &[VariantSpec::ByteArrayFamily {
        prefix: "Raw",
        max: 3,
    }];
    assert_eq!(
        matches::<Data>(Shape::Variant(TOO_LONG)),
        Err("at `Raw3`: expected Raw3([u8; 3]), found no such variant".to_string())
    );
    const LOCKED: &[VariantSpec] = &[variant(
        "Locked",
        &[field("round", Shape::U64), field("bytes", Shape::Bytes)],
    )];
    assert_eq!(matches::<Data>(Shape::Variant(LOCKED)), Ok(()));
    const LOCKED_WRONG: &[VariantSpec] = &[variant("Locked", &[field("round", Shape::U32)])];
    assert!(matches::<Data>(Shape::Variant(LOCKED_WRONG)).is_err());
}

#[test]
fn argument_lists() {
    let mut registry = Registry::new();
    let netuid = registry.register_type(&MetaType::new::<NetUid>()).id;
    let hotkey = registry.register_type(&MetaType::new::<AccountId32>()).id;
    let types: PortableRegistry = registry.into();
    let args = vec![
        ("netuid".to_string(), netuid),
        ("hotkey".to_string(), hotkey),
    ];
    const WANT: &[Field] = &[
        field("netuid", Shape::U16),
        field("hotkey", Shape::AccountId32),
    ];
    const RENAMED: &[Field] = &[
        field("subnet", Shape::U16),
        field("hotkey", Shape::AccountId32),
    ];
    const SHORT: &[Field] = &[field("netuid", Shape::U16)];
    assert_eq!(match_args(&types, &args, WANT, true), Ok(()));
    assert!(match_args(&types, &args, RENAMED, true).is_err());
    assert_eq!(match_args(&types, &args, RENAMED, false), Ok(()));
    assert!(match_args(&types, &args, SHORT, true).is_err());
}
