//! SPZ: Niantic versions 1-3 (one gzip stream), version 4 (plain `NGSP` header, TOC, one zstd
//! stream per attribute) and 404-GEN's variant (the v2 payload in one zstd frame).

use rayon::prelude::*;
use serde::Serialize;

use super::bounded::{self, Codec};
use super::splats::{logit, normalize_quat, rest_coeffs, sigmoid, Frame, Splats};
use crate::error::AssetError;
use crate::limits::Limits;

pub const MAGIC: u32 = 0x5053_474e; // "NGSP" little-endian
const FLAG_ANTIALIASED: u8 = 0x1;
const COLOR_SCALE: f32 = 0.15;
const V4_HEADER: usize = 32;

/// Which SPZ container a file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SpzContainer {
    /// Niantic v1-3: the payload in one gzip stream. Stored in RUB (+Y up) coordinates.
    Gzip,
    /// Niantic v4: plain header, TOC, per-attribute zstd streams. RUB coordinates.
    NianticV4,
    /// 404-GEN: the v2 payload in one zstd frame, coordinates copied from the PLY as is.
    Zstd404,
}

impl SpzContainer {
    /// Whether the format stores OpenGL-style RUB coordinates (Niantic) rather than the PLY's own.
    pub fn stores_rub(self) -> bool {
        !matches!(self, SpzContainer::Zstd404)
    }
}

/// Header facts, available without decoding the attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SpzHeader {
    pub container: SpzContainer,
    pub version: u32,
    pub num_points: u32,
    pub sh_degree: u32,
    pub fractional_bits: u8,
    pub antialiased: bool,
}

impl SpzHeader {
    fn parse16(b: &[u8], container: SpzContainer) -> Result<SpzHeader, AssetError> {
        if b.len() < 16 {
            return Err(AssetError::Truncated {
                expected: 16,
                actual: b.len() as u64,
            });
        }
        let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        if u32_at(0) != MAGIC {
            return Err(AssetError::SpzHeader(format!(
                "bad magic {:#010x}",
                u32_at(0)
            )));
        }
        Ok(SpzHeader {
            container,
            version: u32_at(4),
            num_points: u32_at(8),
            sh_degree: b[12] as u32,
            fractional_bits: b[13],
            antialiased: b[14] & FLAG_ANTIALIASED != 0,
        })
    }

    fn validate(&self, limits: &Limits) -> Result<(), AssetError> {
        let supported = match self.container {
            SpzContainer::NianticV4 => self.version == 4,
            _ => (1..=3).contains(&self.version),
        };
        if !supported {
            return Err(AssetError::UnsupportedSpzVersion(self.version));
        }
        if self.sh_degree > 3 {
            return Err(AssetError::UnsupportedShDegree(self.sh_degree));
        }
        if self.fractional_bits > 23 {
            return Err(AssetError::SpzHeader(format!(
                "{} fractional bits",
                self.fractional_bits
            )));
        }
        if self.num_points as u64 > limits.max_gaussians {
            return Err(AssetError::TooManyGaussians {
                count: self.num_points as u64,
                limit: limits.max_gaussians,
            });
        }
        if self.num_points == 0 {
            return Err(AssetError::Empty("gaussians"));
        }
        Ok(())
    }

    /// Byte sizes of positions, alphas, colours, scales, rotations, SH.
    fn block_sizes(&self) -> [usize; 6] {
        let n = self.num_points as usize;
        let pos = if self.version == 1 { 6 } else { 9 };
        let rot = if self.version >= 3 { 4 } else { 3 };
        let sh = rest_coeffs(self.sh_degree as u8) * 3;
        [n * pos, n, 3 * n, 3 * n, n * rot, n * sh]
    }

    pub fn payload_bytes(&self) -> u64 {
        self.block_sizes().iter().map(|&s| s as u64).sum::<u64>()
    }
}

/// Detects the container from the first bytes.
pub fn sniff(bytes: &[u8]) -> Option<SpzContainer> {
    match bytes {
        [0x1f, 0x8b, ..] => Some(SpzContainer::Gzip),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Some(SpzContainer::Zstd404),
        [b'N', b'G', b'S', b'P', ..] => Some(SpzContainer::NianticV4),
        _ => None,
    }
}

fn codec(c: SpzContainer) -> Codec {
    match c {
        SpzContainer::Gzip => Codec::Gzip,
        _ => Codec::Zstd,
    }
}

/// Reads only the header (decompressing 16 bytes for the streamed containers).
pub fn read_header(bytes: &[u8]) -> Result<SpzHeader, AssetError> {
    let container = sniff(bytes).ok_or_else(|| AssetError::SpzHeader("not an SPZ file".into()))?;
    match container {
        SpzContainer::NianticV4 => SpzHeader::parse16(bytes, container),
        _ => {
            let mut r = bounded::decoder(codec(container), bytes)?;
            let head = bounded::read_exact(&mut r, codec(container), 16, 0)?;
            SpzHeader::parse16(&head, container)
        }
    }
}

/// Decodes an SPZ file. Niantic files (stored RUB) are delivered in `niantic_frame`; 404's
/// variant is returned exactly as stored.
pub fn read(
    bytes: &[u8],
    limits: &Limits,
    niantic_frame: Frame,
) -> Result<(Splats, SpzHeader), AssetError> {
    let container = sniff(bytes).ok_or_else(|| AssetError::SpzHeader("not an SPZ file".into()))?;
    let (header, payload) = match container {
        SpzContainer::NianticV4 => read_v4(bytes, limits)?,
        _ => read_streamed(bytes, container, limits)?,
    };
    let mut splats = unpack(&header, &payload)?;
    if niantic_frame == Frame::Rdf && container.stores_rub() {
        splats.rotate_x180();
    }
    Ok((splats, header))
}

fn check_payload_limit(header: &SpzHeader, limits: &Limits) -> Result<(), AssetError> {
    if header.payload_bytes() > limits.max_decompressed_bytes {
        return Err(AssetError::DecompressedTooLarge {
            limit: limits.max_decompressed_bytes,
        });
    }
    Ok(())
}

/// gzip (v1-3) and 404's zstd: decompress the header, size the payload from it, then read exactly
/// that much; anything after it (e.g. v3 trailers) is never decompressed.
fn read_streamed(
    bytes: &[u8],
    container: SpzContainer,
    limits: &Limits,
) -> Result<(SpzHeader, Vec<u8>), AssetError> {
    let codec = codec(container);
    let mut r = bounded::decoder(codec, bytes)?;
    let head = bounded::read_exact(&mut r, codec, 16, 0)?;
    let header = SpzHeader::parse16(&head, container)?;
    header.validate(limits)?;
    check_payload_limit(&header, limits)?;
    let payload = bounded::read_exact(&mut r, codec, header.payload_bytes() as usize, 16)?;
    Ok((header, payload))
}

fn read_v4(bytes: &[u8], limits: &Limits) -> Result<(SpzHeader, Vec<u8>), AssetError> {
    if bytes.len() < V4_HEADER {
        return Err(AssetError::Truncated {
            expected: V4_HEADER as u64,
            actual: bytes.len() as u64,
        });
    }
    let header = SpzHeader::parse16(bytes, SpzContainer::NianticV4)?;
    header.validate(limits)?;
    check_payload_limit(&header, limits)?;
    let num_streams = bytes[15] as usize;
    let toc = u32::from_le_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]) as usize;
    let sizes = header.block_sizes();
    let expected: Vec<usize> = sizes.iter().copied().filter(|&s| s > 0).collect();
    if num_streams != expected.len() {
        return Err(AssetError::SpzHeader(format!(
            "{num_streams} streams, expected {}",
            expected.len()
        )));
    }
    if toc < V4_HEADER {
        return Err(AssetError::SpzHeader(format!(
            "TOC offset {toc} inside the header"
        )));
    }
    // The TOC offset is a header u32: add in u64 so no target width can overflow.
    let toc_end = toc as u64 + 16 * num_streams as u64;
    if toc_end > bytes.len() as u64 {
        return Err(AssetError::Truncated {
            expected: toc_end,
            actual: bytes.len() as u64,
        });
    }
    let mut payload = Vec::new();
    payload
        .try_reserve_exact(header.payload_bytes() as usize)
        .map_err(|_| AssetError::DecompressedTooLarge {
            limit: header.payload_bytes(),
        })?;
    let mut at = toc_end;
    for (i, &want) in expected.iter().enumerate() {
        let e = toc + 16 * i;
        let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap_or([0; 8]));
        let (compressed, uncompressed) = (u64_at(e), u64_at(e + 8));
        if uncompressed != want as u64 {
            return Err(AssetError::SpzHeader(format!(
                "stream {i} holds {uncompressed} bytes, expected {want}"
            )));
        }
        let end = at
            .checked_add(compressed)
            .filter(|&end| end <= bytes.len() as u64)
            .ok_or_else(|| AssetError::Truncated {
                expected: at.saturating_add(compressed),
                actual: bytes.len() as u64,
            })?;
        let stream = &bytes[at as usize..end as usize];
        let mut r = bounded::decoder(Codec::Zstd, stream)?;
        payload.extend_from_slice(&bounded::read_exact(&mut r, Codec::Zstd, want, 0)?);
        at = end;
    }
    Ok((header, payload))
}

fn f16_to_f32(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let mant = (h & 0x3ff) as f32;
    match exp {
        0 => sign * mant * 2f32.powi(-24),
        31 => {
            if mant == 0.0 {
                sign * f32::INFINITY
            } else {
                f32::NAN
            }
        }
        e => sign * (1.0 + mant / 1024.0) * 2f32.powi(e - 15),
    }
}

/// Smallest-three quaternion (v3+): 2 bits index of the largest component, then three 10-bit
/// (sign + 9-bit magnitude) components, highest index in the lowest bits. Returns (w, x, y, z).
fn unpack_smallest_three(b: &[u8]) -> [f32; 4] {
    let mut packed = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let largest = (packed >> 30) as usize;
    let mask = (1u32 << 9) - 1;
    let mut xyzw = [0f32; 4];
    let mut sum = 0.0;
    for i in (0..4).rev() {
        if i == largest {
            continue;
        }
        let mag = (packed & mask) as f32;
        let neg = (packed >> 9) & 1 == 1;
        packed >>= 10;
        let v = std::f32::consts::FRAC_1_SQRT_2 * mag / mask as f32;
        xyzw[i] = if neg { -v } else { v };
        sum += v * v;
    }
    xyzw[largest] = (1.0 - sum).max(0.0).sqrt();
    [xyzw[3], xyzw[0], xyzw[1], xyzw[2]]
}

fn pack_smallest_three(q: [f32; 4]) -> [u8; 4] {
    let xyzw = [q[1], q[2], q[3], q[0]];
    let largest = (0..4).fold(0, |m, i| if xyzw[i].abs() > xyzw[m].abs() { i } else { m });
    let sign = if xyzw[largest] < 0.0 { -1.0 } else { 1.0 };
    let mask = (1u32 << 9) - 1;
    let mut packed = largest as u32;
    for (i, &c) in xyzw.iter().enumerate() {
        if i == largest {
            continue;
        }
        let c = c * sign;
        let mag = ((c.abs() / std::f32::consts::FRAC_1_SQRT_2) * mask as f32)
            .round()
            .clamp(0.0, mask as f32) as u32;
        packed = (packed << 10) | (u32::from(c < 0.0) << 9) | mag;
    }
    packed.to_le_bytes()
}

fn unpack(h: &SpzHeader, payload: &[u8]) -> Result<Splats, AssetError> {
    let sizes = h.block_sizes();
    let mut blocks = [&payload[..0]; 6];
    let mut at = 0;
    for (b, &s) in blocks.iter_mut().zip(&sizes) {
        *b = payload
            .get(at..at + s)
            .ok_or_else(|| AssetError::Truncated {
                expected: (at + s) as u64,
                actual: payload.len() as u64,
            })?;
        at += s;
    }
    let [pos, alpha, color, scale, rot, sh] = blocks;
    let n = h.num_points as usize;
    let degree = h.sh_degree as u8;
    let k = rest_coeffs(degree) * 3;
    let inv = 1.0 / (1u32 << h.fractional_bits) as f32;
    let v1 = h.version == 1;
    let positions: Vec<[f32; 3]> = (0..n)
        .into_par_iter()
        .map(|i| {
            if v1 {
                let b = &pos[i * 6..i * 6 + 6];
                [0, 1, 2].map(|c| f16_to_f32(u16::from_le_bytes([b[2 * c], b[2 * c + 1]])))
            } else {
                let b = &pos[i * 9..i * 9 + 9];
                [0, 1, 2].map(|c| {
                    let raw =
                        b[3 * c] as i32 | (b[3 * c + 1] as i32) << 8 | (b[3 * c + 2] as i32) << 16;
                    ((raw << 8) >> 8) as f32 * inv
                })
            }
        })
        .collect();
    if let Some(i) = positions
        .iter()
        .position(|p| !p.iter().all(|v| v.is_finite()))
    {
        return Err(AssetError::NonFinite {
            property: "position".into(),
            index: i as u64,
            value: f32::NAN,
        });
    }
    let rotations: Vec<[f32; 4]> = (0..n)
        .into_par_iter()
        .map(|i| {
            if h.version >= 3 {
                unpack_smallest_three(&rot[i * 4..i * 4 + 4])
            } else {
                let b = &rot[i * 3..i * 3 + 3];
                let [x, y, z] = [0, 1, 2].map(|c| b[c] as f32 / 127.5 - 1.0);
                let w = (1.0 - (x * x + y * y + z * z)).max(0.0).sqrt();
                normalize_quat([w, x, y, z])
            }
        })
        .collect();
    Ok(Splats {
        positions,
        log_scales: scale
            .chunks_exact(3)
            .map(|b| [0, 1, 2].map(|c| b[c] as f32 / 16.0 - 10.0))
            .collect(),
        rotations,
        opacity_logits: alpha.iter().map(|&a| logit(a as f32 / 255.0)).collect(),
        sh_dc: color
            .chunks_exact(3)
            .map(|b| [0, 1, 2].map(|c| (b[c] as f32 / 255.0 - 0.5) / COLOR_SCALE))
            .collect(),
        sh_rest: sh[..n * k]
            .iter()
            .map(|&b| (b as f32 - 128.0) / 128.0)
            .collect(),
        sh_degree: degree,
        antialiased: h.antialiased,
    })
}

/// Which SPZ flavour to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpzFlavor {
    /// 404-GEN: v2 layout, one zstd frame (with its content size), PLY coordinates kept.
    Zstd404,
    /// Niantic v3: smallest-three rotations, gzip, stored RUB (converted when the source is RDF).
    NianticV3,
}

fn to_u8(x: f32) -> u8 {
    x.round().clamp(0.0, 255.0) as u8
}

/// Rounds to 8 bits and then to the centre of a bucket of `bucket` values (Niantic's quantizeSH).
fn quantize_sh(x: f32, bucket: i32) -> u8 {
    let q = (x * 128.0).round() as i32 + 128;
    let q = (q + bucket / 2) / bucket * bucket;
    q.clamp(0, 255) as u8
}

/// Encodes splats given in frame `source` as SPZ. Quantisation follows 404/Niantic: 12 fractional
/// bits for positions, 8 bits elsewhere, SH band 1 at 5 bits and higher bands at 4. The 404
/// flavour keeps coordinates as given (as 404's encoder does); Niantic's stores RUB.
pub fn write(splats: &Splats, flavor: SpzFlavor, source: Frame) -> Result<Vec<u8>, AssetError> {
    let mut s = splats.clone();
    if flavor == SpzFlavor::NianticV3 && source == Frame::Rdf {
        s.rotate_x180();
    }
    let n = s.len();
    let version: u32 = if flavor == SpzFlavor::NianticV3 { 3 } else { 2 };
    let k = s.rest_coeffs() * 3;
    let mut out = Vec::with_capacity(16 + n * (19 + k + 4));
    out.extend_from_slice(&MAGIC.to_le_bytes());
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&(n as u32).to_le_bytes());
    out.extend_from_slice(&[
        s.sh_degree,
        12,
        if s.antialiased { FLAG_ANTIALIASED } else { 0 },
        0,
    ]);
    let limit = ((1 << 23) - 1) as f32;
    for p in &s.positions {
        for &v in p {
            let f = (v * 4096.0).round();
            if f.is_nan() || f.abs() > limit {
                return Err(AssetError::SpzRange {
                    property: "position",
                    value: v,
                });
            }
            let f = f as i32;
            out.extend_from_slice(&[f as u8, (f >> 8) as u8, (f >> 16) as u8]);
        }
    }
    out.extend(s.opacity_logits.iter().map(|&o| to_u8(sigmoid(o) * 255.0)));
    for c in &s.sh_dc {
        out.extend(c.iter().map(|&v| to_u8(v * (COLOR_SCALE * 255.0) + 127.5)));
    }
    for l in &s.log_scales {
        out.extend(l.iter().map(|&v| to_u8((v + 10.0) * 16.0)));
    }
    for &q in &s.rotations {
        let q = normalize_quat(q);
        if version >= 3 {
            out.extend_from_slice(&pack_smallest_three(q));
        } else {
            let sign = if q[0] < 0.0 { -1.0 } else { 1.0 };
            out.extend((1..4).map(|c| to_u8(q[c] * sign * 127.5 + 127.5)));
        }
    }
    for chunk in s
        .sh_rest
        .chunks_exact(k.max(1))
        .take(if k == 0 { 0 } else { n })
    {
        out.extend(
            chunk
                .iter()
                .enumerate()
                .map(|(j, &v)| quantize_sh(v, if j < 9 { 8 } else { 16 })),
        );
    }
    match flavor {
        SpzFlavor::Zstd404 => zstd::bulk::compress(&out, 1).map_err(|e| AssetError::Decompress {
            codec: "zstd",
            detail: format!("compressing: {e}"),
        }),
        SpzFlavor::NianticV3 => {
            use std::io::Write;
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(&out)
                .and_then(|_| enc.finish())
                .map_err(|e| AssetError::Decompress {
                    codec: "gzip",
                    detail: format!("compressing: {e}"),
                })
        }
    }
}
