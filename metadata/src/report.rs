//! The result of a compatibility check: one [`ItemReport`] per expected item,
//! a [`Summary`] and the derived [`Capabilities`].
//!
//! Status semantics:
//! * [`Status::Ok`] — present with the expected shape;
//! * [`Status::Alternative`] — present in an older form the node also handles
//!   (e.g. a runtime API declared as opaque `Vec<u8>`); usable, flagged;
//! * [`Status::Changed`] — present but different. `breaking: false` means only
//!   informational details differ (a call index, a storage query kind) and
//!   the item is usable; `breaking: true` means the node cannot use it;
//! * [`Status::Missing`] — absent;
//! * [`Status::Unknown`] — the metadata cannot tell (V14 describes no runtime
//!   APIs); not counted against compatibility.
//!
//! `compatible` is true when no *required* item is missing or breakingly
//! changed.

use serde::{Deserialize, Serialize};

use crate::capabilities::Capabilities;
use crate::spec::SpecInfo;

/// Kind of an expected item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A storage item.
    Storage,
    /// A call.
    Call,
    /// A runtime API method.
    RuntimeApi,
    /// A named type (or one enum variant of it).
    Type,
}

impl ItemKind {
    /// Short lowercase name used in labels: `storage`, `call`, `api`, `type`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ItemKind::Storage => "storage",
            ItemKind::Call => "call",
            ItemKind::RuntimeApi => "api",
            ItemKind::Type => "type",
        }
    }
}

/// Outcome for one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    /// Present with the expected shape.
    Ok,
    /// Present in an accepted older form.
    Alternative {
        /// Which alternative (e.g. `opaque Vec<u8>`).
        label: String,
        /// The current form.
        expected: String,
        /// What the runtime has.
        found: String,
    },
    /// Present but different.
    Changed {
        /// What sn17 expects.
        expected: String,
        /// What the runtime has.
        found: String,
        /// Whether the node cannot use the item as it is.
        breaking: bool,
    },
    /// Absent.
    Missing {
        /// What is absent (the pallet, the item, the variant).
        reason: String,
    },
    /// Cannot be told from this metadata.
    Unknown {
        /// Why.
        reason: String,
    },
}

impl Status {
    /// Short lowercase name: `ok`, `alternative`, `changed`, `missing`, `unknown`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Alternative { .. } => "alternative",
            Status::Changed { .. } => "changed",
            Status::Missing { .. } => "missing",
            Status::Unknown { .. } => "unknown",
        }
    }

    /// Present in the expected form, possibly with informational differences.
    pub fn is_ok(&self) -> bool {
        matches!(
            self,
            Status::Ok
                | Status::Changed {
                    breaking: false,
                    ..
                }
        )
    }

    /// Usable by the node: [`Status::is_ok`] or an accepted alternative.
    pub fn is_usable(&self) -> bool {
        self.is_ok() || matches!(self, Status::Alternative { .. })
    }

    /// Missing or breakingly changed.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            Status::Missing { .. } | Status::Changed { breaking: true, .. }
        )
    }
}

/// Outcome for one expected item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemReport {
    /// Kind of item.
    pub kind: ItemKind,
    /// Pallet, or runtime API trait.
    pub scope: String,
    /// Item, call, method or type name.
    pub name: String,
    /// Whether the node needs it.
    pub required: bool,
    /// For optional items: what the node does without it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub fallback: Option<String>,
    /// What the node uses it for.
    pub purpose: String,
    /// Outcome.
    #[serde(flatten)]
    pub status: Status,
    /// Details: each difference found, alternative notes.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub notes: Vec<String>,
}

impl ItemReport {
    /// `Scope.name`, e.g. `SubtensorModule.Weights`.
    pub fn path(&self) -> String {
        format!("{}.{}", self.scope, self.name)
    }

    /// `kind Scope.name`, e.g. `storage SubtensorModule.Weights`; unique
    /// within a report.
    pub fn label(&self) -> String {
        format!("{} {}.{}", self.kind.as_str(), self.scope, self.name)
    }
}

/// Counts and the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Items checked.
    pub total: usize,
    /// Items [`Status::Ok`].
    pub ok: usize,
    /// Items [`Status::Alternative`].
    pub alternative: usize,
    /// Items [`Status::Changed`] (breaking or not).
    pub changed: usize,
    /// Items [`Status::Changed`] with `breaking: true`.
    pub changed_breaking: usize,
    /// Items [`Status::Missing`].
    pub missing: usize,
    /// Items [`Status::Unknown`].
    pub unknown: usize,
    /// Labels of required items that are missing or breakingly changed.
    pub required_failures: Vec<String>,
    /// Labels of required items whose status is unknown.
    pub required_unknown: Vec<String>,
    /// No required item is missing or breakingly changed.
    pub compatible: bool,
}

impl Summary {
    /// Summarises `items`.
    pub fn from_items(items: &[ItemReport]) -> Self {
        let count = |f: fn(&Status) -> bool| items.iter().filter(|i| f(&i.status)).count();
        let required_labels = |f: fn(&Status) -> bool| {
            items
                .iter()
                .filter(|i| i.required && f(&i.status))
                .map(ItemReport::label)
                .collect::<Vec<_>>()
        };
        let required_failures = required_labels(Status::is_failure);
        Summary {
            total: items.len(),
            ok: count(|s| matches!(s, Status::Ok)),
            alternative: count(|s| matches!(s, Status::Alternative { .. })),
            changed: count(|s| matches!(s, Status::Changed { .. })),
            changed_breaking: count(|s| matches!(s, Status::Changed { breaking: true, .. })),
            missing: count(|s| matches!(s, Status::Missing { .. })),
            unknown: count(|s| matches!(s, Status::Unknown { .. })),
            required_unknown: required_labels(|s| matches!(s, Status::Unknown { .. })),
            compatible: required_failures.is_empty(),
            required_failures,
        }
    }
}

/// The full compatibility report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Runtime identity, from `System.Version`.
    pub spec: Option<SpecInfo>,
    /// Metadata version, when known (see [`crate::DecodedMetadata::check`]).
    pub metadata_version: Option<u8>,
    /// Counts and verdict.
    pub summary: Summary,
    /// Code paths available on this runtime.
    pub capabilities: Capabilities,
    /// One entry per expected item, in table order.
    pub items: Vec<ItemReport>,
}

impl Report {
    /// Builds the report, computing summary and capabilities.
    pub fn new(spec: Option<SpecInfo>, items: Vec<ItemReport>) -> Self {
        let summary = Summary::from_items(&items);
        let capabilities = Capabilities::from_items(&items);
        Report {
            spec,
            metadata_version: None,
            summary,
            capabilities,
            items,
        }
    }

    /// Whether every required item is usable.
    pub fn is_compatible(&self) -> bool {
        self.summary.compatible
    }

    /// The item with this kind, scope and name.
    pub fn item(&self, kind: ItemKind, scope: &str, name: &str) -> Option<&ItemReport> {
        self.items
            .iter()
            .find(|i| i.kind == kind && i.scope == scope && i.name == name)
    }

    /// The item with this label (`storage SubtensorModule.Weights`).
    pub fn by_label(&self, label: &str) -> Option<&ItemReport> {
        self.items.iter().find(|i| i.label() == label)
    }

    /// Labels of the items with status `status` (`"ok"`, `"missing"`, …, as
    /// [`Status::as_str`]).
    pub fn labels_with_status(&self, status: &str) -> Vec<String> {
        self.items
            .iter()
            .filter(|i| i.status.as_str() == status)
            .map(ItemReport::label)
            .collect()
    }

    /// Labels of the missing items.
    pub fn missing(&self) -> Vec<String> {
        self.labels_with_status("missing")
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }
}
