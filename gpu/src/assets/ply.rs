//! 3DGS PLY: tolerant reader (binary LE/BE and ASCII, any property order, unknown properties
//! skipped) and a writer for the strict dialect 404's SPZ encoder accepts.

use super::splats::{normalize_quat, rest_coeffs, Splats};
use crate::error::AssetError;
use crate::limits::Limits;

/// Longest header we read before giving up; real 3DGS headers are ~1.5 KiB.
const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Records decoded per task; small enough to balance over cores, big enough to amortise.
const BLOCK: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlyFormat {
    Ascii,
    BinaryLittleEndian,
    BinaryBigEndian,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scalar {
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    F32,
    F64,
}

impl Scalar {
    fn parse(s: &str) -> Option<Scalar> {
        Some(match s {
            "char" | "int8" => Scalar::I8,
            "uchar" | "uint8" => Scalar::U8,
            "short" | "int16" => Scalar::I16,
            "ushort" | "uint16" => Scalar::U16,
            "int" | "int32" => Scalar::I32,
            "uint" | "uint32" => Scalar::U32,
            "float" | "float32" => Scalar::F32,
            "double" | "float64" => Scalar::F64,
            _ => return None,
        })
    }

    fn size(self) -> usize {
        match self {
            Scalar::I8 | Scalar::U8 => 1,
            Scalar::I16 | Scalar::U16 => 2,
            Scalar::I32 | Scalar::U32 | Scalar::F32 => 4,
            Scalar::F64 => 8,
        }
    }

    fn read(self, b: &[u8], little: bool) -> f32 {
        macro_rules! get {
            ($t:ty, $n:expr) => {{
                let mut a = [0u8; $n];
                a.copy_from_slice(&b[..$n]);
                if little {
                    <$t>::from_le_bytes(a)
                } else {
                    <$t>::from_be_bytes(a)
                }
            }};
        }
        match self {
            Scalar::I8 => b[0] as i8 as f32,
            Scalar::U8 => b[0] as f32,
            Scalar::I16 => get!(i16, 2) as f32,
            Scalar::U16 => get!(u16, 2) as f32,
            Scalar::I32 => get!(i32, 4) as f32,
            Scalar::U32 => get!(u32, 4) as f32,
            Scalar::F32 => get!(f32, 4),
            Scalar::F64 => get!(f64, 8) as f32,
        }
    }
}

#[derive(Debug, Clone)]
struct Property {
    name: String,
    ty: Scalar,
    offset: usize,
}

#[derive(Debug, Clone)]
struct Element {
    name: String,
    count: u64,
    props: Vec<Property>,
    stride: usize,
    has_list: bool,
}

/// What the header says, enough to size and locate the vertex records.
#[derive(Debug, Clone)]
pub struct PlyHeader {
    pub format: PlyFormat,
    pub vertex_count: u64,
    /// Bytes per vertex record (binary formats).
    pub stride: usize,
    /// Offset of the first byte after `end_header`.
    pub body_offset: usize,
    /// Number of `f_rest_*` properties.
    pub f_rest_count: usize,
    props: Vec<Property>,
    /// Elements declared before `vertex` (their data precedes the vertex records).
    before: Vec<Element>,
}

fn header_err(msg: impl Into<String>) -> AssetError {
    AssetError::PlyHeader(msg.into())
}

/// Parses the header only; cheap and allocation-bounded.
pub fn parse_header(bytes: &[u8]) -> Result<PlyHeader, AssetError> {
    let window = &bytes[..bytes.len().min(MAX_HEADER_BYTES)];
    let end = find(window, b"end_header")
        .ok_or_else(|| header_err("no `end_header` within the first 64 KiB"))?;
    let mut body_offset = end + b"end_header".len();
    match bytes.get(body_offset..body_offset + 2) {
        Some([b'\r', b'\n']) => body_offset += 2,
        _ => match bytes.get(body_offset) {
            Some(b'\n') => body_offset += 1,
            _ => return Err(header_err("`end_header` is not followed by a newline")),
        },
    }
    let text = std::str::from_utf8(&bytes[..end]).map_err(|_| header_err("header is not UTF-8"))?;
    let mut lines = text.lines().map(|l| l.trim_end_matches('\r'));
    if lines.next() != Some("ply") {
        return Err(header_err("first line is not `ply`"));
    }
    let mut format = None;
    let mut elements: Vec<Element> = Vec::new();
    for line in lines {
        let mut tok = line.split_ascii_whitespace();
        match tok.next() {
            None | Some("comment") | Some("obj_info") => {}
            Some("format") => {
                format = Some(match tok.next() {
                    Some("ascii") => PlyFormat::Ascii,
                    Some("binary_little_endian") => PlyFormat::BinaryLittleEndian,
                    Some("binary_big_endian") => PlyFormat::BinaryBigEndian,
                    other => return Err(header_err(format!("unknown format {other:?}"))),
                });
            }
            Some("element") => {
                let name = tok
                    .next()
                    .ok_or_else(|| header_err("element without a name"))?;
                let count = tok
                    .next()
                    .and_then(|c| c.parse::<u64>().ok())
                    .ok_or_else(|| header_err(format!("element `{name}` has no valid count")))?;
                elements.push(Element {
                    name: name.to_string(),
                    count,
                    props: Vec::new(),
                    stride: 0,
                    has_list: false,
                });
            }
            Some("property") => {
                let el = elements
                    .last_mut()
                    .ok_or_else(|| header_err("property before any element"))?;
                let ty = tok
                    .next()
                    .ok_or_else(|| header_err("property without a type"))?;
                if ty == "list" {
                    el.has_list = true;
                    continue;
                }
                let ty = Scalar::parse(ty)
                    .ok_or_else(|| header_err(format!("unknown property type `{ty}`")))?;
                let name = tok
                    .next()
                    .ok_or_else(|| header_err("property without a name"))?;
                el.props.push(Property {
                    name: name.to_string(),
                    ty,
                    offset: el.stride,
                });
                el.stride += ty.size();
            }
            Some(other) => return Err(header_err(format!("unexpected header keyword `{other}`"))),
        }
    }
    let format = format.ok_or_else(|| header_err("missing `format` line"))?;
    let vi = elements
        .iter()
        .position(|e| e.name == "vertex")
        .ok_or_else(|| header_err("no `vertex` element"))?;
    let vertex = elements[vi].clone();
    if vertex.has_list {
        return Err(AssetError::PlyUnsupported(
            "list property in the vertex element".into(),
        ));
    }
    let before: Vec<Element> = elements[..vi].to_vec();
    if format != PlyFormat::Ascii && before.iter().any(|e| e.has_list && e.count > 0) {
        return Err(AssetError::PlyUnsupported(
            "an element with list properties precedes the vertex element".into(),
        ));
    }
    let f_rest_count = vertex
        .props
        .iter()
        .filter(|p| p.name.starts_with("f_rest_"))
        .count();
    Ok(PlyHeader {
        format,
        vertex_count: vertex.count,
        stride: vertex.stride,
        body_offset,
        f_rest_count,
        props: vertex.props,
        before,
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Property index of each 3DGS field, in the order we store them.
struct FieldMap {
    /// x y z, scale_0..2, rot_0..3, opacity, f_dc_0..2 (14 entries).
    base: [usize; 14],
    /// f_rest_* property indices in our (coefficient-major) order: entry c·3 + channel holds the
    /// property `f_rest_{channel·k + c}` (PLY is channel major).
    rest: Vec<usize>,
    degree: u8,
}

/// PLY name index of the f_rest value stored at coefficient-major position `d` (k coefficients).
fn ply_rest_index(d: usize, k: usize) -> usize {
    (d % 3) * k + d / 3
}

const BASE_NAMES: [&str; 14] = [
    "x", "y", "z", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3", "opacity",
    "f_dc_0", "f_dc_1", "f_dc_2",
];

fn map_fields(props: &[Property]) -> Result<FieldMap, AssetError> {
    let mut seen = std::collections::HashSet::new();
    for p in props {
        if !seen.insert(p.name.as_str()) {
            return Err(AssetError::DuplicateProperty(p.name.clone()));
        }
    }
    let index = |name: &str| props.iter().position(|p| p.name == name);
    let mut base = [0usize; 14];
    for (k, name) in BASE_NAMES.iter().enumerate() {
        base[k] = index(name).ok_or_else(|| AssetError::MissingProperty(name.to_string()))?;
    }
    let count = props
        .iter()
        .filter(|p| p.name.starts_with("f_rest_"))
        .count();
    let degree = match count {
        0 => 0,
        9 => 1,
        24 => 2,
        45 => 3,
        _ => return Err(AssetError::BadShCount { count }),
    };
    let by_name = (0..count)
        .map(|i| {
            let name = format!("f_rest_{i}");
            index(&name).ok_or(AssetError::MissingProperty(name))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let rest = (0..count)
        .map(|d| by_name[ply_rest_index(d, count / 3)])
        .collect();
    Ok(FieldMap { base, rest, degree })
}

/// Mutable views into the output arrays for a run of consecutive gaussians.
struct Out<'a> {
    pos: &'a mut [[f32; 3]],
    scale: &'a mut [[f32; 3]],
    rot: &'a mut [[f32; 4]],
    opacity: &'a mut [f32],
    dc: &'a mut [[f32; 3]],
    rest: &'a mut [f32],
    rest_len: usize,
}

impl<'a> Out<'a> {
    fn len(&self) -> usize {
        self.pos.len()
    }

    fn split_at(self, mid: usize) -> (Out<'a>, Out<'a>) {
        let (p0, p1) = self.pos.split_at_mut(mid);
        let (s0, s1) = self.scale.split_at_mut(mid);
        let (r0, r1) = self.rot.split_at_mut(mid);
        let (o0, o1) = self.opacity.split_at_mut(mid);
        let (d0, d1) = self.dc.split_at_mut(mid);
        let (h0, h1) = self.rest.split_at_mut(mid * self.rest_len);
        let n = self.rest_len;
        (
            Out {
                pos: p0,
                scale: s0,
                rot: r0,
                opacity: o0,
                dc: d0,
                rest: h0,
                rest_len: n,
            },
            Out {
                pos: p1,
                scale: s1,
                rot: r1,
                opacity: o1,
                dc: d1,
                rest: h1,
                rest_len: n,
            },
        )
    }

    /// Stores one gaussian from its values in `BASE_NAMES` order plus f_rest already in our
    /// coefficient-major order.
    fn set(
        &mut self,
        i: usize,
        v: &[f32; 14],
        rest: &[f32],
        first: usize,
    ) -> Result<(), AssetError> {
        check_values(v, rest, self.rest_len, first + i)?;
        self.put_base(i, v);
        self.rest[i * self.rest_len..(i + 1) * self.rest_len].copy_from_slice(rest);
        Ok(())
    }

    /// Stores one gaussian's values other than f_rest (already checked).
    fn put_base(&mut self, i: usize, v: &[f32; 14]) {
        self.pos[i] = [v[0], v[1], v[2]];
        self.scale[i] = [v[3], v[4], v[5]];
        self.rot[i] = normalize_quat([v[6], v[7], v[8], v[9]]);
        self.opacity[i] = v[10];
        self.dc[i] = [v[11], v[12], v[13]];
    }
}

/// The error for gaussian `index`'s first value it may not hold: opacity logits may be ±inf
/// (fully transparent / opaque), everything else must be finite.
fn check_values(
    v: &[f32; 14],
    rest: &[f32],
    rest_len: usize,
    index: usize,
) -> Result<(), AssetError> {
    for (k, &x) in v.iter().enumerate() {
        let ok = if k == 10 { !x.is_nan() } else { x.is_finite() };
        if !ok {
            return Err(non_finite(BASE_NAMES[k], index, x));
        }
    }
    if let Some(d) = rest.iter().position(|x| !x.is_finite()) {
        let name = format!("f_rest_{}", ply_rest_index(d, rest_len / 3));
        return Err(non_finite(&name, index, rest[d]));
    }
    Ok(())
}

fn non_finite(property: &str, index: usize, value: f32) -> AssetError {
    AssetError::NonFinite {
        property: property.to_string(),
        index: index as u64,
        value,
    }
}

/// Loads 3DGS splats from PLY bytes (e.g. a memory-mapped file).
pub fn read(bytes: &[u8], limits: &Limits) -> Result<Splats, AssetError> {
    let header = parse_header(bytes)?;
    if header.vertex_count > limits.max_gaussians {
        return Err(AssetError::TooManyGaussians {
            count: header.vertex_count,
            limit: limits.max_gaussians,
        });
    }
    if header.vertex_count == 0 {
        return Err(AssetError::Empty("gaussians"));
    }
    let fields = map_fields(&header.props)?;
    let n = header.vertex_count as usize;
    let rest_len = rest_coeffs(fields.degree) * 3;
    // Make sure the body can hold every record before allocating for them.
    let body = &bytes[header.body_offset..];
    let needed = match header.format {
        PlyFormat::Ascii => (header.vertex_count).saturating_mul(header.props.len() as u64 * 2),
        _ => header.vertex_count.saturating_mul(header.stride as u64),
    };
    if needed > body.len() as u64 {
        return Err(AssetError::Truncated {
            expected: needed,
            actual: body.len() as u64,
        });
    }
    let mut splats = Splats {
        positions: vec![[0.0; 3]; n],
        log_scales: vec![[0.0; 3]; n],
        rotations: vec![[0.0; 4]; n],
        opacity_logits: vec![0.0; n],
        sh_dc: vec![[0.0; 3]; n],
        sh_rest: vec![0.0; n * rest_len],
        sh_degree: fields.degree,
        antialiased: false,
    };
    let out = Out {
        pos: &mut splats.positions,
        scale: &mut splats.log_scales,
        rot: &mut splats.rotations,
        opacity: &mut splats.opacity_logits,
        dc: &mut splats.sh_dc,
        rest: &mut splats.sh_rest,
        rest_len,
    };
    match header.format {
        PlyFormat::Ascii => read_ascii(body, &header, &fields, out)?,
        format => {
            let skip = skip_binary_elements(&header.before)?;
            // `needed` above bounds n·stride by the body length; `skip` comes straight from
            // the header, so the sum is checked (a saturated sum cannot fit any real body).
            let len = n.saturating_mul(header.stride);
            let records = skip
                .checked_add(len)
                .and_then(|end| body.get(skip..end))
                .ok_or_else(|| AssetError::Truncated {
                    expected: (skip as u64).saturating_add(len as u64),
                    actual: body.len() as u64,
                })?;
            let little = format == PlyFormat::BinaryLittleEndian;
            let plan = Plan::new(&header.props, &fields, little, header.stride);
            decode_binary(records, header.stride, &plan, out, 0)?;
        }
    }
    Ok(splats)
}

fn skip_binary_elements(before: &[Element]) -> Result<usize, AssetError> {
    let mut total: u64 = 0;
    for e in before {
        total = total.saturating_add(e.count.saturating_mul(e.stride as u64));
    }
    usize::try_from(total)
        .map_err(|_| AssetError::PlyUnsupported("elements before vertex are too large".into()))
}

/// Byte offsets and types of the fields we read, with a fast path for the usual layout.
struct Plan {
    base: [(usize, Scalar); 14],
    rest: Vec<(usize, Scalar)>,
    little: bool,
    fast: Option<FastPlan>,
}

/// Floats per record the fast path copies to the stack (SH 3 with normals is 62); a power of
/// two, so masking an index keeps it in range without a bounds check.
const FAST_FLOATS: usize = 128;

/// Every field we read is f32 LE at a 4-byte-aligned offset in a record of whole floats: a
/// record is decoded as one array of floats and the fields are picked from it by index.
struct FastPlan {
    base: [usize; 14],
    rest: Vec<usize>,
}

impl Plan {
    fn new(props: &[Property], fields: &FieldMap, little: bool, stride: usize) -> Plan {
        let at = |i: usize| (props[i].offset, props[i].ty);
        let base = fields.base.map(at);
        let rest: Vec<_> = fields.rest.iter().map(|&i| at(i)).collect();
        let fits = |&(off, ty): &(usize, Scalar)| ty == Scalar::F32 && off.is_multiple_of(4);
        let fast = (little
            && stride.is_multiple_of(4)
            && stride / 4 <= FAST_FLOATS
            && base.iter().chain(rest.iter()).all(fits))
        .then(|| FastPlan {
            base: base.map(|(off, _)| off / 4),
            rest: rest.iter().map(|(off, _)| off / 4).collect(),
        });
        Plan {
            base,
            rest,
            little,
            fast,
        }
    }
}

/// Splits the work in halves until blocks are small, decoding blocks in parallel.
fn decode_binary(
    records: &[u8],
    stride: usize,
    plan: &Plan,
    mut out: Out<'_>,
    first: usize,
) -> Result<(), AssetError> {
    let n = out.len();
    if n > BLOCK {
        let mid = n / 2;
        let (a, b) = out.split_at(mid);
        let (ra, rb) = records.split_at(mid * stride);
        let (x, y) = rayon::join(
            || decode_binary(ra, stride, plan, a, first),
            || decode_binary(rb, stride, plan, b, first + mid),
        );
        return x.and(y);
    }
    if let Some(fast) = &plan.fast {
        return decode_fast(records, stride, fast, out, first);
    }
    let mut rest = [0f32; 45];
    let rest = &mut rest[..plan.rest.len()];
    for (i, rec) in records.chunks_exact(stride).enumerate() {
        let mut v = [0f32; 14];
        for (k, &(off, ty)) in plan.base.iter().enumerate() {
            v[k] = ty.read(&rec[off..], plan.little);
        }
        for (k, &(off, ty)) in plan.rest.iter().enumerate() {
            rest[k] = ty.read(&rec[off..], plan.little);
        }
        out.set(i, &v, rest, first)?;
    }
    Ok(())
}

/// The fast path: one straight copy of the record into floats, then branch-free picking and
/// checking; only a record that fails the check goes through `check_values` to name the field.
fn decode_fast(
    records: &[u8],
    stride: usize,
    plan: &FastPlan,
    mut out: Out<'_>,
    first: usize,
) -> Result<(), AssetError> {
    let rest_len = out.rest_len;
    let mut f = [0f32; FAST_FLOATS];
    for (i, rec) in records.chunks_exact(stride).enumerate() {
        for (d, c) in f.iter_mut().zip(rec.chunks_exact(4)) {
            *d = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
        let pick = |k: usize| f[k & (FAST_FLOATS - 1)];
        let v = plan.base.map(pick);
        // Opacity logits may be ±inf (see `check_values`); NaN never.
        let mut bad = v[10].is_nan();
        for (k, &x) in v.iter().enumerate() {
            bad |= k != 10 && !x.is_finite();
        }
        let rest = &mut out.rest[i * rest_len..(i + 1) * rest_len];
        for (d, &k) in rest.iter_mut().zip(&plan.rest) {
            let x = pick(k);
            bad |= !x.is_finite();
            *d = x;
        }
        if bad {
            check_values(&v, rest, rest_len, first + i)?;
        }
        out.put_base(i, &v);
    }
    Ok(())
}

fn read_ascii(
    body: &[u8],
    header: &PlyHeader,
    fields: &FieldMap,
    mut out: Out<'_>,
) -> Result<(), AssetError> {
    let text = std::str::from_utf8(body).map_err(|_| AssetError::PlyValue {
        token: 0,
        detail: "body is not UTF-8".into(),
    })?;
    let mut lines = text.lines();
    // Elements before the vertex element are one line per item in ASCII.
    for e in &header.before {
        for k in 0..e.count {
            lines.next().ok_or(AssetError::Truncated {
                expected: e.count,
                actual: k,
            })?;
        }
    }
    let nprops = header.props.len();
    let mut values = vec![0f32; nprops];
    let mut rest = vec![0f32; fields.rest.len()];
    let mut token: u64 = 0;
    for i in 0..out.len() {
        let line = lines.next().ok_or_else(|| AssetError::Truncated {
            expected: out.len() as u64,
            actual: i as u64,
        })?;
        let mut tok = line.split_ascii_whitespace();
        for v in values.iter_mut() {
            let t = tok.next().ok_or_else(|| AssetError::PlyValue {
                token,
                detail: format!("vertex {i} has too few values"),
            })?;
            *v = t.parse::<f64>().map_err(|e| AssetError::PlyValue {
                token,
                detail: format!("`{t}`: {e}"),
            })? as f32;
            token += 1;
        }
        let mut v = [0f32; 14];
        for (k, &idx) in fields.base.iter().enumerate() {
            v[k] = values[idx];
        }
        for (k, &idx) in fields.rest.iter().enumerate() {
            rest[k] = values[idx];
        }
        out.set(i, &v, &rest, 0)?;
    }
    Ok(())
}

/// Writes the strict dialect: `ply` / `format binary_little_endian 1.0` / `element vertex N` /
/// float properties in INRIA order / `end_header`, LF only, no comments, `rot_0` = w, f_rest
/// channel major. Normals (zeros) are included when asked, as the INRIA trainer writes them.
pub fn write(splats: &Splats, include_normals: bool) -> Vec<u8> {
    let k = splats.rest_coeffs();
    let mut header = format!(
        "ply\nformat binary_little_endian 1.0\nelement vertex {}\n",
        splats.len()
    );
    let mut names: Vec<String> = vec!["x".into(), "y".into(), "z".into()];
    if include_normals {
        names.extend(["nx", "ny", "nz"].map(String::from));
    }
    names.extend(["f_dc_0", "f_dc_1", "f_dc_2"].map(String::from));
    names.extend((0..3 * k).map(|i| format!("f_rest_{i}")));
    names.extend(
        [
            "opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3",
        ]
        .map(String::from),
    );
    for n in &names {
        header.push_str("property float ");
        header.push_str(n);
        header.push('\n');
    }
    header.push_str("end_header\n");
    let stride = names.len() * 4;
    let mut out = Vec::with_capacity(header.len() + stride * splats.len());
    out.extend_from_slice(header.as_bytes());
    let mut rec: Vec<f32> = Vec::with_capacity(names.len());
    for i in 0..splats.len() {
        rec.clear();
        rec.extend_from_slice(&splats.positions[i]);
        if include_normals {
            rec.extend_from_slice(&[0.0; 3]);
        }
        rec.extend_from_slice(&splats.sh_dc[i]);
        let r = splats.rest_of(i);
        for c in 0..3 {
            rec.extend((0..k).map(|j| r[j * 3 + c]));
        }
        rec.push(splats.opacity_logits[i]);
        rec.extend_from_slice(&splats.log_scales[i]);
        rec.extend_from_slice(&splats.rotations[i]);
        for v in &rec {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}
