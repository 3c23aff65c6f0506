//! JSON as 404's Python services write it: objects keep their key order, numbers keep the text
//! they were read with, floats are printed the way pydantic (or `json.dumps`) prints them.

mod float;
mod parse;
mod value;
mod write;

pub use float::{pydantic_float, python_repr};
pub use parse::{parse, ParseError, MAX_DEPTH};
pub use value::{Float, Object, Value};
pub use write::{to_compact, to_dumps, to_pretty};
