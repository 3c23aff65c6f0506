//! Checking a runtime's metadata against the expected tables.

use scale_info::PortableRegistry;
use subxt_metadata::Metadata;

use crate::describe::describe_type;
use crate::expected::calls::CALLS;
use crate::expected::runtime_apis::RUNTIME_APIS;
use crate::expected::storage::STORAGE;
use crate::expected::types::TYPES;
use crate::expected::{
    CallItem, Hasher, Query, Requirement, RuntimeApiItem, StorageItem, TypeCheck, TypeItem,
};
use crate::matcher::{match_args, match_shape};
use crate::report::{ItemKind, ItemReport, Report, Status};
use crate::shape::{render_args, Shape, VariantSpec};
use crate::spec::spec_info;

/// Checks `metadata` against everything sn17 relies on.
pub fn check(metadata: &Metadata) -> Report {
    let mut items = Vec::with_capacity(STORAGE.len() + CALLS.len() + RUNTIME_APIS.len());
    items.extend(STORAGE.iter().map(|s| check_storage(metadata, s)));
    items.extend(CALLS.iter().map(|c| check_call(metadata, c)));
    let apis_described = metadata.runtime_api_traits().next().is_some();
    items.extend(
        RUNTIME_APIS
            .iter()
            .map(|a| check_runtime_api(metadata, a, apis_described)),
    );
    items.extend(TYPES.iter().map(|t| check_type(metadata.types(), t)));
    Report::new(spec_info(metadata), items)
}

/// An item report with status and notes still to fill in.
fn item(
    kind: ItemKind,
    scope: &str,
    name: &str,
    requirement: &Requirement,
    purpose: &str,
) -> ItemReport {
    ItemReport {
        kind,
        scope: scope.to_string(),
        name: name.to_string(),
        required: requirement.is_required(),
        fallback: requirement.fallback().map(str::to_string),
        purpose: purpose.to_string(),
        status: Status::Ok,
        notes: Vec::new(),
    }
}

/// Differences found on an item, split by whether they break the node.
#[derive(Default)]
struct Diffs {
    breaking: Vec<String>,
    informational: Vec<String>,
}

impl Diffs {
    /// `Ok` when there is no difference, `Changed` otherwise; the
    /// differences become notes.
    fn into_status(self, expected: String, found: String, report: &mut ItemReport) {
        if self.breaking.is_empty() && self.informational.is_empty() {
            report.status = Status::Ok;
            return;
        }
        report.status = Status::Changed {
            expected,
            found,
            breaking: !self.breaking.is_empty(),
        };
        report.notes.extend(self.breaking);
        report.notes.extend(self.informational);
    }
}

fn check_storage(metadata: &Metadata, want: &StorageItem) -> ItemReport {
    let mut report = item(
        ItemKind::Storage,
        want.pallet,
        want.name,
        &want.requirement,
        want.purpose,
    );
    let Some(pallet) = metadata.pallet_by_name(want.pallet) else {
        report.status = missing_pallet(want.pallet);
        return report;
    };
    let Some(entry) = pallet.storage().and_then(|s| s.entry_by_name(want.name)) else {
        report.status = Status::Missing {
            reason: format!("no storage item {}.{}", want.pallet, want.name),
        };
        return report;
    };
    let types = metadata.types();
    let keys: Vec<(Hasher, u32)> = entry
        .keys()
        .map(|k| (Hasher::from(k.hasher), k.key_id))
        .collect();
    let query = if entry.default_value().is_some() {
        Query::Value
    } else {
        Query::Option
    };

    let mut diffs = Diffs::default();
    if keys.len() != want.keys.len() {
        diffs.breaking.push(format!(
            "{} keys instead of {}",
            keys.len(),
            want.keys.len()
        ));
    } else {
        for (i, ((hasher, id), (want_hasher, want_shape))) in keys.iter().zip(want.keys).enumerate()
        {
            if hasher != want_hasher {
                diffs
                    .breaking
                    .push(format!("key {i}: hasher {hasher} instead of {want_hasher}"));
            }
            if let Err(m) = match_shape(types, *id, want_shape) {
                diffs.breaking.push(format!("key {i}: {m}"));
            }
        }
    }
    if let Err(m) = match_shape(types, entry.value_ty(), &want.value) {
        diffs.breaking.push(format!("value: {m}"));
    }
    if query != want.query {
        diffs.informational.push(format!(
            "{query:?}Query instead of {:?}Query (the node reads missing keys as default either way)",
            want.query
        ));
    }
    let expected = render_storage_expected(want);
    let found = render_storage_found(types, &keys, entry.value_ty(), query);
    diffs.into_status(expected, found, &mut report);
    report
}

fn render_storage_expected(want: &StorageItem) -> String {
    let keys: Vec<String> = want.keys.iter().map(|(h, s)| format!("{h}({s})")).collect();
    format!(
        "[{}] -> {} ({:?}Query)",
        keys.join(", "),
        want.value,
        want.query
    )
}

fn render_storage_found(
    types: &PortableRegistry,
    keys: &[(Hasher, u32)],
    value: u32,
    query: Query,
) -> String {
    let keys: Vec<String> = keys
        .iter()
        .map(|(h, id)| format!("{h}({})", describe_type(types, *id)))
        .collect();
    format!(
        "[{}] -> {} ({query:?}Query)",
        keys.join(", "),
        describe_type(types, value)
    )
}

fn check_call(metadata: &Metadata, want: &CallItem) -> ItemReport {
    let mut report = item(
        ItemKind::Call,
        want.pallet,
        want.name,
        &want.requirement,
        want.purpose,
    );
    let Some(pallet) = metadata.pallet_by_name(want.pallet) else {
        report.status = missing_pallet(want.pallet);
        return report;
    };
    let Some(variant) = pallet.call_variant_by_name(want.name) else {
        report.status = Status::Missing {
            reason: format!("no call {}.{}", want.pallet, want.name),
        };
        return report;
    };
    let types = metadata.types();
    let args: Vec<(String, u32)> = variant
        .fields
        .iter()
        .map(|f| (f.name.clone().unwrap_or_default(), f.ty.id))
        .collect();
    let expected = format!(
        "#{}/{} {}",
        want.pallet_index,
        want.call_index,
        render_args(want.args)
    );
    let found = format!(
        "#{}/{} {}",
        pallet.call_index(),
        variant.index,
        render_found_args(types, &args)
    );

    let mut diffs = Diffs::default();
    if (pallet.call_index(), variant.index) != (want.pallet_index, want.call_index) {
        diffs.informational.push(format!(
            "index {}/{} instead of {}/{} (informational: calls are built by name)",
            pallet.call_index(),
            variant.index,
            want.pallet_index,
            want.call_index
        ));
    }
    match match_args(types, &args, want.args, true) {
        Ok(()) => diffs.into_status(expected, found, &mut report),
        Err(mismatch) => {
            let alternative = want
                .alternatives
                .iter()
                .find(|alt| match_args(types, &args, alt.args, true).is_ok());
            match alternative {
                Some(alt) => {
                    report.status = Status::Alternative {
                        label: alt.label.to_string(),
                        expected,
                        found,
                    };
                    report.notes.push(alt.note.to_string());
                    report.notes.extend(diffs.informational);
                }
                None => {
                    diffs.breaking.push(format!("arguments: {mismatch}"));
                    diffs.into_status(expected, found, &mut report);
                }
            }
        }
    }
    report
}

fn check_runtime_api(
    metadata: &Metadata,
    want: &RuntimeApiItem,
    apis_described: bool,
) -> ItemReport {
    let mut report = item(
        ItemKind::RuntimeApi,
        want.api,
        want.method,
        &want.requirement,
        want.purpose,
    );
    if !apis_described {
        report.status = Status::Unknown {
            reason: "the metadata describes no runtime APIs (V14)".to_string(),
        };
        return report;
    }
    let Some(api) = metadata.runtime_api_trait_by_name(want.api) else {
        report.status = Status::Missing {
            reason: format!("no runtime API {}", want.api),
        };
        return report;
    };
    let Some(method) = api.method_by_name(want.method) else {
        report.status = Status::Missing {
            reason: format!("no method {}.{}", want.api, want.method),
        };
        return report;
    };
    let types = metadata.types();
    let inputs: Vec<(String, u32)> = method
        .inputs()
        .map(|i| (i.name.to_string(), i.id))
        .collect();
    let output = method.output_ty();
    let expected = format!("{} -> {}", render_args(want.inputs), want.output);
    let found = format!(
        "{} -> {}",
        render_found_args(types, &inputs),
        describe_type(types, output)
    );

    let mut diffs = Diffs::default();
    let renamed: Vec<String> = inputs
        .iter()
        .zip(want.inputs)
        .filter(|((name, _), w)| !w.name.is_empty() && name != w.name)
        .map(|((name, _), w)| format!("input `{}` is named `{name}`", w.name))
        .collect();
    if let Err(m) = match_args(types, &inputs, want.inputs, false) {
        diffs.breaking.push(format!("inputs: {m}"));
    }
    match match_shape(types, output, &want.output) {
        Ok(()) => {}
        Err(mismatch) => {
            let alternative = want
                .alternatives
                .iter()
                .find(|alt| match_shape(types, output, &alt.output).is_ok());
            match alternative {
                Some(alt) if diffs.breaking.is_empty() => {
                    report.status = Status::Alternative {
                        label: alt.label.to_string(),
                        expected,
                        found,
                    };
                    report.notes.push(alt.note.to_string());
                    report.notes.extend(renamed);
                    return report;
                }
                _ => diffs.breaking.push(format!("output: {mismatch}")),
            }
        }
    }
    // Inputs are positional: a renamed input is only worth a note.
    if diffs.breaking.is_empty() {
        diffs.into_status(expected, found, &mut report);
        report.notes.extend(renamed);
    } else {
        diffs.informational.extend(renamed);
        diffs.into_status(expected, found, &mut report);
    }
    report
}

fn check_type(types: &PortableRegistry, want: &'static TypeItem) -> ItemReport {
    let mut report = item(
        ItemKind::Type,
        want.pallet,
        want.name,
        &want.requirement,
        want.purpose,
    );
    let candidates: Vec<u32> = types
        .types
        .iter()
        .filter(|t| {
            let segments = &t.ty.path.segments;
            segments.last().is_some_and(|s| s == want.ident)
                && segments.iter().any(|s| s == want.module)
        })
        .map(|t| t.id)
        .collect();
    let Some(&first) = candidates.first() else {
        report.status = Status::Missing {
            reason: format!("no type {}::…::{} in the registry", want.module, want.ident),
        };
        return report;
    };
    let shape = match &want.check {
        TypeCheck::Shape(shape) => *shape,
        TypeCheck::Variant(spec) => {
            if !candidates.iter().any(|id| has_variant(types, *id, spec)) {
                report.status = Status::Missing {
                    reason: format!("enum {} has no variant {}", want.ident, variant_name(spec)),
                };
                return report;
            }
            Shape::Variant(std::slice::from_ref(spec))
        }
    };
    if candidates
        .iter()
        .any(|id| match_shape(types, *id, &shape).is_ok())
    {
        return report;
    }
    let mut diffs = Diffs::default();
    if let Err(m) = match_shape(types, first, &shape) {
        diffs.breaking.push(m.to_string());
    }
    diffs.into_status(shape.to_string(), describe_type(types, first), &mut report);
    report
}

/// Whether type `id` is an enum with the variant of `spec` (for a family:
/// with a variant starting with its prefix), whatever its fields.
fn has_variant(types: &PortableRegistry, id: u32, spec: &VariantSpec) -> bool {
    let Some(scale_info::TypeDef::Variant(v)) = types.resolve(id).map(|t| &t.type_def) else {
        return false;
    };
    v.variants.iter().any(|var| match spec {
        VariantSpec::Named { name, .. } => var.name == *name,
        VariantSpec::ByteArrayFamily { prefix, .. } => var.name.starts_with(prefix),
    })
}

fn variant_name(spec: &VariantSpec) -> &'static str {
    match spec {
        VariantSpec::Named { name, .. } => name,
        VariantSpec::ByteArrayFamily { prefix, .. } => prefix,
    }
}

fn missing_pallet(pallet: &str) -> Status {
    Status::Missing {
        reason: format!("pallet {pallet} is not in the runtime"),
    }
}

fn render_found_args(types: &PortableRegistry, args: &[(String, u32)]) -> String {
    let rendered: Vec<String> = args
        .iter()
        .map(|(name, id)| format!("{name}: {}", describe_type(types, *id)))
        .collect();
    format!("({})", rendered.join(", "))
}
