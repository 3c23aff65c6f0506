//! Matching an expected [`Shape`] against a type of a `PortableRegistry`.
//! The rules are described in [`crate::shape`].

use std::fmt;

use scale_info::{form::PortableForm, PortableRegistry, Type, TypeDef, TypeDefPrimitive};

use crate::describe::{describe_type, truncate};
use crate::shape::{Field, Shape, VariantSpec};

/// Nesting limit, a guard against self-referential newtypes.
const MAX_DEPTH: usize = 64;
/// Longest "found" rendering inside a mismatch.
const MAX_FOUND_LEN: usize = 200;

/// Where and how a type differs from the expected shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Dotted path to the differing part (`axon_info.port`, `[]`, `?`), empty
    /// for the top level.
    pub path: String,
    /// The expected shape there.
    pub expected: String,
    /// What was found there.
    pub found: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "expected {}, found {}", self.expected, self.found)
        } else {
            write!(
                f,
                "at `{}`: expected {}, found {}",
                self.path, self.expected, self.found
            )
        }
    }
}

/// Checks that type `id` of `types` has the shape `shape`.
pub fn match_shape(types: &PortableRegistry, id: u32, shape: &Shape) -> Result<(), Mismatch> {
    Matcher { types }.check(id, shape, "", 0)
}

/// Checks positional arguments (`args`, as `(name, type id)`) against `expected`:
/// same count, same order, matching shapes; names too when `check_names`
/// (call arguments are built by name, runtime API inputs are positional).
pub fn match_args(
    types: &PortableRegistry,
    args: &[(String, u32)],
    expected: &[Field],
    check_names: bool,
) -> Result<(), Mismatch> {
    let matcher = Matcher { types };
    if args.len() != expected.len() {
        return Err(Mismatch {
            path: String::new(),
            expected: format!("{} arguments", expected.len()),
            found: format!("{} arguments", args.len()),
        });
    }
    for (i, ((name, id), want)) in args.iter().zip(expected).enumerate() {
        if check_names && !want.name.is_empty() && name != want.name {
            return Err(Mismatch {
                path: format!("argument {i}"),
                expected: format!("`{}`", want.name),
                found: format!("`{name}`"),
            });
        }
        let label = if want.name.is_empty() {
            format!("argument {i}")
        } else {
            want.name.to_string()
        };
        matcher.check(*id, &want.shape, &label, 0)?;
    }
    Ok(())
}

struct Matcher<'a> {
    types: &'a PortableRegistry,
}

impl Matcher<'_> {
    fn mismatch(&self, at: &str, expected: impl fmt::Display, id: u32) -> Mismatch {
        Mismatch {
            path: at.to_string(),
            expected: expected.to_string(),
            found: truncate(describe_type(self.types, id), MAX_FOUND_LEN),
        }
    }

    fn check(&self, id: u32, shape: &Shape, at: &str, depth: usize) -> Result<(), Mismatch> {
        if matches!(shape, Shape::Any) {
            return Ok(());
        }
        if depth > MAX_DEPTH {
            return Err(Mismatch {
                path: at.to_string(),
                expected: shape.to_string(),
                found: "a type nested too deeply".to_string(),
            });
        }
        let Some(ty) = self.types.resolve(id) else {
            return Err(self.mismatch(at, shape, id));
        };
        let newtype_inner = single_field(ty);
        match (shape, newtype_inner) {
            // A newtype seen where a non-struct is expected: look through it.
            (s, Some((inner, _))) if !matches!(s, Shape::Composite(_)) => {
                self.check(inner, shape, at, depth + 1)
            }
            // A struct is expected and the type is a newtype: the wrapper itself
            // may be the struct (one named field) or wrap it.
            (_, Some((inner, named))) => match self.check_direct(ty, id, shape, at, depth) {
                Ok(()) => Ok(()),
                Err(direct) => match self.check(inner, shape, at, depth + 1) {
                    Ok(()) => Ok(()),
                    Err(unwrapped) => Err(if named { direct } else { unwrapped }),
                },
            },
            (_, None) => self.check_direct(ty, id, shape, at, depth),
        }
    }

    fn check_direct(
        &self,
        ty: &Type<PortableForm>,
        id: u32,
        shape: &Shape,
        at: &str,
        depth: usize,
    ) -> Result<(), Mismatch> {
        let fail = || Err(self.mismatch(at, shape, id));
        match (shape, &ty.type_def) {
            (Shape::Any, _) => Ok(()),
            (Shape::U8, TypeDef::Primitive(TypeDefPrimitive::U8))
            | (Shape::U16, TypeDef::Primitive(TypeDefPrimitive::U16))
            | (Shape::U32, TypeDef::Primitive(TypeDefPrimitive::U32))
            | (Shape::U64, TypeDef::Primitive(TypeDefPrimitive::U64))
            | (Shape::U128, TypeDef::Primitive(TypeDefPrimitive::U128))
            | (Shape::Bool, TypeDef::Primitive(TypeDefPrimitive::Bool)) => Ok(()),
            (Shape::AccountId32, TypeDef::Array(a)) => {
                if a.len == 32 && self.is_u8(a.type_param.id) {
                    Ok(())
                } else {
                    fail()
                }
            }
            (Shape::ByteArray(n), TypeDef::Array(a)) => {
                if a.len == *n && self.is_u8(a.type_param.id) {
                    Ok(())
                } else {
                    fail()
                }
            }
            (Shape::Bytes, TypeDef::Sequence(s)) => {
                if self.is_u8(s.type_param.id) {
                    Ok(())
                } else {
                    fail()
                }
            }
            (Shape::Vec(inner), TypeDef::Sequence(s)) => {
                self.check(s.type_param.id, inner, &child(at, "[]"), depth + 1)
            }
            (Shape::Compact(inner), TypeDef::Compact(c)) => {
                self.check(c.type_param.id, inner, at, depth + 1)
            }
            (Shape::Option(inner), TypeDef::Variant(v)) => {
                let none = v.variants.iter().find(|var| var.name == "None");
                let some = v.variants.iter().find(|var| var.name == "Some");
                match (none, some) {
                    (Some(none), Some(some)) if v.variants.len() == 2 && none.fields.is_empty() => {
                        match some.fields.as_slice() {
                            [only] => self.check(only.ty.id, inner, &child(at, "?"), depth + 1),
                            _ => fail(),
                        }
                    }
                    _ => fail(),
                }
            }
            (Shape::Tuple(items), TypeDef::Tuple(t)) => {
                if items.len() != t.fields.len() {
                    return fail();
                }
                for (i, (want, got)) in items.iter().zip(&t.fields).enumerate() {
                    self.check(got.id, want, &child(at, &i.to_string()), depth + 1)?;
                }
                Ok(())
            }
            (Shape::Composite(fields), TypeDef::Composite(c)) => {
                for want in fields.iter() {
                    let found = c
                        .fields
                        .iter()
                        .find(|f| f.name.as_deref() == Some(want.name));
                    match found {
                        Some(f) => {
                            self.check(f.ty.id, &want.shape, &child(at, want.name), depth + 1)?
                        }
                        None => {
                            return Err(Mismatch {
                                path: child(at, want.name),
                                expected: want.shape.to_string(),
                                found: "no such field".to_string(),
                            })
                        }
                    }
                }
                Ok(())
            }
            (Shape::Variant(specs), TypeDef::Variant(v)) => {
                for spec in specs.iter() {
                    self.check_variant(&v.variants, spec, at, depth)?;
                }
                Ok(())
            }
            _ => fail(),
        }
    }

    fn check_variant(
        &self,
        variants: &[scale_info::Variant<PortableForm>],
        spec: &VariantSpec,
        at: &str,
        depth: usize,
    ) -> Result<(), Mismatch> {
        match spec {
            VariantSpec::Named { name, fields } => {
                let Some(var) = variants.iter().find(|v| v.name == *name) else {
                    return Err(Mismatch {
                        path: child(at, name),
                        expected: spec.to_string(),
                        found: "no such variant".to_string(),
                    });
                };
                let here = child(at, name);
                if var.fields.len() != fields.len() {
                    return Err(Mismatch {
                        path: here,
                        expected: spec.to_string(),
                        found: format!("{} fields", var.fields.len()),
                    });
                }
                for (i, want) in fields.iter().enumerate() {
                    let got = if want.name.is_empty() {
                        var.fields.get(i)
                    } else {
                        var.fields
                            .iter()
                            .find(|f| f.name.as_deref() == Some(want.name))
                    };
                    let label = if want.name.is_empty() {
                        i.to_string()
                    } else {
                        want.name.to_string()
                    };
                    match got {
                        Some(f) => {
                            self.check(f.ty.id, &want.shape, &child(&here, &label), depth + 1)?
                        }
                        None => {
                            return Err(Mismatch {
                                path: child(&here, &label),
                                expected: want.shape.to_string(),
                                found: "no such field".to_string(),
                            })
                        }
                    }
                }
                Ok(())
            }
            VariantSpec::ByteArrayFamily { prefix, max } => {
                for n in 0..=*max {
                    let name = format!("{prefix}{n}");
                    let here = child(at, &name);
                    let Some(var) = variants.iter().find(|v| v.name == name) else {
                        return Err(Mismatch {
                            path: here,
                            expected: format!("{name}([u8; {n}])"),
                            found: "no such variant".to_string(),
                        });
                    };
                    match var.fields.as_slice() {
                        [only] => self.check(only.ty.id, &Shape::ByteArray(n), &here, depth + 1)?,
                        _ => {
                            return Err(Mismatch {
                                path: here,
                                expected: format!("{name}([u8; {n}])"),
                                found: format!("{} fields", var.fields.len()),
                            })
                        }
                    }
                }
                Ok(())
            }
        }
    }

    fn is_u8(&self, id: u32) -> bool {
        self.check(id, &Shape::U8, "", 0).is_ok()
    }
}

/// For a composite with exactly one field: that field's type id and whether
/// the field is named.
fn single_field(ty: &Type<PortableForm>) -> Option<(u32, bool)> {
    match &ty.type_def {
        TypeDef::Composite(c) => match c.fields.as_slice() {
            [only] => Some((only.ty.id, only.name.is_some())),
            _ => None,
        },
        _ => None,
    }
}

fn child(at: &str, name: &str) -> String {
    if at.is_empty() {
        name.to_string()
    } else {
        format!("{at}.{name}")
    }
}
