//! Typed views of 404's JSON records that write back what they read: known fields are typed,
//! the object as read (key order, unknown fields, number text) is kept and merged on write.

use crate::error::FormatError;
use crate::pyjson::{Object, Value};

/// Reads a typed value from JSON. `at` is the JSON path, for error messages.
pub trait FromJson: Sized {
    fn from_json(v: &Value, at: &str) -> Result<Self, FormatError>;

    /// The value of an absent field: an error unless the type is optional.
    fn missing(at: &str) -> Result<Self, FormatError> {
        Err(FormatError::new(at, "missing field"))
    }
}

/// Writes a typed value as JSON.
pub trait ToJson {
    fn to_json(&self) -> Value;
}

fn wrong(at: &str, want: &str, v: &Value) -> FormatError {
    FormatError::new(at, format!("expected {want}, found {}", v.kind()))
}

impl FromJson for String {
    fn from_json(v: &Value, at: &str) -> Result<Self, FormatError> {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| wrong(at, "a string", v))
    }
}

impl ToJson for String {
    fn to_json(&self) -> Value {
        Value::Str(self.clone())
    }
}

impl FromJson for bool {
    fn from_json(v: &Value, at: &str) -> Result<Self, FormatError> {
        match v {
            Value::Bool(b) => Ok(*b),
            _ => Err(wrong(at, "a bool", v)),
        }
    }
}

impl ToJson for bool {
    fn to_json(&self) -> Value {
        Value::Bool(*self)
    }
}

/// pydantic's lax int: an int, or a float with no fraction.
fn integer(v: &Value, at: &str) -> Result<i128, FormatError> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Float(f) if f.value.fract() == 0.0 && f.value.abs() < 1e30 => Ok(f.value as i128),
        _ => Err(wrong(at, "an integer", v)),
    }
}

macro_rules! int_json {
    ($($t:ty),*) => {$(
        impl FromJson for $t {
            fn from_json(v: &Value, at: &str) -> Result<Self, FormatError> {
                let i = integer(v, at)?;
                <$t>::try_from(i).map_err(|_| FormatError::new(at, format!("{i} is out of range for {}", stringify!($t))))
            }
        }
        impl ToJson for $t {
            fn to_json(&self) -> Value {
                Value::Int(i128::from(*self))
            }
        }
    )*};
}
int_json!(u16, u32, u64, i64);

impl FromJson for f64 {
    fn from_json(v: &Value, at: &str) -> Result<Self, FormatError> {
        v.as_f64().ok_or_else(|| wrong(at, "a number", v))
    }
}

impl ToJson for f64 {
    fn to_json(&self) -> Value {
        Value::float(*self)
    }
}

impl FromJson for Value {
    fn from_json(v: &Value, _at: &str) -> Result<Self, FormatError> {
        Ok(v.clone())
    }

    fn missing(_at: &str) -> Result<Self, FormatError> {
        Ok(Value::Null)
    }
}

impl ToJson for Value {
    fn to_json(&self) -> Value {
        self.clone()
    }
}

/// A nullable field: `null` and an absent key both read as `None`.
impl<T: FromJson> FromJson for Option<T> {
    fn from_json(v: &Value, at: &str) -> Result<Self, FormatError> {
        if v.is_null() {
            Ok(None)
        } else {
            T::from_json(v, at).map(Some)
        }
    }

    fn missing(_at: &str) -> Result<Self, FormatError> {
        Ok(None)
    }
}

impl<T: ToJson> ToJson for Option<T> {
    fn to_json(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToJson::to_json)
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(v: &Value, at: &str) -> Result<Self, FormatError> {
        let items = v.as_array().ok_or_else(|| wrong(at, "an array", v))?;
        items
            .iter()
            .enumerate()
            .map(|(i, item)| T::from_json(item, &format!("{at}[{i}]")))
            .collect()
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn to_json(&self) -> Value {
        Value::Array(self.iter().map(ToJson::to_json).collect())
    }
}

/// A JSON object used as a dict (`hotkey → record`, `stem → result`), in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Map<T>(pub Vec<(String, T)>);

impl<T> Default for Map<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T> Map<T> {
    pub fn new() -> Self {
        Self(Vec::new())
    }

    pub fn get(&self, key: &str) -> Option<&T> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut T> {
        self.0.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key` in place when present, else appends it (a Python dict assignment).
    pub fn insert(&mut self, key: impl Into<String>, value: T) {
        let key = key.into();
        match self.get_mut(&key) {
            Some(slot) => *slot = value,
            None => self.0.push((key, value)),
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &T)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T: FromJson> FromJson for Map<T> {
    fn from_json(v: &Value, at: &str) -> Result<Self, FormatError> {
        let obj = v.as_object().ok_or_else(|| wrong(at, "an object", v))?;
        obj.iter()
            .map(|(k, item)| Ok((k.clone(), T::from_json(item, &format!("{at}.{k}"))?)))
            .collect::<Result<Vec<_>, _>>()
            .map(Map)
    }
}

impl<T: ToJson> ToJson for Map<T> {
    fn to_json(&self) -> Value {
        Value::Object(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), v.to_json()))
                .collect(),
        )
    }
}

/// Reads field `key` of `obj`.
pub fn field<T: FromJson>(obj: &Object, key: &str, at: &str) -> Result<T, FormatError> {
    let path = format!("{at}.{key}");
    match obj.get(key) {
        Some(v) => T::from_json(v, &path),
        None => T::missing(&path),
    }
}

/// The object to write: `raw`'s key order and unknown keys, unchanged values with their original
/// text, changed values replaced, new keys appended in declaration order. A `null` field whose
/// key the file never had stays absent, so older formats keep their shape; a record built from
/// scratch (empty `raw`) writes every field, as pydantic does.
pub fn merge(raw: &Object, fields: Vec<(&'static str, Value)>) -> Object {
    let fresh = raw.is_empty();
    let mut out = Object::new();
    for (k, rv) in raw.iter() {
        match fields.iter().find(|(f, _)| f == k) {
            Some((_, nv)) if rv.same(nv) => out.insert(k.clone(), rv.clone()),
            Some((_, nv)) => out.insert(k.clone(), nv.clone()),
            None => out.insert(k.clone(), rv.clone()),
        }
    }
    for (k, nv) in fields {
        if raw.contains_key(k) || (nv.is_null() && !fresh) {
            continue;
        }
        out.insert(k, nv);
    }
    out
}

/// Declares a 404 record: a struct of typed fields plus `raw`, with [`FromJson`] and
/// [`ToJson`]. Field names are the JSON keys; declaration order is the write order.
#[macro_export]
#[doc(hidden)]
macro_rules! json_record {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
            /// The object as read (key order, unknown fields, number text); empty when built here.
            pub raw: $crate::pyjson::Object,
        }

        impl $crate::state_repo::record::FromJson for $name {
            fn from_json(v: &$crate::pyjson::Value, at: &str) -> Result<Self, $crate::error::FormatError> {
                let obj = v.as_object().ok_or_else(|| {
                    $crate::error::FormatError::new(at, format!("expected an object, found {}", v.kind()))
                })?;
                Ok(Self {
                    $( $field: $crate::state_repo::record::field(obj, stringify!($field), at)?, )*
                    raw: obj.clone(),
                })
            }
        }

        impl $crate::state_repo::record::ToJson for $name {
            fn to_json(&self) -> $crate::pyjson::Value {
                $crate::pyjson::Value::Object($crate::state_repo::record::merge(
                    &self.raw,
                    vec![ $( (stringify!($field), $crate::state_repo::record::ToJson::to_json(&self.$field)) ),* ],
                ))
            }
        }
    };
}

/// Declares a string enum with 404's lowercase spellings and a catch-all for values a newer
/// version may write.
#[macro_export]
#[doc(hidden)]
macro_rules! json_str_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this version does not know, kept as written.
            Other(String),
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $text, )*
                    Self::Other(s) => s,
                }
            }

            pub fn parse(s: &str) -> Self {
                match s {
                    $( $text => Self::$variant, )*
                    other => Self::Other(other.to_string()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::state_repo::record::FromJson for $name {
            fn from_json(v: &$crate::pyjson::Value, at: &str) -> Result<Self, $crate::error::FormatError> {
                <String as $crate::state_repo::record::FromJson>::from_json(v, at).map(|s| Self::parse(&s))
            }
        }

        impl $crate::state_repo::record::ToJson for $name {
            fn to_json(&self) -> $crate::pyjson::Value {
                $crate::pyjson::Value::Str(self.as_str().to_string())
            }
        }
    };
}
