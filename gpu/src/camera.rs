//! Pinhole cameras placed the way 404's renderers place them (three.js look-at conventions).

use glam::{DMat3, DVec3, Mat4, Vec3};

/// A perspective camera looking at `target`. The vertical field of view is `fov_y_deg`; pixels
/// are square. World space is right-handed with +Y up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Camera {
    pub eye: [f32; 3],
    pub target: [f32; 3],
    pub up: [f32; 3],
    pub fov_y_deg: f32,
    pub width: u32,
    pub height: u32,
    pub near: f32,
    pub far: f32,
}

impl Camera {
    /// 404's orbit: θ (azimuth, 0 = +Z, the model's front) and φ in degrees, with
    /// x = r·cos φ·sin θ, y = −r·sin φ, z = r·cos φ·cos θ (negative φ puts the camera above),
    /// looking at the origin with up +Y, near 0.01 and far 100 as in their renderers.
    pub fn orbit(
        theta_deg: f32,
        phi_deg: f32,
        radius: f32,
        fov_y_deg: f32,
        width: u32,
        height: u32,
    ) -> Camera {
        let (t, p, r) = (
            (theta_deg as f64).to_radians(),
            (phi_deg as f64).to_radians(),
            radius as f64,
        );
        let eye = [r * p.cos() * t.sin(), -r * p.sin(), r * p.cos() * t.cos()].map(|v| v as f32);
        Camera {
            eye,
            target: [0.0; 3],
            up: [0.0, 1.0, 0.0],
            fov_y_deg,
            width,
            height,
            near: 0.01,
            far: 100.0,
        }
    }

    /// Camera axes (right, up, back) in world space, exactly as three.js `Matrix4.lookAt` builds
    /// them, including its nudge when the view direction is parallel to `up` (top-down views).
    pub fn axes(&self) -> (DVec3, DVec3, DVec3) {
        let eye = DVec3::from(self.eye.map(f64::from));
        let target = DVec3::from(self.target.map(f64::from));
        let up = DVec3::from(self.up.map(f64::from));
        let mut z = eye - target;
        if z.length_squared() == 0.0 {
            z.z = 1.0;
        }
        z = z.normalize();
        let mut x = up.cross(z);
        if x.length_squared() == 0.0 {
            if up.z.abs() == 1.0 {
                z.x += 0.0001;
            } else {
                z.z += 0.0001;
            }
            z = z.normalize();
            x = up.cross(z);
        }
        x = x.normalize();
        let y = z.cross(x);
        (x, y, z)
    }

    /// World to OpenCV camera coordinates (x right, y down, z forward): rows of the rotation and
    /// the translation, so p_cam = R·p + t.
    pub fn world_to_cv(&self) -> ([[f32; 3]; 3], [f32; 3]) {
        let (x, y, z) = self.axes();
        let r = DMat3::from_cols(x, -y, -z).transpose();
        let eye = DVec3::from(self.eye.map(f64::from));
        let t = -(r * eye);
        let rows = [r.row(0), r.row(1), r.row(2)].map(|row| row.to_array().map(|v| v as f32));
        (rows, t.to_array().map(|v| v as f32))
    }

    /// Focal lengths in pixels and the principal point (the image centre).
    pub fn intrinsics(&self) -> (f32, f32, f32, f32) {
        let fy = self.height as f64 / (2.0 * ((self.fov_y_deg as f64).to_radians() * 0.5).tan());
        (
            fy as f32,
            fy as f32,
            self.width as f32 / 2.0,
            self.height as f32 / 2.0,
        )
    }

    /// OpenGL-style view matrix (camera looks down −Z).
    pub fn view_matrix(&self) -> Mat4 {
        let (x, y, z) = self.axes();
        let eye = DVec3::from(self.eye.map(f64::from));
        let m =
            glam::DMat4::from_cols(x.extend(0.0), y.extend(0.0), z.extend(0.0), eye.extend(1.0));
        m.inverse().as_mat4()
    }

    /// Projection to clip space with depth in [0, 1] (wgpu/Vulkan convention), matching
    /// `intrinsics` (principal point at the centre).
    pub fn projection_matrix(&self) -> Mat4 {
        let (fx, fy, _, _) = self.intrinsics();
        let (w, h) = (self.width as f32, self.height as f32);
        let (n, f) = (self.near, self.far);
        Mat4::from_cols_array(&[
            2.0 * fx / w,
            0.0,
            0.0,
            0.0,
            0.0,
            2.0 * fy / h,
            0.0,
            0.0,
            0.0,
            0.0,
            f / (n - f),
            -1.0,
            0.0,
            0.0,
            n * f / (n - f),
            0.0,
        ])
    }

    pub fn view_projection(&self) -> Mat4 {
        self.projection_matrix() * self.view_matrix()
    }

    pub fn eye_vec(&self) -> Vec3 {
        Vec3::from(self.eye)
    }
}
