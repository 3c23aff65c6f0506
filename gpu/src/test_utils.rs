//! Seeded synthetic scenes for tests and benchmarks (no external RNG crate).

use crate::assets::splats::{normalize_quat, rest_coeffs, Splats};

/// splitmix64: small, seeded, good enough for test scenes.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.uniform()
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f32 {
        let u1 = self.uniform().max(1e-7);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f32::consts::PI * u2).cos()
    }
}

/// An object-like cloud (the scene of rendering.md's gsplat measurements): `n` gaussians
/// uniform in a ball of radius 0.5, sizes 0.004-0.03, random orientation, opacity logits
/// 2·N(0,1), SH of `degree` with DC ~ N(0,1) and higher bands 0.1·N(0,1).
pub fn random_splats(n: usize, degree: u8, seed: u64) -> Splats {
    let mut r = Rng(seed);
    let k = rest_coeffs(degree) * 3;
    let mut s = Splats {
        sh_degree: degree,
        ..Default::default()
    };
    s.positions.reserve(n);
    s.sh_rest.reserve(n * k);
    for _ in 0..n {
        let p = loop {
            let p = [r.range(-0.5, 0.5), r.range(-0.5, 0.5), r.range(-0.5, 0.5)];
            if p.iter().map(|v| v * v).sum::<f32>() <= 0.25 {
                break p;
            }
        };
        s.positions.push(p);
        s.log_scales.push([0; 3].map(|_| r.range(0.004, 0.03).ln()));
        s.rotations.push(normalize_quat([
            r.normal(),
            r.normal(),
            r.normal(),
            r.normal(),
        ]));
        s.opacity_logits.push(2.0 * r.normal());
        s.sh_dc.push([r.normal(), r.normal(), r.normal()]);
        for _ in 0..k {
            s.sh_rest.push(0.1 * r.normal());
        }
    }
    s
}
