//! Triangle meshes in world space with glTF metallic-roughness base colours (what we render).

use super::splats::Bounds;

/// One vertex, laid out for direct upload to the GPU.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Vertex {
    pub position: [f32; 3],
    pub normal: [f32; 3],
    pub uv: [f32; 2],
    /// Linear RGBA vertex colour (COLOR_0), white when absent.
    pub color: [f32; 4],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrap {
    Repeat,
    MirroredRepeat,
    ClampToEdge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlphaMode {
    Opaque,
    /// Fragments with alpha below the cutoff are discarded.
    Mask(u32),
    /// Drawn as opaque: order-independent blending is out of scope (stated in the docs).
    Blend,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextureRef {
    /// Index into `Mesh::textures`.
    pub texture: usize,
    pub wrap_s: Wrap,
    pub wrap_t: Wrap,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Material {
    /// Linear RGBA factor.
    pub base_color: [f32; 4],
    pub base_color_texture: Option<TextureRef>,
    pub double_sided: bool,
    pub alpha_mode: AlphaMode,
}

impl Material {
    pub fn alpha_cutoff(&self) -> Option<f32> {
        match self.alpha_mode {
            AlphaMode::Mask(bits) => Some(f32::from_bits(bits)),
            _ => None,
        }
    }
}

impl Default for Material {
    /// glTF's default material: white, single sided, opaque.
    fn default() -> Self {
        Material {
            base_color: [1.0; 4],
            base_color_texture: None,
            double_sided: false,
            alpha_mode: AlphaMode::Opaque,
        }
    }
}

/// An sRGB-encoded RGBA8 image as stored in the GLB.
#[derive(Debug, Clone, PartialEq)]
pub struct Texture {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

/// A run of triangles sharing one material.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Primitive {
    pub first_index: u32,
    pub index_count: u32,
    pub material: u32,
}

/// Counter-clockwise triangles (front faces), node transforms already applied.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mesh {
    pub vertices: Vec<Vertex>,
    pub indices: Vec<u32>,
    pub primitives: Vec<Primitive>,
    pub materials: Vec<Material>,
    pub textures: Vec<Texture>,
}

impl Mesh {
    pub fn triangle_count(&self) -> usize {
        self.indices.len() / 3
    }

    /// Bounds of the vertices that triangles use.
    pub fn bounds(&self) -> Option<Bounds> {
        Bounds::of_points(
            self.indices
                .iter()
                .filter_map(|&i| self.vertices.get(i as usize))
                .map(|v| &v.position),
        )
    }

    /// p' = (p + offset) * scale; normals are unchanged by a uniform scale.
    pub fn translate_scale(&mut self, offset: [f32; 3], scale: f32) {
        for v in &mut self.vertices {
            for (x, o) in v.position.iter_mut().zip(offset) {
                *x = (*x + o) * scale;
            }
        }
    }

    /// 180° about X, (x, y, z) -> (x, -y, -z): a rotation, so winding is kept.
    pub fn rotate_x180(&mut self) {
        for v in &mut self.vertices {
            v.position[1] = -v.position[1];
            v.position[2] = -v.position[2];
            v.normal[1] = -v.normal[1];
            v.normal[2] = -v.normal[2];
        }
    }
}
