//! GLB (binary glTF 2.0) to a world-space `Mesh`: node transforms, every mesh and primitive,
//! base-colour factor and embedded texture, vertex colours. External URIs are refused.

use std::io::Cursor;

use glam::{Mat3, Mat4, Vec3};
use gltf::accessor::{DataType, Dimensions};
use gltf::mesh::Mode;
use gltf::Semantic;
use serde::Serialize;

use super::mesh::{AlphaMode, Material, Mesh, Primitive, Texture, TextureRef, Vertex, Wrap};
use crate::error::AssetError;
use crate::limits::Limits;

/// Deepest node hierarchy we follow, and most node visits (a cycle guard).
const MAX_DEPTH: usize = 64;
const MAX_NODE_VISITS: usize = 1_000_000;

/// What a GLB holds, found without decoding geometry or images.
#[derive(Debug, Clone, Serialize)]
pub struct GlbSummary {
    pub meshes: usize,
    pub primitives: usize,
    pub nodes: usize,
    pub materials: usize,
    /// Mesh instances placed by the scene's nodes.
    pub instances: usize,
    /// Triangles after instancing.
    pub triangles: u64,
    pub vertices: u64,
    pub textures: Vec<ImageInfo>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImageInfo {
    pub index: usize,
    pub width: u32,
    pub height: u32,
    pub mime: Option<String>,
}

fn gltf_err(e: impl std::fmt::Display) -> AssetError {
    AssetError::Gltf(e.to_string())
}

/// A parsed document with its binary chunk, checked for external references.
struct Doc {
    gltf: gltf::Gltf,
    /// Data of each buffer (all point into the GLB's BIN chunk).
    buffers: Vec<(usize, usize)>,
}

impl Doc {
    fn parse(bytes: &[u8]) -> Result<Doc, AssetError> {
        if !bytes.starts_with(b"glTF") {
            return Err(AssetError::Gltf("not a binary glTF (GLB) file".into()));
        }
        let gltf = guard(|| gltf::Gltf::from_slice(bytes).map_err(gltf_err))?;
        if let Some(ext) = gltf.extensions_required().next() {
            return Err(AssetError::UnsupportedExtension(ext.to_string()));
        }
        let blob_len = gltf.blob.as_ref().map_or(0, |b| b.len());
        let mut buffers = Vec::new();
        for b in gltf.buffers() {
            match b.source() {
                gltf::buffer::Source::Uri(uri) => {
                    return Err(AssetError::ExternalUri(uri.chars().take(200).collect()))
                }
                gltf::buffer::Source::Bin => {
                    if b.length() > blob_len {
                        return Err(AssetError::Truncated {
                            expected: b.length() as u64,
                            actual: blob_len as u64,
                        });
                    }
                    buffers.push((0, b.length()));
                }
            }
        }
        for img in gltf.images() {
            if let gltf::image::Source::Uri { uri, .. } = img.source() {
                return Err(AssetError::ExternalUri(uri.chars().take(200).collect()));
            }
        }
        for v in gltf.views() {
            let (_, len) = buffers[v.buffer().index()];
            if v.offset()
                .checked_add(v.length())
                .is_none_or(|end| end > len)
            {
                return Err(gltf_err(format!(
                    "buffer view {} runs past its buffer",
                    v.index()
                )));
            }
            if v.stride().is_some_and(|s| s == 0 || s > 252) {
                return Err(gltf_err(format!(
                    "buffer view {} has an invalid stride",
                    v.index()
                )));
            }
        }
        Ok(Doc { gltf, buffers })
    }

    fn blob(&self) -> &[u8] {
        self.gltf.blob.as_deref().unwrap_or(&[])
    }

    fn view_bytes(&self, view: &gltf::buffer::View) -> &[u8] {
        let (start, _) = self.buffers[view.buffer().index()];
        let o = start + view.offset();
        &self.blob()[o..o + view.length()]
    }

    /// Mesh instances (mesh index, world matrix) of the default scene, or of every root node.
    fn instances(&self) -> Result<Vec<(usize, Mat4)>, AssetError> {
        let roots: Vec<gltf::Node> = match self
            .gltf
            .default_scene()
            .or_else(|| self.gltf.scenes().next())
        {
            Some(scene) => scene.nodes().collect(),
            None => {
                let mut is_child = vec![false; self.gltf.nodes().len()];
                for n in self.gltf.nodes() {
                    for c in n.children() {
                        is_child[c.index()] = true;
                    }
                }
                self.gltf.nodes().filter(|n| !is_child[n.index()]).collect()
            }
        };
        let mut out = Vec::new();
        // Depth-first pre-order in document order (children pushed reversed), so draw order is stable.
        let mut stack: Vec<(gltf::Node, Mat4, usize)> = roots
            .into_iter()
            .rev()
            .map(|n| (n, Mat4::IDENTITY, 0))
            .collect();
        let mut visits = 0usize;
        while let Some((node, parent, depth)) = stack.pop() {
            visits += 1;
            if depth > MAX_DEPTH || visits > MAX_NODE_VISITS {
                return Err(gltf_err("node hierarchy too deep or cyclic"));
            }
            let world = parent * Mat4::from_cols_array_2d(&node.transform().matrix());
            if let Some(mesh) = node.mesh() {
                out.push((mesh.index(), world));
            }
            let children: Vec<gltf::Node> = node.children().collect();
            for c in children.into_iter().rev() {
                stack.push((c, world, depth + 1));
            }
        }
        Ok(out)
    }

    fn summary(&self) -> Result<GlbSummary, AssetError> {
        let instances = self.instances()?;
        let mut triangles = 0u64;
        let mut vertices = 0u64;
        for (m, _) in &instances {
            if let Some(mesh) = self.gltf.meshes().nth(*m) {
                for p in mesh.primitives() {
                    let (t, v) = primitive_counts(&p);
                    triangles = triangles.saturating_add(t);
                    vertices = vertices.saturating_add(v);
                }
            }
        }
        let textures = self
            .gltf
            .images()
            .map(|img| {
                let (bytes, mime) = self.image_bytes(&img);
                let (width, height) = image_dimensions(bytes).unwrap_or((0, 0));
                ImageInfo {
                    index: img.index(),
                    width,
                    height,
                    mime,
                }
            })
            .collect();
        Ok(GlbSummary {
            meshes: self.gltf.meshes().len(),
            primitives: self.gltf.meshes().map(|m| m.primitives().len()).sum(),
            nodes: self.gltf.nodes().len(),
            materials: self.gltf.materials().len(),
            instances: instances.len(),
            triangles,
            vertices,
            textures,
        })
    }

    fn image_bytes(&self, img: &gltf::Image) -> (&[u8], Option<String>) {
        match img.source() {
            gltf::image::Source::View { view, mime_type } => {
                (self.view_bytes(&view), Some(mime_type.to_string()))
            }
            gltf::image::Source::Uri { .. } => (&[], None),
        }
    }
}

/// Runs gltf-crate code that might panic on input we did not foresee, as an error instead.
fn guard<T>(f: impl FnOnce() -> Result<T, AssetError>) -> Result<T, AssetError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(gltf_err("malformed glTF data")))
}

/// Triangles and vertices one primitive contributes (per instance).
fn primitive_counts(p: &gltf::Primitive) -> (u64, u64) {
    let verts = p.get(&Semantic::Positions).map_or(0, |a| a.count() as u64);
    let n = p.indices().map_or(verts, |a| a.count() as u64);
    let tris = match p.mode() {
        Mode::Triangles => n / 3,
        Mode::TriangleStrip | Mode::TriangleFan => n.saturating_sub(2),
        _ => 0,
    };
    (tris, verts)
}

fn image_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .ok()?
        .into_dimensions()
        .ok()
}

/// Reads the summary only (used by `inspect` and for limit checks before decoding).
pub fn summarize(bytes: &[u8]) -> Result<GlbSummary, AssetError> {
    guard(|| Doc::parse(bytes)?.summary())
}

/// Checks an accessor's declared layout against its buffer view before any read touches it.
fn check_accessor(
    doc: &Doc,
    a: &gltf::Accessor,
    allowed: &[(DataType, Dimensions)],
) -> Result<(), AssetError> {
    let what = format!("accessor {}", a.index());
    if !allowed.contains(&(a.data_type(), a.dimensions())) {
        return Err(gltf_err(format!(
            "{what} has unsupported type {:?} {:?}",
            a.data_type(),
            a.dimensions()
        )));
    }
    if a.sparse().is_some() {
        return Err(gltf_err(format!("{what} is sparse (not supported)")));
    }
    let view = a
        .view()
        .ok_or_else(|| gltf_err(format!("{what} has no buffer view")))?;
    let elem = a.size();
    let stride = view.stride().unwrap_or(elem);
    if a.count() == 0 || stride < elem {
        return Err(gltf_err(format!(
            "{what} is empty or its stride is smaller than an element"
        )));
    }
    let end = (a.count() - 1)
        .checked_mul(stride)
        .and_then(|x| x.checked_add(elem))
        .and_then(|x| x.checked_add(a.offset()));
    if end.is_none_or(|end| end > doc.view_bytes(&view).len()) {
        return Err(gltf_err(format!("{what} runs past its buffer view")));
    }
    Ok(())
}

fn wrap(w: gltf::texture::WrappingMode) -> Wrap {
    match w {
        gltf::texture::WrappingMode::Repeat => Wrap::Repeat,
        gltf::texture::WrappingMode::MirroredRepeat => Wrap::MirroredRepeat,
        gltf::texture::WrappingMode::ClampToEdge => Wrap::ClampToEdge,
    }
}

/// Loads a GLB into a world-space mesh, enforcing `limits` before decoding anything large.
pub fn read(bytes: &[u8], limits: &Limits) -> Result<Mesh, AssetError> {
    guard(|| read_inner(bytes, limits))
}

fn read_inner(bytes: &[u8], limits: &Limits) -> Result<Mesh, AssetError> {
    let doc = Doc::parse(bytes)?;
    let summary = doc.summary()?;
    if summary.triangles > limits.max_triangles {
        return Err(AssetError::TooManyTriangles {
            count: summary.triangles,
            limit: limits.max_triangles,
        });
    }
    let mut mesh = Mesh::default();

    // Materials (plus the glTF default at the end) and the images they use.
    let mut image_slot: Vec<Option<usize>> = vec![None; doc.gltf.images().len()];
    let mut decoded_bytes = 0u64;
    for m in doc.gltf.materials() {
        let pbr = m.pbr_metallic_roughness();
        let base_color_texture = match pbr.base_color_texture() {
            Some(info) if info.tex_coord() <= 1 => {
                let tex = info.texture();
                let img = tex.source();
                let slot = match image_slot[img.index()] {
                    Some(s) => s,
                    None => {
                        let (data, _) = doc.image_bytes(&img);
                        let t = decode_image(img.index(), data, limits, &mut decoded_bytes)?;
                        mesh.textures.push(t);
                        image_slot[img.index()] = Some(mesh.textures.len() - 1);
                        mesh.textures.len() - 1
                    }
                };
                let s = tex.sampler();
                Some((
                    TextureRef {
                        texture: slot,
                        wrap_s: wrap(s.wrap_s()),
                        wrap_t: wrap(s.wrap_t()),
                    },
                    info.tex_coord(),
                ))
            }
            _ => None,
        };
        mesh.materials.push(Material {
            base_color: pbr.base_color_factor(),
            base_color_texture: base_color_texture.map(|(t, _)| t),
            double_sided: m.double_sided(),
            alpha_mode: match m.alpha_mode() {
                gltf::material::AlphaMode::Opaque => AlphaMode::Opaque,
                gltf::material::AlphaMode::Mask => {
                    AlphaMode::Mask(m.alpha_cutoff().unwrap_or(0.5).to_bits())
                }
                gltf::material::AlphaMode::Blend => AlphaMode::Blend,
            },
        });
    }
    let default_material = mesh.materials.len() as u32;
    mesh.materials.push(Material::default());

    let meshes: Vec<gltf::Mesh> = doc.gltf.meshes().collect();
    for (mi, world) in doc.instances()? {
        let Some(gmesh) = meshes.get(mi) else {
            continue;
        };
        let normal_m = Mat3::from_mat4(world).inverse().transpose();
        let flip = world.determinant() < 0.0;
        for p in gmesh.primitives() {
            if !matches!(
                p.mode(),
                Mode::Triangles | Mode::TriangleStrip | Mode::TriangleFan
            ) {
                tracing::debug!(mode = ?p.mode(), "skipping non-triangle primitive");
                continue;
            }
            let material = p.material().index().map_or(default_material, |i| i as u32);
            let tex_coord = p
                .material()
                .pbr_metallic_roughness()
                .base_color_texture()
                .map_or(0, |t| t.tex_coord());
            append_primitive(
                &doc, &p, world, normal_m, flip, material, tex_coord, &mut mesh,
            )?;
        }
    }
    if mesh.indices.is_empty() {
        return Err(AssetError::Empty("triangles"));
    }
    Ok(mesh)
}

fn decode_image(
    index: usize,
    data: &[u8],
    limits: &Limits,
    decoded: &mut u64,
) -> Result<Texture, AssetError> {
    let img_err = |detail: String| AssetError::Image { index, detail };
    let (w, h) =
        image_dimensions(data).ok_or_else(|| img_err("not a readable PNG or JPEG".into()))?;
    let pixels = w as u64 * h as u64;
    if pixels > limits.max_texture_pixels {
        return Err(AssetError::TextureTooLarge {
            width: w as u64,
            height: h as u64,
            limit: limits.max_texture_pixels,
        });
    }
    // Limits are caller-given (possibly u64::MAX): saturate rather than wrap.
    *decoded = decoded.saturating_add(pixels.saturating_mul(4));
    if *decoded > limits.max_decompressed_bytes {
        return Err(AssetError::DecompressedTooLarge {
            limit: limits.max_decompressed_bytes,
        });
    }
    let mut reader = image::ImageReader::new(Cursor::new(data))
        .with_guessed_format()
        .map_err(|e| img_err(e.to_string()))?;
    let mut lim = image::Limits::default();
    lim.max_image_width = Some(w);
    lim.max_image_height = Some(h);
    lim.max_alloc = Some(pixels.saturating_mul(16).max(1 << 20));
    reader.limits(lim);
    let rgba = reader
        .decode()
        .map_err(|e| img_err(e.to_string()))?
        .into_rgba8();
    Ok(Texture {
        width: rgba.width(),
        height: rgba.height(),
        rgba: rgba.into_raw(),
    })
}

const F32_VEC3: (DataType, Dimensions) = (DataType::F32, Dimensions::Vec3);

#[allow(clippy::too_many_arguments)]
fn append_primitive(
    doc: &Doc,
    p: &gltf::Primitive,
    world: Mat4,
    normal_m: Mat3,
    flip: bool,
    material: u32,
    tex_coord: u32,
    mesh: &mut Mesh,
) -> Result<(), AssetError> {
    let pos_acc = p
        .get(&Semantic::Positions)
        .ok_or_else(|| gltf_err("primitive without POSITION"))?;
    check_accessor(doc, &pos_acc, &[F32_VEC3])?;
    let normals_acc = p.get(&Semantic::Normals);
    if let Some(a) = &normals_acc {
        check_accessor(doc, a, &[F32_VEC3])?;
    }
    let uv_acc = p.get(&Semantic::TexCoords(tex_coord));
    if let Some(a) = &uv_acc {
        check_accessor(
            doc,
            a,
            &[
                (DataType::F32, Dimensions::Vec2),
                (DataType::U8, Dimensions::Vec2),
                (DataType::U16, Dimensions::Vec2),
            ],
        )?;
    }
    let color_acc = p.get(&Semantic::Colors(0));
    if let Some(a) = &color_acc {
        let mut ok = Vec::new();
        for t in [DataType::F32, DataType::U8, DataType::U16] {
            ok.push((t, Dimensions::Vec3));
            ok.push((t, Dimensions::Vec4));
        }
        check_accessor(doc, a, &ok)?;
    }
    if let Some(a) = p.indices() {
        check_accessor(
            doc,
            &a,
            &[
                (DataType::U8, Dimensions::Scalar),
                (DataType::U16, Dimensions::Scalar),
                (DataType::U32, Dimensions::Scalar),
            ],
        )?;
    }

    let reader = p.reader(|b| {
        let (start, len) = doc.buffers[b.index()];
        Some(&doc.blob()[start..start + len])
    });
    let positions: Vec<[f32; 3]> = reader
        .read_positions()
        .ok_or_else(|| gltf_err("unreadable POSITION"))?
        .collect();
    let n = positions.len();
    let same_len = |len: usize, what: &str| {
        if len == n {
            Ok(())
        } else {
            Err(gltf_err(format!("{what} has {len} items for {n} vertices")))
        }
    };
    let normals: Option<Vec<[f32; 3]>> = reader.read_normals().map(|r| r.collect());
    let uvs: Option<Vec<[f32; 2]>> = reader
        .read_tex_coords(tex_coord)
        .map(|r| r.into_f32().collect());
    let colors: Option<Vec<[f32; 4]>> = reader.read_colors(0).map(|r| r.into_rgba_f32().collect());
    if let Some(v) = &normals {
        same_len(v.len(), "NORMAL")?;
    }
    if let Some(v) = &uvs {
        same_len(v.len(), "TEXCOORD")?;
    }
    if let Some(v) = &colors {
        same_len(v.len(), "COLOR_0")?;
    }
    let raw: Vec<u32> = match reader.read_indices() {
        Some(r) => r.into_u32().collect(),
        None => (0..n as u32).collect(),
    };
    if let Some(&bad) = raw.iter().find(|&&i| i as usize >= n) {
        return Err(gltf_err(format!(
            "index {bad} is out of range for {n} vertices"
        )));
    }
    let mut tris: Vec<[u32; 3]> = match p.mode() {
        Mode::Triangles => raw.chunks_exact(3).map(|t| [t[0], t[1], t[2]]).collect(),
        Mode::TriangleStrip => (0..raw.len().saturating_sub(2))
            .map(|i| {
                if i % 2 == 0 {
                    [raw[i], raw[i + 1], raw[i + 2]]
                } else {
                    [raw[i + 1], raw[i], raw[i + 2]]
                }
            })
            .collect(),
        _ => (1..raw.len().saturating_sub(1))
            .map(|i| [raw[0], raw[i], raw[i + 1]])
            .collect(),
    };
    if flip {
        for t in &mut tris {
            t.swap(1, 2);
        }
    }
    let world_pos: Vec<Vec3> = positions
        .iter()
        .map(|&p| world.transform_point3(Vec3::from(p)))
        .collect();
    if world_pos.iter().any(|p| !p.is_finite()) {
        return Err(AssetError::NonFinite {
            property: "POSITION".into(),
            index: 0,
            value: f32::NAN,
        });
    }
    let vertex = |i: usize, normal: Vec3| Vertex {
        position: world_pos[i].to_array(),
        normal: normal.to_array(),
        uv: uvs.as_ref().map_or([0.0; 2], |u| u[i]),
        color: colors.as_ref().map_or([1.0; 4], |c| c[i]),
    };
    let first_index = mesh.indices.len() as u32;
    let base = mesh.vertices.len() as u32;
    match &normals {
        Some(nrm) => {
            for (i, &nv) in nrm.iter().enumerate() {
                let nn = (normal_m * Vec3::from(nv)).normalize_or_zero();
                mesh.vertices.push(vertex(i, nn));
            }
            mesh.indices
                .extend(tris.iter().flatten().map(|&i| base + i));
        }
        None => {
            // glTF: without normals, shade flat; give each triangle its own three vertices.
            for t in &tris {
                let [a, b, c] = t.map(|i| world_pos[i as usize]);
                let nn = (b - a).cross(c - a).normalize_or_zero();
                for &i in t {
                    mesh.indices.push(mesh.vertices.len() as u32);
                    mesh.vertices.push(vertex(i as usize, nn));
                }
            }
        }
    }
    let index_count = mesh.indices.len() as u32 - first_index;
    if index_count > 0 {
        mesh.primitives.push(Primitive {
            first_index,
            index_count,
            material,
        });
    }
    Ok(())
}
