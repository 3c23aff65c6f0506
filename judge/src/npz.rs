//! `embeddings.npz` as 404 writes it (`np.savez` of 1-D float32 arrays: `prompt`, then `view_<name>` for the 8
//! white views): a bounded reader that keeps the archive's key order, and a writer numpy can read back.

use std::io::{Cursor, Read as _, Write as _};

use crate::error::{Error, Result};

/// Caps for untrusted archives.
const MAX_ENTRIES: usize = 64;
const MAX_ARRAY_LEN: usize = 1 << 16;
const MAX_HEADER_LEN: usize = 4096;

/// Named 1-D float arrays in archive order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Embeddings {
    entries: Vec<(String, Vec<f32>)>,
}

impl Embeddings {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends (or replaces, keeping its position) an array.
    pub fn insert(&mut self, name: impl Into<String>, values: Vec<f32>) {
        let name = name.into();
        match self.entries.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = values,
            None => self.entries.push((name, values)),
        }
    }

    pub fn get(&self, name: &str) -> Option<&[f32]> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    pub fn entries(&self) -> impl Iterator<Item = (&str, &[f32])> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Parses an npz archive (stored or deflated members, `.npy` v1–v3, `<f4`/`<f8`, 1-D or `(1, n)`).
    pub fn from_npz(bytes: &[u8]) -> Result<Self> {
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| Error::Npz(format!("not a zip archive: {e}")))?;
        if zip.len() > MAX_ENTRIES {
            return Err(Error::Npz(format!(
                "{} members, the limit is {MAX_ENTRIES}",
                zip.len()
            )));
        }
        let mut out = Embeddings::new();
        for i in 0..zip.len() {
            let mut member = zip
                .by_index(i)
                .map_err(|e| Error::Npz(format!("member {i}: {e}")))?;
            let name = member
                .name()
                .map_err(|e| Error::Npz(format!("member {i} has no readable name: {e}")))?
                .to_string();
            let Some(key) = name.strip_suffix(".npy") else {
                return Err(Error::Npz(format!("member {name:?} is not a .npy array")));
            };
            let key = key.to_string();
            // The declared size can lie; read at most what the largest acceptable array needs.
            let cap = (MAX_HEADER_LEN + 16 + MAX_ARRAY_LEN * 8) as u64;
            let mut data = Vec::new();
            (&mut member)
                .take(cap + 1)
                .read_to_end(&mut data)
                .map_err(|e| Error::Npz(format!("reading {name:?}: {e}")))?;
            if data.len() as u64 > cap {
                return Err(Error::Npz(format!("{name:?} is larger than {cap} bytes")));
            }
            let values = parse_npy(&data).map_err(|e| Error::Npz(format!("{name:?}: {e}")))?;
            out.insert(key, values);
        }
        Ok(out)
    }

    /// Writes an archive `np.load` reads back (stored members, `.npy` v1, `<f4`, 1-D).
    pub fn to_npz(&self) -> Result<Vec<u8>> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, values) in &self.entries {
            zip.start_file(format!("{name}.npy"), options)
                .map_err(|e| Error::Npz(format!("writing {name}: {e}")))?;
            zip.write_all(&npy_bytes(values))
                .map_err(|e| Error::Npz(format!("writing {name}: {e}")))?;
        }
        let cursor = zip
            .finish()
            .map_err(|e| Error::Npz(format!("finishing archive: {e}")))?;
        Ok(cursor.into_inner())
    }
}

fn npy_bytes(values: &[f32]) -> Vec<u8> {
    let mut header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({},), }}",
        values.len()
    );
    // Magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64 and ending in '\n'.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + values.len() * 4);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

fn parse_npy(data: &[u8]) -> std::result::Result<Vec<f32>, String> {
    if data.len() < 10 || &data[..6] != b"\x93NUMPY" {
        return Err("missing the NPY magic".into());
    }
    let (header_len, start) = match data[6] {
        1 => (u16::from_le_bytes([data[8], data[9]]) as usize, 10),
        2 | 3 => {
            if data.len() < 12 {
                return Err("truncated header".into());
            }
            (
                u32::from_le_bytes([data[8], data[9], data[10], data[11]]) as usize,
                12,
            )
        }
        v => return Err(format!("unsupported NPY version {v}")),
    };
    if header_len > MAX_HEADER_LEN || start + header_len > data.len() {
        return Err("header length out of range".into());
    }
    let header =
        std::str::from_utf8(&data[start..start + header_len]).map_err(|_| "header is not text")?;
    let descr = dict_value(header, "descr").ok_or("header has no descr")?;
    let fortran = dict_value(header, "fortran_order").ok_or("header has no fortran_order")?;
    let shape = dict_value(header, "shape").ok_or("header has no shape")?;
    let elem = match descr.trim_matches(|c| c == '\'' || c == '"') {
        "<f4" => 4,
        "<f8" => 8,
        other => return Err(format!("unsupported dtype {other}")),
    };
    let dims: Vec<usize> = shape
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|_| format!("bad shape {shape}")))
        .collect::<std::result::Result<_, _>>()?;
    let n = match dims.as_slice() {
        [n] | [1, n] => *n,
        _ => return Err(format!("expected a 1-D array, got shape {shape}")),
    };
    if fortran.starts_with("True") && dims.len() > 1 {
        return Err("fortran-ordered arrays are not supported".into());
    }
    if n > MAX_ARRAY_LEN {
        return Err(format!("{n} elements, the limit is {MAX_ARRAY_LEN}"));
    }
    let body = &data[start + header_len..];
    if body.len() != n * elem {
        return Err(format!(
            "expected {} data bytes, found {}",
            n * elem,
            body.len()
        ));
    }
    Ok(match elem {
        4 => body
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        _ => body
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32)
            .collect(),
    })
}

/// The raw value text of `key` in a numpy header dict (`{'descr': '<f4', 'fortran_order': False, 'shape': (384,), }`).
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let at = header.find(&format!("'{key}'"))? + key.len() + 2;
    let rest = header[at..].trim_start().strip_prefix(':')?.trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')')? + 1
    } else {
        rest.find([',', '}'])?
    };
    Some(rest[..end].trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_order() {
        let mut e = Embeddings::new();
        e.insert("prompt", vec![1.0, -2.5, 3.25]);
        e.insert("view_front_left", vec![0.5; 3]);
        e.insert("view_back", vec![-0.0, 7.0, f32::MIN_POSITIVE]);
        let back = Embeddings::from_npz(&e.to_npz().unwrap()).unwrap();
        assert_eq!(back, e);
        let names: Vec<_> = back.entries().map(|(n, _)| n.to_string()).collect();
        assert_eq!(names, ["prompt", "view_front_left", "view_back"]);
    }

    #[test]
    fn npy_header_is_padded_to_64_bytes() {
        let b = npy_bytes(&[1.0; 384]);
        let header_len = u16::from_le_bytes([b[8], b[9]]) as usize;
        assert_eq!((10 + header_len) % 64, 0);
        assert_eq!(b[10 + header_len - 1], b'\n');
        assert_eq!(parse_npy(&b).unwrap().len(), 384);
    }

    fn npy(header: &str, body: &[u8]) -> Vec<u8> {
        let mut data = b"\x93NUMPY\x01\x00".to_vec();
        data.extend_from_slice(&(header.len() as u16).to_le_bytes());
        data.extend_from_slice(header.as_bytes());
        data.extend_from_slice(body);
        data
    }

    #[test]
    fn rejects_garbage_and_wrong_shapes() {
        assert!(Embeddings::from_npz(b"garbage").is_err());
        let mut bad = npy_bytes(&[1.0, 2.0]);
        bad.pop();
        assert!(parse_npy(&bad).unwrap_err().contains("data bytes"));
        let two_d = npy(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }\n",
            &[0; 16],
        );
        assert!(parse_npy(&two_d).unwrap_err().contains("1-D"));
        let int = npy(
            "{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }\n",
            &[0; 4],
        );
        assert!(parse_npy(&int).unwrap_err().contains("dtype"));
        let huge = npy(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999,), }\n",
            &[],
        );
        assert!(parse_npy(&huge).unwrap_err().contains("limit"));
    }

    #[test]
    fn reads_f64_and_row_vectors() {
        let mut body = 1.5f64.to_le_bytes().to_vec();
        body.extend_from_slice(&(-2.0f64).to_le_bytes());
        let data = npy(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }\n",
            &body,
        );
        assert_eq!(parse_npy(&data).unwrap(), vec![1.5, -2.0]);
    }
}
