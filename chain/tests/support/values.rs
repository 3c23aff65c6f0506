//! Building and reading `scale_value` values against a real runtime's type registry, so the mock
//! node serves exactly the shapes that runtime has (a field renamed in the metadata makes these
//! helpers panic, which is the point).

use scale_encode::EncodeAsType;
use scale_info::{Field, PortableRegistry, TypeDef, TypeDefPrimitive};
use scale_value::{Composite, Value, ValueDef};

fn resolve(types: &PortableRegistry, id: u32) -> &scale_info::Type<scale_info::form::PortableForm> {
    types
        .resolve(id)
        .unwrap_or_else(|| panic!("type {id} not in the registry"))
}

/// The all-zero value of a type: zeros, false, empty sequences, the first enum variant.
pub fn zero(types: &PortableRegistry, id: u32) -> Value {
    zero_depth(types, id, 0)
}

fn zero_depth(types: &PortableRegistry, id: u32, depth: usize) -> Value {
    assert!(depth < 64, "type {id} nests too deeply for a zero value");
    match &resolve(types, id).type_def {
        TypeDef::Composite(c) => Value {
            value: ValueDef::Composite(zero_fields(types, &c.fields, depth)),
            context: (),
        },
        TypeDef::Variant(v) => {
            let first = v
                .variants
                .first()
                .unwrap_or_else(|| panic!("enum {id} has no variants"));
            Value::variant(first.name.clone(), zero_fields(types, &first.fields, depth))
        }
        TypeDef::Sequence(_) => Value::unnamed_composite(Vec::new()),
        TypeDef::Array(a) => Value::unnamed_composite(
            (0..a.len).map(|_| zero_depth(types, a.type_param.id, depth + 1)),
        ),
        TypeDef::Tuple(t) => {
            Value::unnamed_composite(t.fields.iter().map(|f| zero_depth(types, f.id, depth + 1)))
        }
        TypeDef::Primitive(p) => match p {
            TypeDefPrimitive::Bool => Value::bool(false),
            TypeDefPrimitive::Char => Value::char('\0'),
            TypeDefPrimitive::Str => Value::string(""),
            TypeDefPrimitive::I8
            | TypeDefPrimitive::I16
            | TypeDefPrimitive::I32
            | TypeDefPrimitive::I64
            | TypeDefPrimitive::I128
            | TypeDefPrimitive::I256 => Value::i128(0),
            _ => Value::u128(0),
        },
        TypeDef::Compact(_) => Value::u128(0),
        TypeDef::BitSequence(_) => panic!("bit sequences are not used by the mocked items"),
    }
}

fn zero_fields(
    types: &PortableRegistry,
    fields: &[Field<scale_info::form::PortableForm>],
    depth: usize,
) -> Composite<()> {
    if !fields.is_empty() && fields.iter().all(|f| f.name.is_some()) {
        Composite::Named(
            fields
                .iter()
                .map(|f| {
                    (
                        f.name.clone().unwrap_or_default(),
                        zero_depth(types, f.ty.id, depth + 1),
                    )
                })
                .collect(),
        )
    } else {
        Composite::Unnamed(
            fields
                .iter()
                .map(|f| zero_depth(types, f.ty.id, depth + 1))
                .collect(),
        )
    }
}

/// Named fields of the composite type `id`: (name, type id).
pub fn fields_of(types: &PortableRegistry, id: u32) -> Vec<(String, u32)> {
    match &resolve(types, id).type_def {
        TypeDef::Composite(c) => c
            .fields
            .iter()
            .map(|f| (f.name.clone().unwrap_or_default(), f.ty.id))
            .collect(),
        other => panic!("type {id} is not a composite: {other:?}"),
    }
}

/// Type id of field `name` of the composite type `id`.
pub fn field_ty(types: &PortableRegistry, id: u32, name: &str) -> u32 {
    fields_of(types, id)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, t)| t)
        .unwrap_or_else(|| panic!("type {id} has no field {name:?}"))
}

/// Variant `name` of the enum type `id`.
fn variant<'a>(
    types: &'a PortableRegistry,
    id: u32,
    name: &str,
) -> &'a scale_info::Variant<scale_info::form::PortableForm> {
    match &resolve(types, id).type_def {
        TypeDef::Variant(v) => v
            .variants
            .iter()
            .find(|var| var.name == name)
            .unwrap_or_else(|| panic!("enum {id} has no variant {name:?}")),
        other => panic!("type {id} is not an enum: {other:?}"),
    }
}

/// Field types of variant `name` of the enum type `id`.
pub fn variant_fields(types: &PortableRegistry, id: u32, name: &str) -> Vec<(Option<String>, u32)> {
    variant(types, id, name)
        .fields
        .iter()
        .map(|f| (f.name.clone(), f.ty.id))
        .collect()
}

/// Index of variant `name` in the enum type `id`.
pub fn variant_index(types: &PortableRegistry, id: u32, name: &str) -> u8 {
    variant(types, id, name).index
}

/// The element type of the sequence (or Option's `Some`) type `id`.
pub fn inner_ty(types: &PortableRegistry, id: u32) -> u32 {
    match &resolve(types, id).type_def {
        TypeDef::Sequence(s) => s.type_param.id,
        TypeDef::Variant(_) => variant_fields(types, id, "Some")[0].1,
        other => panic!("type {id} has no single inner type: {other:?}"),
    }
}

/// The wrapped type of a one-field composite (e.g. `BoundedVec<T>` → `Vec<T>`), else `id`.
pub fn single_field_or_self(types: &PortableRegistry, id: u32) -> u32 {
    match &resolve(types, id).type_def {
        TypeDef::Composite(c) if c.fields.len() == 1 => c.fields[0].ty.id,
        _ => id,
    }
}

/// `T` of an `Option<T>` type, else `id`.
pub fn option_inner_or_self(types: &PortableRegistry, id: u32) -> u32 {
    let ty = resolve(types, id);
    match &ty.type_def {
        TypeDef::Variant(_) if ty.path.segments.last().is_some_and(|s| s == "Option") => {
            variant_fields(types, id, "Some")[0].1
        }
        _ => id,
    }
}

/// A value of the named-composite type `id` with the given fields set and the rest zero.
/// Panics when a given name is not a field, so a renamed field shows up.
pub fn fill(types: &PortableRegistry, id: u32, set: Vec<(&str, Value)>) -> Value {
    let fields = fields_of(types, id);
    for (name, _) in &set {
        assert!(
            fields.iter().any(|(n, _)| n == name),
            "type {id} has no field {name:?}; it has {:?}",
            fields.iter().map(|(n, _)| n).collect::<Vec<_>>()
        );
    }
    let mut set: std::collections::HashMap<&str, Value> = set.into_iter().collect();
    Value::named_composite(fields.into_iter().map(|(name, ty)| {
        let v = set.remove(name.as_str()).unwrap_or_else(|| zero(types, ty));
        (name, v)
    }))
}

/// Variant `name` of the enum type `id` with zero fields (after checking the variant exists).
pub fn zero_variant(types: &PortableRegistry, id: u32, name: &str) -> Value {
    let fields = variant_fields(types, id, name);
    let all_named = !fields.is_empty() && fields.iter().all(|(n, _)| n.is_some());
    let values = fields.iter().map(|(n, ty)| (n.clone(), zero(types, *ty)));
    if all_named {
        Value::named_variant(
            name.to_string(),
            values.map(|(n, v)| (n.unwrap_or_default(), v)),
        )
    } else {
        Value::unnamed_variant(name.to_string(), values.map(|(_, v)| v))
    }
}

/// SCALE of `value` as type `id`.
pub fn encode(types: &PortableRegistry, id: u32, value: &Value) -> Vec<u8> {
    value
        .encode_as_type(id, types)
        .unwrap_or_else(|e| panic!("encoding {value} as type {id}: {e}"))
}

/// An `AccountId32` value.
pub fn account(bytes: &[u8; 32]) -> Value {
    Value::unnamed_composite([Value::from_bytes(bytes)])
}

/// Reads a decoded value.
pub fn field<'v, T>(value: &'v Value<T>, name: &str) -> &'v Value<T> {
    let composite = match &value.value {
        ValueDef::Composite(c) => c,
        ValueDef::Variant(v) => &v.values,
        _ => panic!("not a composite: {name}"),
    };
    match composite {
        Composite::Named(fields) => fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("no field {name}")),
        Composite::Unnamed(_) => panic!("unnamed composite has no field {name}"),
    }
}

/// The items of an unnamed composite (or a variant's unnamed fields).
pub fn items<T>(value: &Value<T>) -> Vec<&Value<T>> {
    let composite = match &value.value {
        ValueDef::Composite(c) => c,
        ValueDef::Variant(v) => &v.values,
        _ => panic!("not a composite"),
    };
    composite.values().collect()
}

/// The elements of a decoded sequence, looking through one-field wrappers such as
/// `BoundedVec<T>` (a composite around `Vec<T>`).
pub fn list<T>(value: &Value<T>) -> Vec<&Value<T>> {
    let inner = items(value);
    if inner.len() == 1 && matches!(inner[0].value, ValueDef::Composite(_)) {
        return items(inner[0]);
    }
    inner
}

/// Name of a decoded enum value.
pub fn variant_name<T>(value: &Value<T>) -> &str {
    match &value.value {
        ValueDef::Variant(v) => &v.name,
        _ => panic!("not a variant"),
    }
}

/// A decoded unsigned number.
pub fn uint<T>(value: &Value<T>) -> u128 {
    value
        .as_u128()
        .unwrap_or_else(|| panic!("not an unsigned number"))
}

/// Bytes of a decoded `Vec<u8>` / `[u8; N]` / single-field wrapper around one.
pub fn bytes<T>(value: &Value<T>) -> Vec<u8> {
    let list = items(value);
    if list.len() == 1 && matches!(list[0].value, ValueDef::Composite(_)) {
        return bytes(list[0]);
    }
    list.iter()
        .map(|v| u8::try_from(uint(*v)).unwrap_or_else(|_| panic!("not a byte")))
        .collect()
}
