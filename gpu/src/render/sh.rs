//! Real spherical harmonics up to degree 3 with the 3DGS constants and basis order.

pub const C0: f32 = 0.282_094_79;
pub const C1: f32 = 0.488_602_51;
pub const C2: [f32; 5] = [
    1.092_548_4,
    -1.092_548_4,
    0.315_391_57,
    -1.092_548_4,
    0.546_274_2,
];
pub const C3: [f32; 7] = [
    -0.590_043_6,
    2.890_611_4,
    -0.457_045_8,
    0.373_176_33,
    -0.457_045_8,
    1.445_305_7,
    -0.590_043_6,
];

/// Colour of one gaussian seen along unit direction `d` (from the camera to the gaussian):
/// 0.5 + Σ basis·coeff, clamped at 0 as in 3DGS. `rest` holds bands 1.. coefficient major,
/// RGB innermost; only the first `degree` bands are used.
pub fn eval(degree: u8, dc: [f32; 3], rest: &[f32], d: [f32; 3]) -> [f32; 3] {
    let mut c = [C0 * dc[0], C0 * dc[1], C0 * dc[2]];
    let coeff = |k: usize, ch: usize| rest[k * 3 + ch];
    let [x, y, z] = d;
    if degree >= 1 {
        for (ch, v) in c.iter_mut().enumerate() {
            *v = *v - C1 * y * coeff(0, ch) + C1 * z * coeff(1, ch) - C1 * x * coeff(2, ch);
        }
        if degree >= 2 {
            let (xx, yy, zz) = (x * x, y * y, z * z);
            let (xy, yz, xz) = (x * y, y * z, x * z);
            for (ch, v) in c.iter_mut().enumerate() {
                *v = *v
                    + C2[0] * xy * coeff(3, ch)
                    + C2[1] * yz * coeff(4, ch)
                    + C2[2] * (2.0 * zz - xx - yy) * coeff(5, ch)
                    + C2[3] * xz * coeff(6, ch)
                    + C2[4] * (xx - yy) * coeff(7, ch);
            }
            if degree >= 3 {
                for (ch, v) in c.iter_mut().enumerate() {
                    *v = *v
                        + C3[0] * y * (3.0 * xx - yy) * coeff(8, ch)
                        + C3[1] * xy * z * coeff(9, ch)
                        + C3[2] * y * (4.0 * zz - xx - yy) * coeff(10, ch)
                        + C3[3] * z * (2.0 * zz - 3.0 * xx - 3.0 * yy) * coeff(11, ch)
                        + C3[4] * x * (4.0 * zz - xx - yy) * coeff(12, ch)
                        + C3[5] * z * (xx - yy) * coeff(13, ch)
                        + C3[6] * x * (xx - 3.0 * yy) * coeff(14, ch);
                }
            }
        }
    }
    c.map(|v| (v + 0.5).max(0.0))
}
