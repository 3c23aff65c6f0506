//! The Subtensor interface sn17 relies on, and the compatibility check of a
//! runtime's metadata against it.
//!
//! * [`expected`] — constant tables of every storage item, call, runtime API
//!   method and named type the node uses, with the type [`Shape`]s it
//!   expects and whether each is required or optional (with its fallback).
//! * [`decode_metadata`] / [`decode_metadata_full`]: V14/V15/V16 metadata
//!   from bytes (bare, `OpaqueMetadata`, `Option<OpaqueMetadata>` or hex).
//! * [`check`] — a [`Report`] with one status per item, a [`Summary`]
//!   (`compatible` counts required items only) and the derived
//!   [`Capabilities`] the chain client uses to choose code paths.
//! * [`render_table`] — the human table; `Report` is `Serialize` for JSON.

pub mod capabilities;
pub mod check;
pub mod decode;
pub mod describe;
pub mod error;
pub mod expected;
pub mod matcher;
pub mod render;
pub mod report;
pub mod shape;
pub mod spec;

pub use capabilities::Capabilities;
pub use check::check;
pub use decode::{
    decode_metadata, decode_metadata_full, DecodedMetadata, Envelope, MAX_METADATA_BYTES,
};
pub use error::MetadataError;
pub use render::render_table;
pub use report::{ItemKind, ItemReport, Report, Status, Summary};
pub use shape::{Field, Shape, VariantSpec};
pub use spec::{spec_info, SpecInfo};
pub use subxt_metadata::Metadata;
