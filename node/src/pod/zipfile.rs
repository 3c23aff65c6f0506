//! The `GET /results` archive: reading it under §5.6's caps (entry count, per-entry and
//! `_failed.json` sizes, checked on the bytes actually inflated, not the headers' claims), and
//! writing it on the server side.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

use super::{PodLimits, PodResults};

/// The failures entry of the archive.
pub const FAILED_JSON: &str = "_failed.json";

/// Reads an archive; `Err` names the broken cap or the malformed part.
pub fn read(bytes: &[u8], limits: &PodLimits) -> Result<PodResults, String> {
    if bytes.len() as u64 > limits.max_zip_bytes {
        return Err(format!(
            "archive of {} bytes over {}",
            bytes.len(),
            limits.max_zip_bytes
        ));
    }
    let mut zip =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| format!("not a zip: {e}"))?;
    if zip.len() > limits.max_entries + 1 {
        return Err(format!("{} entries over {}", zip.len(), limits.max_entries));
    }
    let mut out = PodResults::default();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| format!("entry {i}: {e}"))?;
        if entry.is_dir() {
            continue;
        }
        let name = entry
            .name()
            .map_err(|e| format!("entry {i} name: {e}"))?
            .to_string();
        if name.contains('/') || name.contains('\\') || name.starts_with('.') {
            return Err(format!("entry name {name:?} is not a plain file name"));
        }
        let cap = if name == FAILED_JSON {
            limits.max_failed_json_bytes
        } else {
            limits.max_output_bytes
        };
        let mut data = Vec::new();
        (&mut entry)
            .take(cap + 1)
            .read_to_end(&mut data)
            .map_err(|e| format!("entry {name}: {e}"))?;
        if data.len() as u64 > cap {
            return Err(format!("entry {name} over {cap} bytes"));
        }
        if name == FAILED_JSON {
            let failed: BTreeMap<String, serde_json::Value> =
                serde_json::from_slice(&data).map_err(|e| format!("{FAILED_JSON}: {e}"))?;
            for (stem, reason) in failed {
                let reason = reason
                    .as_str()
                    .map_or_else(|| reason.to_string(), str::to_string);
                out.failed.insert(stem, reason);
            }
        } else {
            let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
            if stem.is_empty() {
                return Err(format!("entry {name:?} has no stem"));
            }
            if out.outputs.insert(stem.to_string(), data).is_some() {
                return Err(format!("two entries for stem {stem}"));
            }
        }
    }
    if out.outputs.len() > limits.max_entries {
        return Err(format!(
            "{} outputs over {}",
            out.outputs.len(),
            limits.max_entries
        ));
    }
    Ok(out)
}

/// Writes `outputs` as `{stem}.{ext}` entries plus `_failed.json` when anything failed.
pub fn write(
    outputs: &BTreeMap<String, Vec<u8>>,
    failed: &BTreeMap<String, String>,
    ext: &str,
) -> Result<Vec<u8>, String> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let err = |e: &dyn std::fmt::Display| e.to_string();
    for (stem, data) in outputs {
        w.start_file(format!("{stem}.{ext}"), opts)
            .map_err(|e| err(&e))?;
        w.write_all(data).map_err(|e| err(&e))?;
    }
    if !failed.is_empty() {
        w.start_file(FAILED_JSON, opts).map_err(|e| err(&e))?;
        w.write_all(&serde_json::to_vec(failed).map_err(|e| err(&e))?)
            .map_err(|e| err(&e))?;
    }
    Ok(w.finish().map_err(|e| err(&e))?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs(n: usize, size: usize) -> BTreeMap<String, Vec<u8>> {
        (0..n)
            .map(|i| (format!("s{i}"), vec![b'a'; size]))
            .collect()
    }

    #[test]
    fn round_trip_with_failures() {
        let mut failed = BTreeMap::new();
        failed.insert("s9".to_string(), "oom".to_string());
        let z = write(&outputs(3, 10), &failed, "ply").expect("write");
        let r = read(&z, &PodLimits::default()).expect("read");
        assert_eq!(r.outputs.len(), 3);
        assert_eq!(r.outputs["s1"], vec![b'a'; 10]);
        assert_eq!(r.failed["s9"], "oom");
    }

    #[test]
    fn caps_are_checked_on_inflated_bytes() {
        // 2 MiB of one byte deflates to a few KiB: the cap must still trip.
        let z = write(&outputs(1, 2 << 20), &BTreeMap::new(), "js").expect("write");
        assert!(z.len() < 64 << 10);
        let e = read(&z, &PodLimits::default()).expect_err("over the per-entry cap");
        assert!(e.contains("over 1048576"), "{e}");
    }

    #[test]
    fn too_many_entries_and_garbage_are_named() {
        let z = write(&outputs(101, 1), &BTreeMap::new(), "js").expect("write");
        let e = read(&z, &PodLimits::default()).expect_err("101 entries");
        assert!(e.contains("over 100"), "{e}");
        let e = read(b"PK\x03\x04 not really", &PodLimits::default()).expect_err("garbage");
        assert!(e.contains("not a zip"), "{e}");
        let limits = PodLimits {
            max_zip_bytes: 10,
            ..PodLimits::default()
        };
        let z = write(&outputs(1, 1), &BTreeMap::new(), "js").expect("write");
        assert!(read(&z, &limits)
            .expect_err("zip cap")
            .contains("archive of"));
    }
}
