//! Human-readable rendering of a type from a `PortableRegistry`, used for the
//! "found" side of a mismatch and for diagnostics.

use scale_info::{form::PortableForm, Field, PortableRegistry, TypeDef, TypeDefPrimitive};

/// How deep nested types are expanded before being abbreviated to their name.
const MAX_DEPTH: usize = 4;
/// How many variants of an enum are listed before the rest is summarised.
const MAX_VARIANTS: usize = 8;
/// Longest rendering returned; longer ones are cut at a character boundary.
const MAX_LEN: usize = 600;

/// Renders type `id` of `types` as a compact Rust-like string, e.g.
/// `Vec<(u16, u16)>`, `AxonInfo { block: u64, .. }` or `Option<u16>`.
pub fn describe_type(types: &PortableRegistry, id: u32) -> String {
    let mut out = String::new();
    write_type(types, id, 0, &mut out);
    truncate(out, MAX_LEN)
}

/// Cuts `s` to at most `max` bytes (on a char boundary), marking the cut with `…`.
pub(crate) fn truncate(mut s: String, max: usize) -> String {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s.push('…');
    s
}

/// The last path segment of type `id` (e.g. `AxonInfo`), if it has a path.
pub fn type_name(types: &PortableRegistry, id: u32) -> Option<&str> {
    types
        .resolve(id)
        .and_then(|ty| ty.path.segments.last())
        .map(String::as_str)
}

fn write_type(types: &PortableRegistry, id: u32, depth: usize, out: &mut String) {
    if out.len() > MAX_LEN {
        return;
    }
    let Some(ty) = types.resolve(id) else {
        out.push_str(&format!("<unknown type #{id}>"));
        return;
    };
    let name = ty.path.segments.last().map(String::as_str);
    match &ty.type_def {
        TypeDef::Primitive(p) => out.push_str(primitive_name(p)),
        TypeDef::Sequence(s) => {
            out.push_str("Vec<");
            write_type(types, s.type_param.id, depth + 1, out);
            out.push('>');
        }
        TypeDef::Array(a) => {
            out.push('[');
            write_type(types, a.type_param.id, depth + 1, out);
            out.push_str(&format!("; {}]", a.len));
        }
        TypeDef::Tuple(t) => {
            out.push('(');
            for (i, f) in t.fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_type(types, f.id, depth + 1, out);
            }
            out.push(')');
        }
        TypeDef::Compact(c) => {
            out.push_str("Compact<");
            write_type(types, c.type_param.id, depth + 1, out);
            out.push('>');
        }
        TypeDef::BitSequence(_) => out.push_str("BitVec"),
        TypeDef::Composite(c) => {
            let name = name.unwrap_or("struct");
            out.push_str(name);
            if depth >= MAX_DEPTH {
                if !c.fields.is_empty() {
                    out.push_str(" {..}");
                }
                return;
            }
            write_fields(types, &c.fields, depth, out);
        }
        TypeDef::Variant(v) => {
            let name = name.unwrap_or("enum");
            if name == "Option" && v.variants.len() == 2 {
                if let Some(inner) = v
                    .variants
                    .iter()
                    .find(|var| var.name == "Some")
                    .and_then(|var| var.fields.first())
                {
                    out.push_str("Option<");
                    write_type(types, inner.ty.id, depth + 1, out);
                    out.push('>');
                    return;
                }
            }
            out.push_str(name);
            if depth >= MAX_DEPTH {
                out.push_str(" {..}");
                return;
            }
            out.push_str(" { ");
            for (i, var) in v.variants.iter().take(MAX_VARIANTS).enumerate() {
                if i > 0 {
                    out.push_str(" | ");
                }
                out.push_str(&var.name);
                write_fields(types, &var.fields, depth, out);
            }
            if v.variants.len() > MAX_VARIANTS {
                out.push_str(&format!(" | .. {} more", v.variants.len() - MAX_VARIANTS));
            }
            out.push_str(" }");
        }
    }
}

fn write_fields(
    types: &PortableRegistry,
    fields: &[Field<PortableForm>],
    depth: usize,
    out: &mut String,
) {
    if fields.is_empty() {
        return;
    }
    let named = fields.iter().all(|f| f.name.is_some());
    out.push_str(if named { " { " } else { "(" });
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        if let Some(n) = &f.name {
            out.push_str(n);
            out.push_str(": ");
        }
        write_type(types, f.ty.id, depth + 1, out);
    }
    out.push_str(if named { " }" } else { ")" });
}

fn primitive_name(p: &TypeDefPrimitive) -> &'static str {
    match p {
        TypeDefPrimitive::Bool => "bool",
        TypeDefPrimitive::Char => "char",
        TypeDefPrimitive::Str => "String",
        TypeDefPrimitive::U8 => "u8",
        TypeDefPrimitive::U16 => "u16",
        TypeDefPrimitive::U32 => "u32",
        TypeDefPrimitive::U64 => "u64",
        TypeDefPrimitive::U128 => "u128",
        TypeDefPrimitive::U256 => "u256",
        TypeDefPrimitive::I8 => "i8",
        TypeDefPrimitive::I16 => "i16",
        TypeDefPrimitive::I32 => "i32",
        TypeDefPrimitive::I64 => "i64",
        TypeDefPrimitive::I128 => "i128",
        TypeDefPrimitive::I256 => "i256",
    }
}
