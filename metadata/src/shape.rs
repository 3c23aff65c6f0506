//! The type shapes sn17 expects, as `'static` data so that the whole expected
//! interface can be written as constant tables.
//!
//! Matching rules (implemented in [`crate::matcher`]):
//! * **Newtypes are transparent.** A composite with exactly one field (e.g.
//!   `NetUid(u16)`, `AlphaBalance(u64)`, `BoundedVec<u8, _>(Vec<u8>)`,
//!   `AccountId32([u8; 32])`, `BTreeSet<T>(Vec<T>)`) matches whatever its field
//!   matches.
//! * **Composites** list the fields sn17 needs, by name; extra fields are
//!   allowed and field order is not checked (values are decoded by field name).
//! * **Variants** list the variants sn17 needs, by name, with their fields;
//!   extra variants are allowed.
//! * Everything else (primitives, `Compact`, `Vec`, `Option`, tuples, byte
//!   arrays) must match exactly; `u16` does not match `Compact<u16>`.

use std::fmt;

/// The expected shape of a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `u8`.
    U8,
    /// `u16` (also `NetUid`, `NetUidStorageIndex`).
    U16,
    /// `u32`.
    U32,
    /// `u64` (also `AlphaBalance`, `TaoBalance`).
    U64,
    /// `u128`.
    U128,
    /// `bool`.
    Bool,
    /// A 32-byte account id: `[u8; 32]`, usually wrapped as `AccountId32`.
    AccountId32,
    /// `[u8; N]`.
    ByteArray(u32),
    /// `Vec<u8>` (also `BoundedVec<u8, _>`).
    Bytes,
    /// `Vec<T>` (also `BoundedVec<T, _>`, `VecDeque<T>`, `BTreeSet<T>`).
    Vec(&'static Shape),
    /// `Compact<T>`.
    Compact(&'static Shape),
    /// `Option<T>`.
    Option(&'static Shape),
    /// A tuple with exactly these elements.
    Tuple(&'static [Shape]),
    /// A struct containing at least these named fields.
    Composite(&'static [Field]),
    /// An enum containing at least these variants.
    Variant(&'static [VariantSpec]),
    /// Anything (e.g. a `RuntimeCall` argument).
    Any,
}

/// A field of a composite, a call argument or a runtime API input.
///
/// An empty `name` means "positional": the field is matched by position
/// (used for unnamed variant fields such as `Data::Raw5([u8; 5])`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Field name; empty for a positional field.
    pub name: &'static str,
    /// Expected shape.
    pub shape: Shape,
}

/// Shorthand constructor for [`Field`], usable in constants.
pub const fn field(name: &'static str, shape: Shape) -> Field {
    Field { name, shape }
}

/// A variant (or a family of variants) an enum must contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariantSpec {
    /// Variant `name` with these fields (named fields by name, positional
    /// fields by position; the field count must match exactly).
    Named {
        /// Variant name.
        name: &'static str,
        /// The variant's fields.
        fields: &'static [Field],
    },
    /// The family `{prefix}0([u8; 0])` ..= `{prefix}{max}([u8; max])`, as
    /// `Raw0..Raw128` in `pallet_commitments::Data`.
    ByteArrayFamily {
        /// Common prefix of the variant names.
        prefix: &'static str,
        /// Largest array length (inclusive).
        max: u32,
    },
}

/// Shorthand constructor for a [`VariantSpec::Named`], usable in constants.
pub const fn variant(name: &'static str, fields: &'static [Field]) -> VariantSpec {
    VariantSpec::Named { name, fields }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shape::U8 => f.write_str("u8"),
            Shape::U16 => f.write_str("u16"),
            Shape::U32 => f.write_str("u32"),
            Shape::U64 => f.write_str("u64"),
            Shape::U128 => f.write_str("u128"),
            Shape::Bool => f.write_str("bool"),
            Shape::AccountId32 => f.write_str("AccountId32"),
            Shape::ByteArray(n) => write!(f, "[u8; {n}]"),
            Shape::Bytes => f.write_str("Vec<u8>"),
            Shape::Vec(inner) => write!(f, "Vec<{inner}>"),
            Shape::Compact(inner) => write!(f, "Compact<{inner}>"),
            Shape::Option(inner) => write!(f, "Option<{inner}>"),
            Shape::Tuple(items) => {
                f.write_str("(")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str(")")
            }
            Shape::Composite(fields) => {
                f.write_str("{ ")?;
                write_fields(f, fields)?;
                f.write_str(", .. }")
            }
            Shape::Variant(variants) => {
                f.write_str("enum { ")?;
                for (i, v) in variants.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" | ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str(" | .. }")
            }
            Shape::Any => f.write_str("_"),
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.name.is_empty() {
            write!(f, "{}", self.shape)
        } else {
            write!(f, "{}: {}", self.name, self.shape)
        }
    }
}

impl fmt::Display for VariantSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VariantSpec::Named { name, fields } => {
                f.write_str(name)?;
                if fields.is_empty() {
                    return Ok(());
                }
                let named = fields.iter().all(|fl| !fl.name.is_empty());
                f.write_str(if named { " { " } else { "(" })?;
                write_fields(f, fields)?;
                f.write_str(if named { " }" } else { ")" })
            }
            VariantSpec::ByteArrayFamily { prefix, max } => {
                write!(f, "{prefix}0([u8; 0]) ..= {prefix}{max}([u8; {max}])")
            }
        }
    }
}

/// Writes `fields` separated by commas.
pub(crate) fn write_fields(f: &mut fmt::Formatter<'_>, fields: &[Field]) -> fmt::Result {
    for (i, fl) in fields.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{fl}")?;
    }
    Ok(())
}

/// Renders an argument list as `(a: u16, b: Vec<u8>)`.
pub(crate) fn render_args(fields: &[Field]) -> String {
    struct Args<'a>(&'a [Field]);
    impl fmt::Display for Args<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("(")?;
            write_fields(f, self.0)?;
            f.write_str(")")
        }
    }
    Args(fields).to_string()
}
