//! Plain-text rendering of a [`Report`] for `sn17 metadata check`.

use std::fmt::Write;

use crate::report::{Report, Status};

/// Renders the report as a table: one line per item (status, required or
/// optional, kind, item, detail), then the summary and the capabilities.
pub fn render_table(report: &Report) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_table(report, &mut out);
    out
}

fn write_table(report: &Report, out: &mut String) -> std::fmt::Result {
    match &report.spec {
        Some(spec) => write!(
            out,
            "Runtime {} spec {} (impl {}, transaction {})",
            spec.spec_name, spec.spec_version, spec.impl_version, spec.transaction_version
        )?,
        None => out.push_str("Runtime version unknown"),
    }
    if let Some(v) = report.metadata_version {
        write!(out, ", metadata V{v}")?;
    }
    out.push_str("\n\n");

    let width = report
        .items
        .iter()
        .map(|i| i.path().chars().count())
        .max()
        .unwrap_or(0);
    writeln!(
        out,
        "{:<11} {:<3} {:<7} {:<width$}  DETAIL",
        "STATUS", "REQ", "KIND", "ITEM"
    )?;
    for item in &report.items {
        let req = if item.required { "req" } else { "opt" };
        let mut detail = match &item.status {
            Status::Ok => String::new(),
            Status::Alternative { label, found, .. } => format!("{label}: {found}"),
            Status::Changed {
                expected,
                found,
                breaking,
            } => {
                let what = if *breaking {
                    "BREAKING"
                } else {
                    "informational"
                };
                format!("{what}: expected {expected}; found {found}")
            }
            Status::Missing { reason } | Status::Unknown { reason } => reason.clone(),
        };
        for note in &item.notes {
            if !detail.is_empty() {
                detail.push_str(" | ");
            }
            detail.push_str(note);
        }
        if let (false, Some(fallback)) = (item.status.is_ok(), &item.fallback) {
            if !detail.is_empty() {
                detail.push_str(" | ");
            }
            write!(detail, "fallback: {fallback}")?;
        }
        writeln!(
            out,
            "{:<11} {:<3} {:<7} {:<width$}  {}",
            item.status.as_str(),
            req,
            item.kind.as_str(),
            item.path(),
            detail
        )?;
    }

    let s = &report.summary;
    writeln!(
        out,
        "\n{} items: {} ok, {} alternative, {} changed ({} breaking), {} missing, {} unknown",
        s.total, s.ok, s.alternative, s.changed, s.changed_breaking, s.missing, s.unknown
    )?;
    if s.compatible {
        out.push_str("compatible: yes (every required item is usable)");
        if !s.required_unknown.is_empty() {
            write!(
                out,
                "; not verifiable from this metadata: {}",
                s.required_unknown.join(", ")
            )?;
        }
        out.push('\n');
    } else {
        writeln!(out, "compatible: no ({})", s.required_failures.join(", "))?;
    }
    let flags: Vec<String> = report
        .capabilities
        .flags()
        .iter()
        .map(|(name, on)| format!("{name}={}", if *on { "yes" } else { "no" }))
        .collect();
    writeln!(out, "capabilities: {}", flags.join(" "))
}
