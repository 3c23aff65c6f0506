// sn17 CUDA splat rasterizer: the 3DGS forward model of gpu/src/render/splat_math.rs and
// gpu/src/render/cpu/splat.rs, batched over the views of one asset.
//
// Pipeline per batch (all on one stream, no host round trip):
//   prep_gaussians   once per asset: activations, 3D covariance, SH packed per gaussian
//   project          thread per gaussian (and group of views when there are few gaussians),
//                    loop over views: EWA projection, SH colour, tile rect
//                    (narrowed to the 8x4-pixel sub-blocks its alpha >= 1/255 box meets),
//                    per-view depth range
//   sort_upsweep / sort_scan / sort_downsweep  x3 (x4 when some view's depths may span more
//                    than 2^24 float values): stable LSD radix sort of depth keys, segmented by view
//                    (blocks never straddle views), so each view ends up in front-to-back order
//                    with ties by gaussian index
//   bin_count / bin_offsets / scan_bins / bin_scatter: stable bucketing of the
//                    depth-sorted lists into per-(view, bin) ranges, bins of 16 or 32 pixels (no
//                    global pair sort), dropping bins the gaussian's alpha >= 1/255 ellipse
//                    misses (exact per row of bins); each pair carries the sub-blocks it covers
//   raster           block per (view, 16x16 tile), warp per 8x4 pixels: front-to-back blending
//                    with early termination (the next batch's gaussians load meanwhile), RGBA8 out
//   Dense batches bucket and blend in two rounds (see raster_tile): bin_* and raster over the
//   front of each view's depth order, then need_mark / need_scan / need_compact keep the rest's
//   entries that reach a sub-block left unsaturated, and bin_*_b / raster_b finish those.
//
// Compiled at run time by NVRTC (see gpu/src/render/cuda/compile.rs); no CUDA headers needed.

typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned long long u64;

#define TILE 16
#define LOW_PASS 0.3f
#define ALPHA_MAX 0.99f
#define ALPHA_MIN (1.0f / 255.0f)
#define T_MIN 1e-4f

#define SORT_THREADS 256
#define SORT_WARPS (SORT_THREADS / 32)
#ifndef RASTER_MINB
// Raster blocks per SM the register budget is sized for: 6 (40 registers) on Hopper; sm_80's
// code needs a few more registers than that. The two-round kernels (raster_a / raster_b) take
// one block fewer: their pixel state handling would spill at 40.
#if __CUDA_ARCH__ >= 900
#define RASTER_MINB 6
#else
#define RASTER_MINB 5
#endif
#endif
#define PROJECT_THREADS 256  // (the host launches blocks of 256)
#define PROJECT_MINB 4  // (64 registers)
#define SORT_ITEMS 12  // keys per thread of a sort block (pipeline.rs SORT_ITEMS must match)
#define SORT_TILE (SORT_THREADS * SORT_ITEMS)
#define KEY_BITS 24

#define BIN_THREADS 256
#define BIN_WARPS (BIN_THREADS / 32)


// Must match `ViewGpu` in gpu/src/render/cuda/pipeline.rs (128 bytes).
struct ViewParams {
    u64 pix_offset;  // first pixel of this view in the output (pixels, RGBA8 each)
    float rot[9];    // world -> OpenCV camera rotation, rows
    float trans[3];
    float fx, fy, cx, cy;
    float tan_fovx, tan_fovy, near_plane;
    float cam[3];
    u32 width, height, tiles_x, tiles_y;
    u32 tile_offset;  // first tile of this view in the concatenated tile arrays
    float bg[3];
};
static_assert(sizeof(ViewParams) == 128, "ViewParams layout");

__device__ __forceinline__ u32 lane_id() { return threadIdx.x & 31; }

__device__ __forceinline__ u32 warp_min(u32 v) {
#if __CUDA_ARCH__ >= 800
    return __reduce_min_sync(0xffffffffu, v);
#else
    for (int o = 16; o > 0; o >>= 1) v = min(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
#endif
}

__device__ __forceinline__ u32 warp_max(u32 v) {
#if __CUDA_ARCH__ >= 800
    return __reduce_max_sync(0xffffffffu, v);
#else
    for (int o = 16; o > 0; o >>= 1) v = max(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
#endif
}

// ---------------------------------------------------------------------------------------------
// Once per asset.

// Raw arrays as the asset stores them (see Splats): positions[3n], log_scales[3n], rotations[4n]
// (w, x, y, z), opacity_logits[n], sh_dc[3n], sh_rest[n * rest_in * 3] (coefficient major, RGB
// innermost). Output: pos_op[n] = (x, y, z, sigmoid(opacity)), cov_a[n] = (xx, xy, xz, yy),
// cov_b[n] = (yz, zz), sh[n * sh_stride] = dc then bands 1.. up to `rest_used` coefficients.
extern "C" __global__ void prep_gaussians(
    u32 n, const float* __restrict__ pos, const float* __restrict__ log_scale,
    const float* __restrict__ rot, const float* __restrict__ opacity_logit,
    const float* __restrict__ sh_dc, const float* __restrict__ sh_rest, u32 rest_in,
    u32 rest_used, u32 sh_stride, float4* __restrict__ pos_op, float4* __restrict__ cov_a,
    float2* __restrict__ cov_b, float* __restrict__ sh) {
    u32 i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float o = 1.0f / (1.0f + expf(-opacity_logit[i]));
    pos_op[i] = make_float4(pos[3 * i], pos[3 * i + 1], pos[3 * i + 2], o);

    float s0 = expf(log_scale[3 * i]), s1 = expf(log_scale[3 * i + 1]),
          s2 = expf(log_scale[3 * i + 2]);
    float w = rot[4 * i], x = rot[4 * i + 1], y = rot[4 * i + 2], z = rot[4 * i + 3];
    float r00 = 1.0f - 2.0f * (y * y + z * z), r01 = 2.0f * (x * y - w * z),
          r02 = 2.0f * (x * z + w * y);
    float r10 = 2.0f * (x * y + w * z), r11 = 1.0f - 2.0f * (x * x + z * z),
          r12 = 2.0f * (y * z - w * x);
    float r20 = 2.0f * (x * z - w * y), r21 = 2.0f * (y * z + w * x),
          r22 = 1.0f - 2.0f * (x * x + y * y);
    float m00 = r00 * s0, m01 = r01 * s1, m02 = r02 * s2;
    float m10 = r10 * s0, m11 = r11 * s1, m12 = r12 * s2;
    float m20 = r20 * s0, m21 = r21 * s1, m22 = r22 * s2;
    cov_a[i] = make_float4(m00 * m00 + m01 * m01 + m02 * m02, m00 * m10 + m01 * m11 + m02 * m12,
                           m00 * m20 + m01 * m21 + m02 * m22, m10 * m10 + m11 * m11 + m12 * m12);
    cov_b[i] = make_float2(m10 * m20 + m11 * m21 + m12 * m22, m20 * m20 + m21 * m21 + m22 * m22);

    float* dst = sh + (u64)i * sh_stride;
    dst[0] = sh_dc[3 * i];
    dst[1] = sh_dc[3 * i + 1];
    dst[2] = sh_dc[3 * i + 2];
    const float* src = sh_rest + (u64)i * rest_in * 3;
    for (u32 k = 0; k < rest_used * 3; k++) dst[3 + k] = src[k];
    for (u32 k = 3 + rest_used * 3; k < sh_stride; k++) dst[k] = 0.0f;
}

// ---------------------------------------------------------------------------------------------
// Projection.

#define SH_C0 0.28209479f
#define SH_C1 0.48860251f

template <int DEG>
__device__ __forceinline__ float3 eval_sh(const float* dc, const float* c, float x, float y, float z) {
    // dc: rgb; c: coefficient k's rgb at 3 (k - 1) for k >= 1 (c may be in shared memory).
    float r = SH_C0 * dc[0], g = SH_C0 * dc[1], b = SH_C0 * dc[2];
    if (DEG >= 1) {
        float b0 = -SH_C1 * y, b1 = SH_C1 * z, b2 = -SH_C1 * x;
        r = r + b0 * c[0] + b1 * c[3] + b2 * c[6];
        g = g + b0 * c[1] + b1 * c[4] + b2 * c[7];
        b = b + b0 * c[2] + b1 * c[5] + b2 * c[8];
        if (DEG >= 2) {
            float xx = x * x, yy = y * y, zz = z * z, xy = x * y, yz = y * z, xz = x * z;
            float q[5] = {1.0925484f * xy, -1.0925484f * yz, 0.31539157f * (2.0f * zz - xx - yy),
                          -1.0925484f * xz, 0.5462742f * (xx - yy)};
#pragma unroll
            for (int k = 0; k < 5; k++) {
                r += q[k] * c[9 + 3 * k];
                g += q[k] * c[10 + 3 * k];
                b += q[k] * c[11 + 3 * k];
            }
            if (DEG >= 3) {
                float t[7] = {-0.5900436f * y * (3.0f * xx - yy), 2.8906114f * xy * z,
                              -0.4570458f * y * (4.0f * zz - xx - yy),
                              0.37317633f * z * (2.0f * zz - 3.0f * xx - 3.0f * yy),
                              -0.4570458f * x * (4.0f * zz - xx - yy),
                              1.4453057f * z * (xx - yy), -0.5900436f * x * (xx - 3.0f * yy)};
#pragma unroll
                for (int k = 0; k < 7; k++) {
                    r += t[k] * c[24 + 3 * k];
                    g += t[k] * c[25 + 3 * k];
                    b += t[k] * c[26 + 3 * k];
                }
            }
        }
    }
    return make_float3(fmaxf(r + 0.5f, 0.0f), fmaxf(g + 0.5f, 0.0f), fmaxf(b + 0.5f, 0.0f));
}

// Only pixels with q = d^T conic d <= r2 can pass the blend's alpha >= 1/255 test.
__device__ __forceinline__ float r2_of(float opacity) {
    return 2.0f * logf(255.0f * opacity) * 1.001f + 0.02f;
}

// A positive float as the upper 16 bits of its bits, rounded up (bfloat16 toward +inf).
__device__ __forceinline__ u32 bf16_up(float x) { return (__float_as_uint(x) + 0xffffu) >> 16; }

// a b - c d to within a few ulps (Kahan's algorithm with fused multiply-adds): the conic's
// determinant cancels badly in plain float arithmetic.
__device__ __forceinline__ float dop(float a, float b, float c, float d) {
    float w = c * d;
    float e = fmaf(-c, d, w);
    float f = fmaf(a, b, -w);
    return f + e;
}

// Packed tile rect (16-pixel tiles), two words: lo = x0 | dc0 << 11 | dr0 << 12 | y0 << 16,
// hi = x1 | dc1 << 11 | dr1 << 12 | y1 << 16 (tiles < 2^11). dc / dr narrow it to the 8x4-pixel
// sub-blocks the gaussian's alpha >= 1/255 box meets: columns 2 x0 + dc0 ..= 2 x1 - 1 - dc1, rows
// 4 y0 + dr0 ..= 4 y1 - 1 - dr1.
__device__ __forceinline__ void rect_unpack(u32 lo, u32 hi, u32& x0, u32& y0, u32& x1, u32& y1) {
    x0 = lo & 0x7ffu;
    y0 = (lo >> 16) & 0x7ffu;
    x1 = hi & 0x7ffu;
    y1 = (hi >> 16) & 0x7ffu;
}

__device__ __forceinline__ void sub_of(u32 lo, u32 hi, u32& sc0, u32& sc1, u32& sr0, u32& sr1) {
    u32 x0, y0, x1, y1;
    rect_unpack(lo, hi, x0, y0, x1, y1);
    sc0 = 2 * x0 + ((lo >> 11) & 1u);
    sc1 = 2 * x1 - 1 - ((hi >> 11) & 1u);
    sr0 = 4 * y0 + ((lo >> 12) & 3u);
    sr1 = 4 * y1 - 1 - ((hi >> 12) & 3u);
}

// Sub-block columns / rows (8 / 4 pixels) whose pixel centres the box [m - h, m + h] meets,
// clipped to [lo, hi]: exactly those passing the per-sub-block test
// !(m + h < s0 || m - h > s0 + size - 1), s0 = s size + 0.5. (a > b: none.)
__device__ __forceinline__ void sub_range(float m, float h, u32 size, u32 lo, u32 hi, u32& a,
                                          u32& b) {
    float fs = (float)size;
    int sz = (int)size;
    int i0 = (int)fmaxf(fminf(ceilf((m - h - (fs - 0.5f)) / fs), 1e6f), -1e6f);
    int i1 = (int)fmaxf(fminf(floorf((m + h - 0.5f) / fs), 1e6f), -1e6f);
    auto kl = [&](int s) { return !(m - h > (float)(s * sz) + (fs - 0.5f)); };
    auto kr = [&](int s) { return !(m + h < (float)(s * sz) + 0.5f); };
    if (kl(i0 - 1)) i0--;
    else if (!kl(i0)) i0++;
    if (kr(i1 + 1)) i1++;
    else if (!kr(i1)) i1--;
    i0 = max(i0, (int)lo);
    i1 = min(i1, (int)hi);
    if (i0 > i1) {
        a = 1;
        b = 0;
    } else {
        a = (u32)i0;
        b = (u32)i1;
    }
}

// Per (view, gaussian) idx, for visible gaussians:
//   brec[2 idx]     = (mean x, mean y, opacity, tile rect x0 | y0 << 16)
//   brec[2 idx + 1] = (conic a, b, c, tile rect x1 | y1 << 16)   (rect all 0: not drawn)
//   crec[idx]       = (r, g, b, box half-width | half-height << 16 as bfloat16 rounded up)
//   rects[idx]      = the two rect words again (when rects is not null: two-round batches)
// (rects packed with their sub-block narrowing, see rect_unpack). Bucketing reads rects, and
// brec (one 32-byte sector) for the entries it buckets; blending reads brec and crec.
template <int DEG>
__device__ __forceinline__ void project_one(const ViewParams& vp, float3 p, float op, float4 ca,
                                            float2 cb, const float* shdc, const float* shc,
                                            bool antialiased,
                                            float4* crec, float* depth_out, float4* brec,
                                            uint2* rect, u32* depth_bits) {
    const float* r = vp.rot;
    float t0 = r[0] * p.x + r[1] * p.y + r[2] * p.z + vp.trans[0];
    float t1 = r[3] * p.x + r[4] * p.y + r[5] * p.z + vp.trans[1];
    float t2 = r[6] * p.x + r[7] * p.y + r[8] * p.z + vp.trans[2];
    *depth_bits = 0xffffffffu;
    *depth_out = __int_as_float(0x7f800000);
    brec[0] = make_float4(0.f, 0.f, 0.f, 0.f);
    brec[1] = make_float4(0.f, 0.f, 0.f, 0.f);
    if (rect) *rect = make_uint2(0u, 0u);
    if (!(t2 > vp.near_plane)) return;  // also rejects NaN
    float limx = 1.3f * vp.tan_fovx, limy = 1.3f * vp.tan_fovy;
    float tz = t2;
    float tx = fminf(fmaxf(t0 / tz, -limx), limx) * tz;
    float ty = fminf(fmaxf(t1 / tz, -limy), limy) * tz;
    float j00 = vp.fx / tz, j02 = -(vp.fx * tx) / (tz * tz);
    float j11 = vp.fy / tz, j12 = -(vp.fy * ty) / (tz * tz);
    // m = J * R (2x3)
    float m00 = j00 * r[0] + j02 * r[6], m01 = j00 * r[1] + j02 * r[7], m02 = j00 * r[2] + j02 * r[8];
    float m10 = j11 * r[3] + j12 * r[6], m11 = j11 * r[4] + j12 * r[7], m12 = j11 * r[5] + j12 * r[8];
    float xx = ca.x, xy = ca.y, xz = ca.z, yy = ca.w, yz = cb.x, zz = cb.y;
    float s00 = m00 * xx + m01 * xy + m02 * xz, s01 = m00 * xy + m01 * yy + m02 * yz,
          s02 = m00 * xz + m01 * yz + m02 * zz;
    float s10 = m10 * xx + m11 * xy + m12 * xz, s11 = m10 * xy + m11 * yy + m12 * yz,
          s12 = m10 * xz + m11 * yz + m12 * zz;
    float a0 = s00 * m00 + s01 * m01 + s02 * m02;
    float b = s00 * m10 + s01 * m11 + s02 * m12;
    float c0 = s10 * m10 + s11 * m11 + s12 * m12;
    float a = a0 + LOW_PASS, c = c0 + LOW_PASS;
    float det = a * c - b * b;
    if (!(det > 0.0f) || isinf(det)) return;
    float opacity = op;
    if (antialiased) opacity *= sqrtf(fmaxf((a0 * c0 - b * b) / det, 0.0f));
    float inv = 1.0f / det;
    float mid = 0.5f * (a + c);
    float lambda = mid + sqrtf(fmaxf(mid * mid - det, 0.1f));
    float radius = ceilf(3.0f * sqrtf(lambda));
    float mx = vp.fx * t0 / tz + vp.cx, my = vp.fy * t1 / tz + vp.cy;
    if (!(isfinite(radius) && isfinite(mx) && isfinite(my))) return;
    // A gaussian with opacity < 1/255 never passes the blend's alpha test: drop it. Otherwise
    // only pixels with q = d^T conic d <= r2 = 2 ln(255 opacity) can pass: bin_* drop the tiles
    // of the reference's rect that this ellipse misses, and raster skips it for pixel blocks
    // outside the ellipse's box. Neither changes the image (margins cover rounding).
    if (!(opacity >= ALPHA_MIN)) return;
    float r2 = r2_of(opacity);
    // The box of the ellipse the blend really evaluates: that of the float conic (for a
    // needle-like gaussian its inverse can be wider than the covariance it came from), with the
    // conic's determinant in double (its float form cancels badly).
    float qa = c * inv, qb = -b * inv, qc = a * inv;
    float cdet = dop(qa, qc, qb, qb);
    float hx = radius, hy = radius;
    bool boxed = cdet > 0.0f;
    if (boxed) {
        hx = sqrtf(r2 * (qc / cdet)) * 1.001f + 0.05f;
        hy = sqrtf(r2 * (qa / cdet)) * 1.001f + 0.05f;
        boxed = isfinite(hx) && isfinite(hy);
        if (!boxed) hx = hy = radius;
    }
#ifdef SN17_NO_CULL
    hx = hy = 3.0e38f;
#endif
    float px = mx - 0.5f, py = my - 0.5f;
    float ftx = (float)vp.tiles_x, fty = (float)vp.tiles_y;
    // The reference's rect (3DGS getRect on the 3 sigma square; Rust's `as u32` after clamp).
    u32 x0 = (u32)fminf(fmaxf((px - radius) / (float)TILE, 0.0f), ftx);
    u32 y0 = (u32)fminf(fmaxf((py - radius) / (float)TILE, 0.0f), fty);
    u32 x1 = (u32)fminf(fmaxf((px + radius + (float)TILE - 1.0f) / (float)TILE, 0.0f), ftx);
    u32 y1 = (u32)fminf(fmaxf((py + radius + (float)TILE - 1.0f) / (float)TILE, 0.0f), fty);
    // Narrowed to the tiles holding pixel indices within the ellipse's box [p - h, p + h]. (Not
    // getRect's formula: with a fractional radius its `+ TILE - 1` is not a ceiling.)
    x0 = max(x0, (u32)fminf(fmaxf(floorf((px - hx) / (float)TILE), 0.0f), ftx));
    y0 = max(y0, (u32)fminf(fmaxf(floorf((py - hy) / (float)TILE), 0.0f), fty));
    x1 = min(x1, (u32)fminf(fmaxf(floorf((px + hx) / (float)TILE) + 1.0f, 0.0f), ftx));
    y1 = min(y1, (u32)fminf(fmaxf(floorf((py + hy) / (float)TILE) + 1.0f, 0.0f), fty));
    if (x0 >= x1 || y0 >= y1) return;

    float3 d = make_float3(p.x - vp.cam[0], p.y - vp.cam[1], p.z - vp.cam[2]);
    float len = sqrtf(d.x * d.x + d.y * d.y + d.z * d.z);
    float3 col = eval_sh<DEG>(shdc, shc, d.x / len, d.y / len, d.z / len);

    *crec = make_float4(col.x, col.y, col.z, __uint_as_float(bf16_up(hx) | (bf16_up(hy) << 16)));
    *depth_out = tz;
    *depth_bits = __float_as_uint(tz);
    // The sub-blocks the box meets (conservative: narrowed by at most one column / three rows).
    u32 dc0 = 0, dc1 = 0, dr0 = 0, dr1 = 0;
#ifndef SN17_NO_CULL
    if (boxed) {
        u32 a, b;
        sub_range(mx, hx, 8, 2 * x0, 2 * x1 - 1, a, b);
        if (a <= b) {
            dc0 = min(a - 2 * x0, 1u);
            dc1 = min(2 * x1 - 1 - b, 1u);
        }
        sub_range(my, hy, 4, 4 * y0, 4 * y1 - 1, a, b);
        if (a <= b) {
            dr0 = min(a - 4 * y0, 3u);
            dr1 = min(4 * y1 - 1 - b, 3u);
        }
    }
#endif
    u32 lo = x0 | (dc0 << 11) | (dr0 << 12) | (y0 << 16);
    u32 hi = x1 | (dc1 << 11) | (dr1 << 12) | (y1 << 16);
    brec[0] = make_float4(mx, my, opacity, __uint_as_float(lo));
    brec[1] = make_float4(qa, qb, qc, __uint_as_float(hi));
    if (rect) *rect = make_uint2(lo, hi);
}

// Thread per gaussian, loop over views. minmax[2v] / [2v+1]: min / max depth bits of visible
// gaussians in view v (initialised to 0xffffffff / 0 by the host).
template <int DEG>
__device__ void project_impl(u32 n, u32 nviews, const ViewParams* __restrict__ views,
                             const float4* __restrict__ pos_op, const float4* __restrict__ cov_a,
                             const float2* __restrict__ cov_b, const float* __restrict__ sh,
                             u32 sh_stride, u32 antialiased, float4* __restrict__ crec,
                             float* __restrict__ depth, float4* __restrict__ brec,
                             uint2* __restrict__ rects, u32* __restrict__ minmax) {
    __shared__ u32 smin[64], smax[64];
    for (u32 v = threadIdx.x; v < nviews; v += blockDim.x) {
        smin[v] = 0xffffffffu;
        smax[v] = 0u;
    }
    __syncthreads();
    u32 i = blockIdx.x * blockDim.x + threadIdx.x;
    bool live = i < n;
    // Grid y splits the views into groups (more threads when there are few gaussians).
    u32 per = (nviews + gridDim.y - 1) / gridDim.y;
    u32 v0 = min(nviews, blockIdx.y * per), v1 = min(nviews, v0 + per);
    u32 gi = live ? i : 0;
    float4 po = pos_op[gi];
    float4 ca = cov_a[gi];
    float2 cb = cov_b[gi];
    const int NC = (DEG + 1) * (DEG + 1) * 3;
    // Loaded as float4s (sh_stride is NC rounded up to a multiple of 4; rows are 16-byte
    // aligned): a quarter of the memory requests of scalar loads.
    float shc[(NC + 3) & ~3];
    const float4* src = reinterpret_cast<const float4*>(sh + (u64)gi * sh_stride);
#pragma unroll
    for (int k = 0; k < (NC + 3) / 4; k++) {
        float4 c = src[k];
        shc[4 * k] = c.x;
        shc[4 * k + 1] = c.y;
        shc[4 * k + 2] = c.z;
        shc[4 * k + 3] = c.w;
    }
    // Degrees 1-3: the higher coefficients stay in shared memory (each thread's own row, odd
    // stride: no bank conflicts), so that the kernel fits 64 registers (degree 3 needed 109:
    // four blocks per SM instead of two).
    constexpr int REST = NC - 3, STRIDE = REST | 1;
    __shared__ float s_rest[DEG >= 1 ? PROJECT_THREADS * STRIDE : 1];
    const float* rest = shc + 3;
    if constexpr (DEG >= 1) {
        float* mine = s_rest + threadIdx.x * STRIDE;
#pragma unroll
        for (int k = 0; k < REST; k++) mine[k] = shc[3 + k];
        rest = mine;
    }
    float3 p = make_float3(po.x, po.y, po.z);
    for (u32 v = v0; v < v1; v++) {
        const ViewParams& vp = views[v];
        u64 idx = (u64)v * n + gi;
        u32 bits = 0xffffffffu;
        if (live) {
            float d;
            project_one<DEG>(vp, p, po.w, ca, cb, shc, rest, antialiased != 0, crec + idx, &d,
                             brec + 2 * idx, rects ? rects + idx : nullptr, &bits);
            depth[idx] = d;
        }
        u32 lo = warp_min(bits);
        u32 hi = warp_max(bits == 0xffffffffu ? 0u : bits);
        if (lane_id() == 0) {
            if (lo != 0xffffffffu) atomicMin(&smin[v], lo);
            if (hi != 0u) atomicMax(&smax[v], hi);
        }
    }
    __syncthreads();
    for (u32 v = threadIdx.x; v < nviews; v += blockDim.x) {
        if (smin[v] != 0xffffffffu) atomicMin(&minmax[2 * v], smin[v]);
        if (smax[v] != 0u) atomicMax(&minmax[2 * v + 1], smax[v]);
    }
}

#define PROJECT_KERNEL(DEG)                                                                      \
    extern "C" __global__ void __launch_bounds__(PROJECT_THREADS, DEG >= 1 ? PROJECT_MINB : 1)   \
        project_sh##DEG(                                                                         \
        u32 n, u32 nviews, const ViewParams* __restrict__ views,                                 \
        const float4* __restrict__ pos_op, const float4* __restrict__ cov_a,                     \
        const float2* __restrict__ cov_b, const float* __restrict__ sh, u32 sh_stride,           \
        u32 antialiased, float4* __restrict__ crec, float* __restrict__ depth,                    \
        float4* __restrict__ brec, uint2* __restrict__ rects, u32* __restrict__ minmax) {        \
        project_impl<DEG>(n, nviews, views, pos_op, cov_a, cov_b, sh, sh_stride, antialiased,    \
                          crec, depth, brec, rects, minmax);                                      \
    }
PROJECT_KERNEL(0)
PROJECT_KERNEL(1)
PROJECT_KERNEL(2)
PROJECT_KERNEL(3)

__device__ __forceinline__ u32 block_exclusive_scan(u32 x, u32* total) {
    __shared__ u32 warp_sums[32];
    u32 lane = lane_id(), w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    u32 incl = x;
    for (int o = 1; o < 32; o <<= 1) {
        u32 y = __shfl_up_sync(0xffffffffu, incl, o);
        if (lane >= (u32)o) incl += y;
    }
    if (lane == 31) warp_sums[w] = incl;
    __syncthreads();
    if (w == 0) {
        u32 s = lane < nw ? warp_sums[lane] : 0;
        u32 si = s;
        for (int o = 1; o < 32; o <<= 1) {
            u32 y = __shfl_up_sync(0xffffffffu, si, o);
            if (lane >= (u32)o) si += y;
        }
        if (lane < nw) warp_sums[lane] = si - s;
        if (lane == 31) warp_sums[31] = si;  // nw <= 31 here (blocks of <= 992 threads)
    }
    __syncthreads();
    u32 r = warp_sums[w] + incl - x;
    *total = warp_sums[31];
    __syncthreads();
    return r;
}

// ---------------------------------------------------------------------------------------------
// Segmented stable LSD radix sort of 24-bit depth keys, 8 bits per pass. Segment v is
// [v * n, (v + 1) * n); pass 0 derives keys from depth bits relative to the view's minimum.

__device__ __forceinline__ u32 depth_key(float d, u32 vmin, u32 vmax) {
    // Depth bits relative to the view's nearest visible gaussian: exact order (positive floats
    // order as their bits), ties by index through the stable passes. Culled: last.
    u32 b = __float_as_uint(d);
    if (b == 0x7f800000u || vmax < vmin) return 0xffffffffu;
    return b >= vmin ? b - vmin : 0;
}

// Whether view v's keys need the fourth digit (its depth bits span more than 2^24 values).
__device__ __forceinline__ bool needs_top_digit(u32 vmin, u32 vmax) {
    return vmax >= vmin && ((vmax - vmin) >> KEY_BITS) != 0;
}

// Whether any of the first nv views needs the fourth digit (called by whole warps).
__device__ __forceinline__ bool any_needs_top(const u32* __restrict__ minmax, u32 nv) {
    bool any = false;
    for (u32 v = lane_id(); v < nv; v += 32) any |= needs_top_digit(minmax[2 * v], minmax[2 * v + 1]);
    return __any_sync(0xffffffffu, any);
}

// hist[(v * 256 + digit) * nblocks + block]; dtot[v * 256 + digit] += the block's counts (the
// view's digit totals, zeroed by the host before the pass).
extern "C" __global__ void __launch_bounds__(SORT_THREADS)
    sort_upsweep(u32 n, u32 pass, const float* __restrict__ depth, const u32* __restrict__ minmax,
                 const u32* __restrict__ keys, u32* __restrict__ hist, u32* __restrict__ dtot) {
    __shared__ u32 h[SORT_WARPS][256];
    u32 v = blockIdx.y, b = blockIdx.x, nb = gridDim.x;
    u32 w = threadIdx.x >> 5;
    if (pass == 3 && !any_needs_top(minmax, gridDim.y)) return;  // no fourth pass at all
    for (u32 k = threadIdx.x; k < SORT_WARPS * 256; k += SORT_THREADS) (&h[0][0])[k] = 0;
    __syncthreads();
    u32 vmin = minmax[2 * v], vmax = minmax[2 * v + 1];
    u64 seg = (u64)v * n;
    u32 base = b * SORT_TILE;
    u32 shift = 8 * pass;
    if (pass == 3 && !needs_top_digit(vmin, vmax)) {
        // Every key's top digit is 0 (culled keys are never reordered: their rects are empty).
        u32 count = min((u32)SORT_TILE, n - min(n, base));
        for (u32 d = threadIdx.x; d < 256; d += SORT_THREADS)
            hist[((u64)v * 256 + d) * nb + b] = d == 0 ? count : 0;
        if (threadIdx.x == 0 && count) atomicAdd(&dtot[v * 256], count);
        return;
    }
#pragma unroll 4
    for (u32 k = 0; k < SORT_ITEMS; k++) {
        u32 i = base + k * SORT_THREADS + threadIdx.x;
        if (i < n) {
            u32 key = pass == 0 ? depth_key(depth[seg + i], vmin, vmax) : keys[seg + i];
            atomicAdd(&h[w][(key >> shift) & 255], 1u);
        }
    }
    __syncthreads();
    for (u32 d = threadIdx.x; d < 256; d += SORT_THREADS) {
        u32 s = 0;
#pragma unroll
        for (u32 k = 0; k < SORT_WARPS; k++) s += h[k][d];
        hist[((u64)v * 256 + d) * nb + b] = s;
        if (s) atomicAdd(&dtot[v * 256 + d], s);
    }
}

// offs: the exclusive scan of hist (same layout). Writes keys_out (unless last) and vals_out.
// Elements are ranked stably (warp by warp, 32 at a time in order), staged in shared memory in
// block-local sorted order, then written out so that consecutive threads write consecutive
// addresses of each digit's run.
// (At most 64 registers: four blocks per SM hide the ranking's latency better than three.)
extern "C" __global__ void __launch_bounds__(SORT_THREADS, 4)
    sort_downsweep(u32 n, u32 pass, u32 last, const float* __restrict__ depth,
                   const u32* __restrict__ minmax, const u32* __restrict__ keys_in,
                   const u32* __restrict__ vals_in, const u32* __restrict__ offs,
                   u32* __restrict__ keys_out, u32* __restrict__ vals_out) {
    __shared__ u32 cnt[SORT_WARPS][256];
    __shared__ u32 dstart[256];
    __shared__ u32 gbase[256];
    __shared__ u32 skey[SORT_TILE];
    __shared__ u32 sval[SORT_TILE];
    u32 v = blockIdx.y, b = blockIdx.x, nb = gridDim.x;
    u32 w = threadIdx.x >> 5, lane = lane_id();
    if (pass == 3 && !any_needs_top(minmax, gridDim.y)) return;  // no fourth pass at all
    for (u32 k = threadIdx.x; k < SORT_WARPS * 256; k += SORT_THREADS) (&cnt[0][0])[k] = 0;
    __syncthreads();
    u32 vmin = minmax[2 * v], vmax = minmax[2 * v + 1];
    u64 seg = (u64)v * n;
    u32 shift = 8 * pass;
    if (pass == 3 && !needs_top_digit(vmin, vmax)) {
        // Nothing to do: this view's result is the third pass's output (bin_count reads it).
        return;
    }
    u32 wbase = b * SORT_TILE + w * 32 * SORT_ITEMS;
    u32 key[SORT_ITEMS], val[SORT_ITEMS], rank[SORT_ITEMS];
    u32 lt = (1u << lane) - 1;
#pragma unroll
    for (u32 k = 0; k < SORT_ITEMS; k++) {
        u32 i = wbase + k * 32 + lane;
        bool ok = i < n;
        u32 kk = 0xffffffffu, vv = 0;
        if (ok) {
            kk = pass == 0 ? depth_key(depth[seg + i], vmin, vmax) : keys_in[seg + i];
            vv = pass == 0 ? i : vals_in[seg + i];
        }
        key[k] = kk;
        val[k] = vv;
        u32 d = (kk >> shift) & 255;
        u32 active = __ballot_sync(0xffffffffu, ok);
        u32 peers = __match_any_sync(0xffffffffu, d) & active;
        u32 before = cnt[w][d];
        __syncwarp();
        rank[k] = before + __popc(peers & lt);
        if (ok && (peers & lt) == 0) cnt[w][d] = before + __popc(peers);
        __syncwarp();
    }
    __syncthreads();
    // Per digit: warp prefixes, the digit's start in the block, its global offset.
    u32 d = threadIdx.x;  // SORT_THREADS == 256 digits
    u32 run = 0;
#pragma unroll
    for (u32 k = 0; k < SORT_WARPS; k++) {
        u32 c = cnt[k][d];
        cnt[k][d] = run;
        run += c;
    }
    u32 total;
    u32 start = block_exclusive_scan(run, &total);
    dstart[d] = start;
    gbase[d] = offs[((u64)v * 256 + d) * nb + b];
    __syncthreads();
#pragma unroll
    for (u32 k = 0; k < SORT_ITEMS; k++) {
        u32 i = wbase + k * 32 + lane;
        if (i < n) {
            u32 dk = (key[k] >> shift) & 255;
            u32 local = dstart[dk] + cnt[w][dk] + rank[k];
            skey[local] = key[k];
            sval[local] = val[k];
        }
    }
    __syncthreads();
    u32 count = min((u32)SORT_TILE, n - min(n, b * SORT_TILE));
    // The third pass is the last one for views that need no fourth: their keys are not read.
    bool keys_wanted = !last && !(pass == 2 && !needs_top_digit(vmin, vmax));
    for (u32 i = threadIdx.x; i < count; i += SORT_THREADS) {
        u32 kk = skey[i];
        u32 dk = (kk >> shift) & 255;
        u32 pos = gbase[dk] + (i - dstart[dk]);
        if (keys_wanted) keys_out[pos] = kk;
        vals_out[pos] = sval[i];
    }
}

// Exclusive scan of the digit histograms in place, so that hist[(v * 256 + d) * nb + b] becomes
// the first output position of block b's keys of digit d in view v: v * n (every view's segment
// holds exactly n keys) + the view's keys of lower digits (from dtot) + the earlier blocks'
// keys of digit d. Grid (nv, 8), warp per digit: each row of nb counts is scanned by one warp,
// 128 at a time (loads first, then the scans). With skip_nv > 0 it does nothing unless one of
// the first skip_nv views needs the fourth digit.
extern "C" __global__ void __launch_bounds__(1024)
    sort_scan(u32 n, u32 nb, u32* __restrict__ hist, const u32* __restrict__ dtot,
              const u32* __restrict__ minmax, u32 skip_nv) {
    if (skip_nv && !any_needs_top(minmax, skip_nv)) return;
    u32 lane = lane_id(), v = blockIdx.x, d = blockIdx.y * 32 + (threadIdx.x >> 5);
    u32 below = 0;
    for (u32 k = lane; k < d; k += 32) below += dtot[v * 256 + k];
    for (int o = 16; o > 0; o >>= 1) below += __shfl_xor_sync(0xffffffffu, below, o);
    u32 carry = v * n + below;
    u32* row = hist + ((u64)v * 256 + d) * nb;
    for (u32 b0 = 0; b0 < nb; b0 += 128) {
        u32 x[4];
#pragma unroll
        for (u32 q = 0; q < 4; q++) {
            u32 b = b0 + 32 * q + lane;
            x[q] = b < nb ? row[b] : 0u;
        }
#pragma unroll
        for (u32 q = 0; q < 4; q++) {
            u32 incl = x[q];
            for (int o = 1; o < 32; o <<= 1) {
                u32 y = __shfl_up_sync(0xffffffffu, incl, o);
                if (lane >= (u32)o) incl += y;
            }
            u32 b = b0 + 32 * q + lane;
            if (b < nb) row[b] = carry + incl - x[q];
            carry += __shfl_sync(0xffffffffu, incl, 31);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Stable bucketing of each view's depth-sorted list into bins of BIN x BIN pixels (BIN = 16 << shift,
// shift 0 or 1; the gaussians' tile rects stay in 16-pixel tiles, the reference's unit).
//
// The sorted list of view v is cut into chunks of `chunk` entries, one block each (times groups of
// `group_rows` bin rows, grid z); warp w of a block owns a contiguous slice of its chunk. Per
// (view, chunk, bin) cell, at index C * bin_offset + c * bins + b:
//   wcounts  uint4 = 8 u16 per-warp pair counts (bin_count)
//   bases    u32 the cell's pair count (bin_count), then, in place, its first pair index within
//            its bin (bin_offsets; bins start at starts[], scan_bins)
// bin_count also stores, per sorted entry, which bins the gaussian really touches (hit record:
// gaussian, packed tile rect, 4x4-bin window bitmask; rects larger than the window are re-derived
// from the gaussian's record by bin_scatter).

// The region where a gaussian's blend can reach alpha >= 1/255: q = d^T conic d <= r2 with the
// margins of r2_of, inflated (relatively to the conic's condition number, which bounds the float
// error of the blend's own evaluation of q) so that the culling never drops a bin the blend would
// draw in. For each strip of pixel rows its x extent is exact (the ellipse is convex): the widest
// point is at dy = dys (right) or -dys (left), clamped to the strip.
struct Ell {
    float mx, my, k, wx, hy, ihy, dys;
    bool full;  // degenerate conic: no culling inside the rect
};

__device__ __forceinline__ Ell make_ell(float4 a, float4 b) {
    Ell e;
    e.mx = a.x;
    e.my = a.y;
    float qa = b.x, qb = b.y, qc = b.z;
    float det = dop(qa, qc, qb, qb);
    e.full = !(det > 0.0f) || !(qa > 0.0f) || !(qc > 0.0f);
    e.k = e.wx = e.hy = e.ihy = e.dys = 0.0f;
    if (e.full) return e;
    float tr = qa + qc;
    float r2 = r2_of(a.z) * (1.0f + 1e-6f * (tr / det) * tr) + 1e-3f;
    float k = -qb / qa;
    float hy = sqrtf(r2 * qa / det) * 1.001f + 0.02f;  // y half extent
    float wx = sqrtf(r2 / qa) * 1.001f + 0.02f;        // x half width at the centre row
    float hx = sqrtf(wx * wx + k * k * hy * hy);
    e.k = k;
    e.wx = wx;
    e.hy = hy;
    e.ihy = 1.0f / hy;
    e.dys = k * hy * (hy / hx);
    if (!(isfinite(e.k) && isfinite(e.wx) && isfinite(e.hy) && isfinite(e.dys) && e.hy > 0.0f &&
          isfinite(e.ihy)))
        e.full = true;
    return e;
}

// Bins [c_lo, c_hi] of bin row `by` that the ellipse meets inside the tile rect (pixel centres
// of the rect only). False when none.
template <int BIN>
__device__ __forceinline__ bool row_span(const Ell& e, u32 x0, u32 y0, u32 x1, u32 y1, u32 by,
                                         u32& c_lo, u32& c_hi) {
    float ya = (float)max(by * BIN, y0 * TILE) + 0.5f;
    float yb = (float)min(by * BIN + BIN, y1 * TILE) - 0.5f;
    float rx0 = (float)(x0 * TILE) + 0.5f, rx1 = (float)(x1 * TILE) - 0.5f;
    float xa = rx0, xb = rx1;
    if (!(ya <= yb)) return false;
#ifndef SN17_NO_CULL
    if (!e.full) {
        float lo = fmaxf(ya - e.my, -e.hy), hi = fminf(yb - e.my, e.hy);
        if (!(lo <= hi)) return false;
        float d1 = fminf(fmaxf(e.dys, lo), hi), d2 = fminf(fmaxf(-e.dys, lo), hi);
        float u1 = d1 * e.ihy, u2 = d2 * e.ihy;
        float s1 = sqrtf(fmaxf(1.0f - u1 * u1, 0.0f)), s2 = sqrtf(fmaxf(1.0f - u2 * u2, 0.0f));
        float right = e.mx + e.k * d1 + e.wx * s1, left = e.mx + e.k * d2 - e.wx * s2;
        float slack = 0.05f + 1e-5f * (fabsf(e.mx) + fabsf(e.k * d1) + fabsf(e.k * d2) + e.wx);
        xa = fmaxf(xa, left - slack);
        xb = fminf(xb, right + slack);
        if (!(xa <= xb)) return false;
    }
#endif
    // Bin column c holds pixel centres [c BIN + 0.5, c BIN + BIN - 0.5].
    c_lo = (u32)max(0.0f, ceilf((xa + 0.5f) / (float)BIN - 1.0f));
    c_hi = (u32)max(0.0f, floorf((xb - 0.5f) / (float)BIN));
    u32 bx1 = (x1 * TILE + BIN - 1) / BIN;
    c_hi = min(c_hi, bx1 - 1);
    c_lo = max(c_lo, (x0 * TILE) / BIN);
    return c_lo <= c_hi;
}


// Pair codes: a pair stores the gaussian index in its low bits and, above them, the rectangle
// of 8x4-pixel sub-blocks of its bin that the gaussian's alpha >= 1/255 box meets inside its
// tile rect (columns c0..c1, rows r0..r1; empty when c0 > c1). Raster warps test their own
// sub-block against it without loading the gaussian.
template <int BIN> struct Code {  // BIN 16: 2 x 4 sub-blocks (1+1+2+2 bits); BIN 32: 4 x 8 (2+2+3+3)
    static const u32 CB = BIN == 16 ? 1 : 2, RB = BIN == 16 ? 2 : 3;
    static const u32 GBITS = 32 - 2 * (CB + RB);
    __device__ static u32 make(u32 c0, u32 c1, u32 r0, u32 r1) {
        return c0 | (c1 << CB) | (r0 << (2 * CB)) | (r1 << (2 * CB + RB));
    }
    // Whether pair word p's code has its bit set in a table of codes (see raster_tile).
    __device__ static bool in_lut(const u32* lut, u32 p) {
        return (lut[p >> (GBITS + 5)] >> ((p >> GBITS) & 31u)) & 1u;
    }
    __device__ static bool has(u32 code, u32 c, u32 r) {
        const u32 cm = (1u << CB) - 1, rm = (1u << RB) - 1;
        return c >= (code & cm) && c <= ((code >> CB) & cm) && r >= ((code >> (2 * CB)) & rm) &&
               r <= ((code >> (2 * CB + RB)) & rm);
    }
};

// A gaussian's sub-block rect (sc0..sc1, sr0..sr1; see sub_of) clipped to bin (bx, by), in
// the bin's sub-block coordinates; false when they do not meet.
template <int BIN>
__device__ __forceinline__ bool clip_to_bin(u32 sc0, u32 sc1, u32 sr0, u32 sr1, u32 bx, u32 by,
                                            u32& c0, u32& c1, u32& r0, u32& r1) {
    const u32 COLS = BIN / 8, ROWS = BIN / 4;
    u32 bc = bx * COLS, br = by * ROWS;
    u32 a0 = max(sc0, bc), a1 = min(sc1, bc + COLS - 1);
    u32 b0 = max(sr0, br), b1 = min(sr1, br + ROWS - 1);
    c0 = a0 - bc, c1 = a1 - bc, r0 = b0 - br, r1 = b1 - br;
    return a0 <= a1 && b0 <= b1;
}

// The pair code of a sub-block rect in bin (bx, by) (an empty code when they do not meet).
template <int BIN>
__device__ __forceinline__ u32 code_in_bin(u32 sc0, u32 sc1, u32 sr0, u32 sr1, u32 bx, u32 by) {
    u32 c0, c1, r0, r1;
    return clip_to_bin<BIN>(sc0, sc1, sr0, sr1, bx, by, c0, c1, r0, r1)
               ? Code<BIN>::make(c0, c1, r0, r1)
               : Code<BIN>::make(BIN / 8 - 1, 0, 0, 0);
}

// The pair of gaussian g in bin (bx, by), from its packed tile rect (lo, hi; see sub_of).
template <int BIN>
__device__ __forceinline__ u32 pair_of(u32 g, u32 lo, u32 hi, u32 bx, u32 by) {
    u32 sc0, sc1, sr0, sr1;
    sub_of(lo, hi, sc0, sc1, sr0, sr1);
    return g | (code_in_bin<BIN>(sc0, sc1, sr0, sr1, bx, by) << Code<BIN>::GBITS);
}

// The sub-blocks of bin (bx, by) that a gaussian's sub-block rect (sc0..sc1, sr0..sr1; see
// sub_of) covers, as a bit per sub-block (bit r * COLS + c, the raster warps' numbering): the
// bits of the code pair_of gives it there (0 for an empty code).
template <int BIN>
__device__ __forceinline__ u32 code_mask(u32 sc0, u32 sc1, u32 sr0, u32 sr1, u32 bx, u32 by) {
    const u32 COLS = BIN / 8, SPREAD = BIN == 16 ? 0x55u : 0x11111111u;
    u32 c0, c1, r0, r1;
    if (!clip_to_bin<BIN>(sc0, sc1, sr0, sr1, bx, by, c0, c1, r0, r1)) return 0;
    u32 cols = (2u << c1) - (1u << c0);
    u32 rows = SPREAD & (0xffffffffu << (COLS * r0)) & (0xffffffffu >> (32 - COLS * (r1 + 1)));
    return cols * rows;
}

#define BIN_WINDOW 4
#define HIT_LARGE 0x10000u

__device__ __forceinline__ u32 bins_x_of(const ViewParams& vp, u32 shift) {
    return (vp.tiles_x + (1u << shift) - 1) >> shift;
}
__device__ __forceinline__ u32 bins_y_of(const ViewParams& vp, u32 shift) {
    return (vp.tiles_y + (1u << shift) - 1) >> shift;
}

// The bin rows [r0, r1) of one block's group (blockIdx.z) in a view's bin grid; false when the
// group starts past the last row.
struct BinRows {
    u32 bx_n, by_n, nb, r0, r1, gnb;
};
__device__ __forceinline__ bool bin_rows(const ViewParams& vp, u32 shift, u32 group_rows,
                                         BinRows& b) {
    b.bx_n = bins_x_of(vp, shift);
    b.by_n = bins_y_of(vp, shift);
    b.nb = b.bx_n * b.by_n;
    b.r0 = blockIdx.z * group_rows;
    if (b.r0 >= b.by_n) return false;
    b.r1 = min(b.by_n, b.r0 + group_rows);
    b.gnb = (b.r1 - b.r0) * b.bx_n;
    return true;
}

__device__ __forceinline__ void add_u16(u16* base, u32 l) {
    // u16 counters packed two to a word (a warp's counts stay below 2^16).
    atomicAdd((u32*)(base + (l & ~1u)), 1u << (16 * (l & 1u)));
}

// This warp's slice [wbeg, wend) of chunk c of the entries from e0 (whole steps of 32 entries).
__device__ __forceinline__ void warp_slice(u32 n, u32 e0, u32 chunk, u32 c, u32 w, u32& wbeg,
                                           u32& wend) {
    u32 cbeg = min(n, e0 + c * chunk), cend = min(n, cbeg + chunk);
    u32 len = cend - min(cend, cbeg);
    u32 per = ((len + BIN_WARPS - 1) / BIN_WARPS + 31) & ~31u;
    wbeg = min(cend, cbeg + w * per);
    wend = min(cend, wbeg + per);
}

// Calls f(row, col) for each bin of rows [r0, r1) that hit record `rec` covers, rows first.
// Large records use the ellipse `e` (built from the gaussian's record by the caller) and drop
// the bins `keep(row, col)` refuses (small records' masks were filtered by bin_count).
template <int BIN, class K, class F>
__device__ __forceinline__ void for_hits(uint4 rec, const Ell& e, u32 r0, u32 r1, K keep, F f) {
    const u32 shift = BIN == 32 ? 1 : 0;
    u32 x0, y0, x1, y1;
    rect_unpack(rec.y, rec.z, x0, y0, x1, y1);
    if (!(x0 < x1 && y0 < y1)) return;
    u32 bx0 = x0 >> shift, by0 = y0 >> shift;
    if (!(rec.w & HIT_LARGE)) {
        u32 m = rec.w & 0xffffu;
        while (m) {
            u32 k = __ffs(m) - 1;
            m &= m - 1;
            u32 row = by0 + k / BIN_WINDOW;
            if (row >= r0 && row < r1) f(row, bx0 + k % BIN_WINDOW);
        }
    } else {
        u32 by1 = (y1 + (1u << shift) - 1) >> shift;
        for (u32 row = max(by0, r0); row < min(by1, r1); row++) {
            u32 cl, ch;
            if (row_span<BIN>(e, x0, y0, x1, y1, row, cl, ch))
                for (u32 cx = cl; cx <= ch; cx++)
                    if (keep(row, cx)) f(row, cx);
        }
    }
}

// Per-warp pair counts per (view, chunk, bin) and each sorted entry's hit record:
//   (gaussian, packed rect lo, packed rect hi, window mask | HIT_LARGE)
// (window: 4x4 bins from the rect's first bin, bit 4 * row + column). `sorted_a` is the sort's
// result for views whose depths needed three digits, `sorted_b` for those that needed four.
// The block's entries are chunk blockIdx.x of its view's entries from e0 (the round's first);
// its cells are chunk blockIdx.x of the round's `nchunks`.
// FILTER (the second round, see raster_impl): the list is need_compact's, vcount[v] entries
// for view v, and only pairs whose code covers a sub-block the first round left unsaturated
// (`unsat`, a mask per (view, bin)) are counted.
// Shared memory: wc[8][G'] u16 (G' = group bins rounded up to even).
template <int BIN, bool FILTER>
__device__ void bin_count_impl(u32 n, u32 chunk, u32 e0, u32 nchunks, u32 group_rows,
                               const ViewParams* __restrict__ views,
                               const u32* __restrict__ sorted_a, const u32* __restrict__ sorted_b,
                               const u32* __restrict__ minmax, const float4* __restrict__ brec,
                               uint4* __restrict__ hits, uint4* __restrict__ wcounts,
                               u32* __restrict__ ctotals, const u32* __restrict__ unsat,
                               const u32* __restrict__ vcount) {
    extern __shared__ u32 smem[];
    const u32 shift = BIN == 32 ? 1 : 0;
    u32 c = blockIdx.x, v = blockIdx.y;
    const ViewParams& vp = views[v];
    BinRows br;
    if (!bin_rows(vp, shift, group_rows, br)) return;
    u32 bx_n = br.bx_n, nb = br.nb, r0 = br.r0, r1 = br.r1, gnb = br.gnb;
    u32 g2 = (gnb + 1) & ~1u;
    u16* wc = (u16*)smem;
    for (u32 k = threadIdx.x; k < BIN_WARPS * g2 / 2; k += BIN_THREADS) smem[k] = 0;
    __syncthreads();
    u64 seg = (u64)v * n;
    const u32* sorted = needs_top_digit(minmax[2 * v], minmax[2 * v + 1]) ? sorted_b : sorted_a;
    const u32* sat = unsat + vp.tile_offset;
    bool store = blockIdx.z == 0;
    u32 w = threadIdx.x >> 5, lane = lane_id();
    u32 wbeg, wend;
    warp_slice(FILTER ? vcount[v] : n, e0, chunk, c, w, wbeg, wend);
    u16* mine = wc + w * g2;
    for (u32 i = wbeg + lane; i < wend; i += 32) {
        u32 g = sorted[seg + i];
        float4 a = brec[2 * (seg + g)], b = brec[2 * (seg + g) + 1];
        u32 lo_w = __float_as_uint(a.w), hi_w = __float_as_uint(b.w);
        u32 x0, y0, x1, y1;
        rect_unpack(lo_w, hi_w, x0, y0, x1, y1);
        uint4 rec = make_uint4(g, lo_w, hi_w, 0u);
        if (x0 < x1 && y0 < y1) {
            Ell e = make_ell(a, b);
            u32 bx0 = x0 >> shift, by0 = y0 >> shift;
            u32 bx1 = (x1 + (1u << shift) - 1) >> shift, by1 = (y1 + (1u << shift) - 1) >> shift;
            bool small = bx1 - bx0 <= BIN_WINDOW && by1 - by0 <= BIN_WINDOW;
            u32 sc0 = 0, sc1 = 0, sr0 = 0, sr1 = 0;
            if constexpr (FILTER) sub_of(lo_w, hi_w, sc0, sc1, sr0, sr1);
            u32 mask = 0;
            u32 lo = small ? by0 : max(by0, r0), hi = small ? by1 : min(by1, r1);
            for (u32 by = lo; by < hi; by++) {
                u32 cl, ch;
                if (!row_span<BIN>(e, x0, y0, x1, y1, by, cl, ch)) continue;
                bool in_group = by >= r0 && by < r1;
                if constexpr (FILTER) {
                    for (u32 cx = cl; cx <= ch; cx++) {
                        if (!(code_mask<BIN>(sc0, sc1, sr0, sr1, cx, by) & sat[by * bx_n + cx]))
                            continue;
                        if (small) mask |= 1u << ((by - by0) * BIN_WINDOW + cx - bx0);
                        if (in_group) add_u16(mine, (by - r0) * bx_n + cx);
                    }
                } else {
                    if (small)
                        mask |= ((2u << (ch - cl)) - 1u) << ((by - by0) * BIN_WINDOW + cl - bx0);
                    if (in_group)
                        for (u32 cx = cl; cx <= ch; cx++) add_u16(mine, (by - r0) * bx_n + cx);
                }
            }
            rec.w = small ? mask : HIT_LARGE;
        }
        if (store) hits[seg + i] = rec;
    }
    __syncthreads();
    u64 cell0 = (u64)nchunks * vp.tile_offset + (u64)c * nb + r0 * bx_n;
    for (u32 l = threadIdx.x; l < gnb; l += BIN_THREADS) {
        u32 x[BIN_WARPS], sum = 0;
#pragma unroll
        for (u32 k = 0; k < BIN_WARPS; k++) {
            x[k] = wc[k * g2 + l];
            sum += x[k];
        }
        wcounts[cell0 + l] = make_uint4(x[0] | (x[1] << 16), x[2] | (x[3] << 16),
                                        x[4] | (x[5] << 16), x[6] | (x[7] << 16));
        // (bin_offsets scans these: a quarter of the bytes of the per-warp counts.)
        ctotals[cell0 + l] = sum;
    }
}

// The second round's list (see raster_tile): the entries from e0 of each view's depth order
// whose gaussian's sub-block rect covers, in some bin, a sub-block the first round left
// unsaturated, in order. need_mark sets a bit per such entry (need[v * need_words + (i - e0) /
// 32]) and counts them per block (blk[v * nblk + block]), need_scan turns the counts into each
// block's first output position and vcount[v], need_compact writes the list. A block takes
// MARK_TILE consecutive entries, warp w the w-th eighth of them.
#define MARK_THREADS 256
#define MARK_ITEMS 8  // steps of 32 entries per warp
#define MARK_TILE (MARK_THREADS * MARK_ITEMS)

template <int BIN>
__device__ __forceinline__ bool touches_unsat(u32 lo, u32 hi, const u32* sat, u32 bx_n) {
    const u32 shift = BIN == 32 ? 1 : 0;
    u32 x0, y0, x1, y1;
    rect_unpack(lo, hi, x0, y0, x1, y1);
    if (!(x0 < x1 && y0 < y1)) return false;
    u32 bx0 = x0 >> shift, by0 = y0 >> shift;
    u32 bx1 = (x1 + (1u << shift) - 1) >> shift, by1 = (y1 + (1u << shift) - 1) >> shift;
    u32 sc0, sc1, sr0, sr1;
    sub_of(lo, hi, sc0, sc1, sr0, sr1);
    for (u32 by = by0; by < by1; by++)
        for (u32 bx = bx0; bx < bx1; bx++)
            if (code_mask<BIN>(sc0, sc1, sr0, sr1, bx, by) & sat[by * bx_n + bx]) return true;
    return false;
}

template <int BIN>
__device__ void need_mark_impl(u32 n, u32 e0, const ViewParams* __restrict__ views,
                               const u32* __restrict__ sorted_a, const u32* __restrict__ sorted_b,
                               const u32* __restrict__ minmax, const uint2* __restrict__ rects,
                               const u32* __restrict__ unsat, u32* __restrict__ need,
                               u32 need_words, u32* __restrict__ blk) {
    __shared__ u32 wsum[MARK_THREADS / 32];
    const u32 shift = BIN == 32 ? 1 : 0;
    u32 v = blockIdx.y, w = threadIdx.x >> 5, lane = lane_id();
    const ViewParams& vp = views[v];
    const u32* sorted = needs_top_digit(minmax[2 * v], minmax[2 * v + 1]) ? sorted_b : sorted_a;
    const u32* sat = unsat + vp.tile_offset;
    u32 bx_n = bins_x_of(vp, shift);
    u64 seg = (u64)v * n;
    u32 base = e0 + blockIdx.x * MARK_TILE + w * 32 * MARK_ITEMS;
    // Loads first (the gathers of all steps in flight together), then the tests.
    uint2 rr[MARK_ITEMS];
#pragma unroll
    for (u32 k = 0; k < MARK_ITEMS; k++) {
        u32 i = base + 32 * k + lane;
        rr[k] = i < n ? rects[seg + sorted[seg + i]] : make_uint2(0u, 0u);
    }
    u32 cnt = 0;
#pragma unroll
    for (u32 k = 0; k < MARK_ITEMS; k++) {
        u32 bits = __ballot_sync(0xffffffffu, touches_unsat<BIN>(rr[k].x, rr[k].y, sat, bx_n));
        u32 i0 = base + 32 * k;
        if (i0 < n && lane == 0) need[(u64)v * need_words + ((i0 - e0) >> 5)] = bits;
        cnt += __popc(bits);
    }
    if (lane == 0) wsum[w] = cnt;
    __syncthreads();
    if (threadIdx.x == 0) {
        u32 t = 0;
        for (u32 k = 0; k < MARK_THREADS / 32; k++) t += wsum[k];
        blk[(u64)v * gridDim.x + blockIdx.x] = t;
    }
}

#define NEED_MARK_KERNEL(BIN)                                                                    \
    extern "C" __global__ void __launch_bounds__(MARK_THREADS) need_mark##BIN(                   \
        u32 n, u32 e0, const ViewParams* __restrict__ views, const u32* __restrict__ sorted_a,   \
        const u32* __restrict__ sorted_b, const u32* __restrict__ minmax,                        \
        const uint2* __restrict__ rects, const u32* __restrict__ unsat, u32* __restrict__ need,  \
        u32 need_words, u32* __restrict__ blk) {                                                 \
        need_mark_impl<BIN>(n, e0, views, sorted_a, sorted_b, minmax, rects, unsat, need,        \
                            need_words, blk);                                                    \
    }
NEED_MARK_KERNEL(16)
NEED_MARK_KERNEL(32)

// Block per view: blk's row of nblk counts becomes its exclusive scan; vcount[v] = the total.
extern "C" __global__ void __launch_bounds__(1024)
    need_scan(u32 nblk, u32* __restrict__ blk, u32* __restrict__ vcount) {
    u32* row = blk + (u64)blockIdx.x * nblk;
    u32 carry = 0;
    for (u32 b0 = 0; b0 < nblk; b0 += 1024) {
        u32 b = b0 + threadIdx.x;
        u32 x = b < nblk ? row[b] : 0u;
        u32 total;
        u32 ex = block_exclusive_scan(x, &total);
        if (b < nblk) row[b] = carry + ex;
        carry += total;
    }
    if (threadIdx.x == 0) vcount[blockIdx.x] = carry;
}

// out[v * n + k] = the k-th marked entry's gaussian (same blocks and warps as need_mark).
extern "C" __global__ void __launch_bounds__(MARK_THREADS)
    need_compact(u32 n, u32 e0, const u32* __restrict__ sorted_a, const u32* __restrict__ sorted_b,
                 const u32* __restrict__ minmax, const u32* __restrict__ need, u32 need_words,
                 const u32* __restrict__ blk, u32* __restrict__ out) {
    __shared__ u32 wsum[MARK_THREADS / 32];
    u32 v = blockIdx.y, w = threadIdx.x >> 5, lane = lane_id();
    const u32* sorted = needs_top_digit(minmax[2 * v], minmax[2 * v + 1]) ? sorted_b : sorted_a;
    u64 seg = (u64)v * n;
    u32 base = e0 + blockIdx.x * MARK_TILE + w * 32 * MARK_ITEMS;
    u32 words[MARK_ITEMS];
    u32 cnt = 0;
#pragma unroll
    for (u32 k = 0; k < MARK_ITEMS; k++) {
        u32 i0 = base + 32 * k;
        words[k] = i0 < n ? need[(u64)v * need_words + ((i0 - e0) >> 5)] : 0u;
        cnt += __popc(words[k]);
    }
    if (lane == 0) wsum[w] = cnt;
    __syncthreads();
    u32 off = blk[(u64)v * gridDim.x + blockIdx.x];
    for (u32 k = 0; k < w; k++) off += wsum[k];
    u32 lt = (1u << lane) - 1;
#pragma unroll
    for (u32 k = 0; k < MARK_ITEMS; k++) {
        u32 bits = words[k];
        if ((bits >> lane) & 1u) out[seg + off + __popc(bits & lt)] = sorted[seg + base + 32 * k + lane];
        off += __popc(bits);
    }
}

// One block: starts[i] = sum of totals[0..i) for i in 0..=m, in 64 bits (clamped to u32);
// status[0] = total pairs. Tiles of 1024 x 8 entries, each thread summing 8 neighbours, with a
// carry between tiles.
#define SCANB_ITEMS 8  // (the vector loads below assume 8)
extern "C" __global__ void __launch_bounds__(1024)
    scan_bins(const u32* __restrict__ totals, u32 m, u32* __restrict__ starts,
              u64* __restrict__ status) {
    __shared__ u64 wsum[32];
    __shared__ u64 tile_total;
    u32 lane = lane_id(), w = threadIdx.x >> 5;
    u64 carry = 0;
    for (u32 tile = 0; tile < m; tile += 1024 * SCANB_ITEMS) {
        u32 lo = tile + threadIdx.x * SCANB_ITEMS;
        u32 x[SCANB_ITEMS];
        if (lo + SCANB_ITEMS <= m) {
            // Whole vectors (the arrays are 256-byte aligned, lo a multiple of 8).
            uint4 a = reinterpret_cast<const uint4*>(totals + lo)[0];
            uint4 b = reinterpret_cast<const uint4*>(totals + lo)[1];
            x[0] = a.x, x[1] = a.y, x[2] = a.z, x[3] = a.w;
            x[4] = b.x, x[5] = b.y, x[6] = b.z, x[7] = b.w;
        } else {
#pragma unroll
            for (u32 k = 0; k < SCANB_ITEMS; k++) x[k] = lo + k < m ? totals[lo + k] : 0u;
        }
        u64 s = 0;
#pragma unroll
        for (u32 k = 0; k < SCANB_ITEMS; k++) s += x[k];
        // Block exclusive scan of s (64 bits).
        u64 incl = s;
        for (int o = 1; o < 32; o <<= 1) {
            u64 y = __shfl_up_sync(0xffffffffu, incl, o);
            if (lane >= (u32)o) incl += y;
        }
        if (lane == 31) wsum[w] = incl;
        __syncthreads();
        if (w == 0) {
            u64 a = wsum[lane], ai = a;
            for (int o = 1; o < 32; o <<= 1) {
                u64 y = __shfl_up_sync(0xffffffffu, ai, o);
                if (lane >= (u32)o) ai += y;
            }
            wsum[lane] = ai - a;
        }
        __syncthreads();
        u64 run = carry + wsum[w] + incl - s;
        u32 o[SCANB_ITEMS];
#pragma unroll
        for (u32 k = 0; k < SCANB_ITEMS; k++) {
            o[k] = (u32)min(run, (u64)0xffffffffu);
            run += x[k];
        }
        if (lo + SCANB_ITEMS <= m) {
            reinterpret_cast<uint4*>(starts + lo)[0] = make_uint4(o[0], o[1], o[2], o[3]);
            reinterpret_cast<uint4*>(starts + lo)[1] = make_uint4(o[4], o[5], o[6], o[7]);
        } else {
#pragma unroll
            for (u32 k = 0; k < SCANB_ITEMS; k++)
                if (lo + k < m) starts[lo + k] = o[k];
        }
        // The last thread's inclusive end is the tile's total (a variable of its own: warp 0
        // may still be reading wsum[0]).
        if (threadIdx.x == 1023) tile_total = run;
        __syncthreads();
        carry = tile_total;
    }
    if (threadIdx.x == 0) {
        starts[m] = (u32)min(carry, (u64)0xffffffffu);
        status[0] = carry;
    }
}

// bases[cell]: bin_count's pair count of (view, chunk, bin) becomes, in place, the cell's first
// pair index within the bin's run (bin_scatter adds the bin's start); totals[bin_offset + b] =
// pairs of (view, bin). Grid: x over groups of 32
// bins, y = view; block of OFFS_WARPS warps, lane = bin. The chunks are taken in rounds of
// OFFS_WARPS * OFFS_ITEMS, warp w scanning OFFS_ITEMS consecutive ones in registers, with the
// warps' totals scanned in shared memory (one read and one write per cell, every warp busy).
#define OFFS_WARPS 16
#define OFFS_ITEMS 8
extern "C" __global__ void __launch_bounds__(OFFS_WARPS * 32)
    bin_offsets(u32 nchunks, u32 shift, const ViewParams* __restrict__ views,
                u32* __restrict__ bases, u32* __restrict__ totals) {
    __shared__ u32 wtot[OFFS_WARPS][33];
    u32 v = blockIdx.y;
    const ViewParams& vp = views[v];
    u32 nb = bins_x_of(vp, shift) * bins_y_of(vp, shift);
    u32 lane = lane_id(), w = threadIdx.x >> 5;
    u32 t = blockIdx.x * 32 + lane;
    if (blockIdx.x * 32 >= nb) return;  // whole block
    bool ok = t < nb;
    u64 first = (u64)nchunks * vp.tile_offset + t;
    u32 carry = 0;
    for (u32 round = 0; round < nchunks; round += OFFS_WARPS * OFFS_ITEMS) {
        u32 c0 = round + w * OFFS_ITEMS;
        u32 x[OFFS_ITEMS];
        u32 s = 0;
#pragma unroll
        for (u32 k = 0; k < OFFS_ITEMS; k++) {
            u32 c = c0 + k;
            x[k] = ok && c < nchunks ? bases[first + (u64)c * nb] : 0u;
            s += x[k];
        }
        wtot[w][lane] = s;
        __syncthreads();
        u32 before = 0, all = 0;
        for (u32 k = 0; k < OFFS_WARPS; k++) {
            u32 y = wtot[k][lane];
            before += k < w ? y : 0u;
            all += y;
        }
        u32 run = carry + before;
#pragma unroll
        for (u32 k = 0; k < OFFS_ITEMS; k++) {
            u32 c = c0 + k;
            if (ok && c < nchunks) bases[first + (u64)c * nb] = run;
            run += x[k];
        }
        carry += all;
        __syncthreads();
    }
    if (ok && w == 0) totals[vp.tile_offset + t] = carry;
}

#define QCAP 128

// Position of the k-th (from 0) set bit of a 16-bit mask that has more than k set bits.
__device__ __forceinline__ u32 nth_bit16(u32 m, u32 k) {
    u32 pos = 0, c;
    c = __popc(m & 0xffu);
    if (k >= c) {
        k -= c;
        pos += 8;
        m >>= 8;
    }
    c = __popc(m & 0xfu);
    if (k >= c) {
        k -= c;
        pos += 4;
        m >>= 4;
    }
    c = __popc(m & 3u);
    if (k >= c) {
        k -= c;
        pos += 2;
        m >>= 2;
    }
    return pos + (k >= (m & 1u) ? 1u : 0u);
}

// The rank-and-place step shared by both paths: lanes with a valid (bin l, pair pv) get their
// stable rank among this warp's pairs of bin l (lanes in order) and store the pair.
#define PLACE_PAIRS(VALID, L, PV)                                                        \
    {                                                                                    \
        u32 peers = __match_any_sync(0xffffffffu, (VALID) ? (L) : 0xffffffffu);          \
        u32 r = (VALID) ? mine[L] + __popc(peers & lt) : 0u;                             \
        __syncwarp();                                                                    \
        if ((VALID) && (peers & lt) == 0) mine[L] = (u16)(mine[L] + __popc(peers));      \
        if (VALID) {                                                                     \
            if (staged) {                                                                \
                stage[lstart[L] + r] = (PV);                                             \
            } else {                                                                     \
                u32 pos = gbase[L] + r;                                                  \
                if (pos < capacity) pairs[pos] = (PV);                                   \
            }                                                                            \
        }                                                                                \
        __syncwarp();                                                                    \
    }

// Writes pairs[pos] = gaussian | sub-block code, pos stable in depth order within each (view,
// bin). Warp w walks its slice of the chunk 32 entries at a time; its first position in each
// bin's run is the cell's base plus the counts of the warps before it. A step's pairs are queued
// in (entry, bin) order and ranked 32 at a time by __match_any_sync on the bin, so equal bins
// keep depth order. The chunk's pairs are staged in shared memory in (bin, depth) order and
// written out bin by bin at the end, so that every (bin, chunk) run is written in one burst
// (pairs trickling into many partly written sectors made L2 write half sectors back to DRAM);
// a chunk with more pairs than the stage holds writes them directly.
// Shared memory: gbase[G] u32, lstart[G + 1] u32 (the bin's first staged pair), wrun[8][G'] u16
// (G' = G rounded up to even), queue[8][QCAP] u32 (local bin), qval[8][QCAP] u32 (the pair),
// stage[S] u32 (G = group bins).
// FILTER: the second round's (see bin_count_impl): vcount[v] entries, and large records drop
// the bins whose unsaturated sub-blocks their code misses.
template <int BIN, bool FILTER>
__device__ void bin_scatter_impl(u32 n, u32 chunk, u32 e0, u32 nchunks, u32 group_rows, u32 gmax,
                                 u32 stage_cap, const ViewParams* __restrict__ views,
                                 const float4* __restrict__ brec, const uint4* __restrict__ hits,
                                 const uint4* __restrict__ wcounts, const u32* __restrict__ bases,
                                 const u32* __restrict__ starts, u32 capacity,
                                 u32* __restrict__ pairs, const u32* __restrict__ unsat,
                                 const u32* __restrict__ vcount) {
    extern __shared__ u32 smem[];
    const u32 shift = BIN == 32 ? 1 : 0;
    u32 c = blockIdx.x, v = blockIdx.y;
    const ViewParams& vp = views[v];
    BinRows br;
    if (!bin_rows(vp, shift, group_rows, br)) return;
    u32 bx_n = br.bx_n, by_n = br.by_n, nb = br.nb, r0 = br.r0, r1 = br.r1, gnb = br.gnb;
    u32 g2 = (gmax + 1) & ~1u;
    u32* gbase = smem;                           // [gmax]
    u32* lstart = gbase + gmax;                  // [gmax + 1]
    u16* wrun = (u16*)(lstart + gmax + 1);       // [BIN_WARPS][g2]
    u32* queue = (u32*)(wrun + BIN_WARPS * g2);  // [BIN_WARPS][QCAP]
    u32* qval = queue + BIN_WARPS * QCAP;        // [BIN_WARPS][QCAP]
    u32* stage = qval + BIN_WARPS * QCAP;        // [stage_cap]
    u64 cell0 = (u64)nchunks * vp.tile_offset + (u64)c * nb + r0 * bx_n;
    // Per thread, consecutive bins (for the scan of the chunk's runs).
    u32 per = (gnb + BIN_THREADS - 1) / BIN_THREADS;
    u32 blo = min(gnb, threadIdx.x * per), bhi = min(gnb, blo + per);
    u32 tsum = 0;
    for (u32 l = blo; l < bhi; l++) {
        gbase[l] = bases[cell0 + l] + starts[vp.tile_offset + r0 * bx_n + l];
        uint4 a = wcounts[cell0 + l];
        u32 x[BIN_WARPS] = {a.x & 0xffffu, a.x >> 16, a.y & 0xffffu, a.y >> 16,
                            a.z & 0xffffu, a.z >> 16, a.w & 0xffffu, a.w >> 16};
        u32 run = 0;
#pragma unroll
        for (u32 k = 0; k < BIN_WARPS; k++) {
            wrun[k * g2 + l] = (u16)run;
            run += x[k];
        }
        lstart[l] = run;
        tsum += run;
    }
    u32 total;
    u32 at = block_exclusive_scan(tsum, &total);
    for (u32 l = blo; l < bhi; l++) {
        u32 x = lstart[l];
        lstart[l] = at;
        at += x;
    }
    if (threadIdx.x == 0) lstart[gnb] = total;
    __syncthreads();
    bool staged = total <= stage_cap;
    u64 seg = (u64)v * n;
    u32 w = threadIdx.x >> 5, lane = lane_id();
    u32 lt = (1u << lane) - 1;
    u32 wbeg, wend;
    warp_slice(FILTER ? vcount[v] : n, e0, chunk, c, w, wbeg, wend);
    u16* mine = wrun + w * g2;
    const u32* sat = unsat + vp.tile_offset;
    u32* q = queue + w * QCAP;
    u32* qv = qval + w * QCAP;
    bool grouped = r0 > 0 || r1 < by_n;
    for (u32 i0 = wbeg; i0 < wend; i0 += 32) {
        u32 i = i0 + lane;
        uint4 rec = make_uint4(0u, 0u, 0u, 0u);  // empty rect
        if (i < wend) rec = hits[seg + i];
        u32 x0, y0, x1, y1;
        rect_unpack(rec.y, rec.z, x0, y0, x1, y1);
        bool nonempty = x0 < x1 && y0 < y1;
        bool large = nonempty && (rec.w & HIT_LARGE);
        u32 h = 0, m = 0;
        if (!large && nonempty) {
            m = rec.w & 0xffffu;
            if (grouped) {
                u32 by0 = y0 >> shift;
#pragma unroll
                for (u32 t = 0; t < BIN_WINDOW; t++)
                    if (by0 + t < r0 || by0 + t >= r1) m &= ~(0xfu << (BIN_WINDOW * t));
            }
            h = __popc(m);
        }
        Ell e;
        e.full = true;
        u32 ks0 = 0, ks1 = 0, kr0 = 0, kr1 = 0;
        if (FILTER && large) sub_of(rec.y, rec.z, ks0, ks1, kr0, kr1);
        auto keep = [&](u32 row, u32 col) {
            return !FILTER || (code_mask<BIN>(ks0, ks1, kr0, kr1, col, row) & sat[row * bx_n + col]);
        };
        if (large) {
            e = make_ell(brec[2 * (seg + rec.x)], brec[2 * (seg + rec.x) + 1]);
            for_hits<BIN>(rec, e, r0, r1, keep, [&](u32, u32) { h++; });
        }
        u32 incl = h;
#pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
            u32 y = __shfl_up_sync(0xffffffffu, incl, o);
            if (lane >= (u32)o) incl += y;
        }
        u32 H = __shfl_sync(0xffffffffu, incl, 31);
        u32 off = incl - h;
        if (!__any_sync(0xffffffffu, large)) {
            // Fast path (window masks only): lane j of a round places the step's pair q0 + j,
            // found by a binary search over the lanes' prefix and the mask's n-th set bit.
            u32 sc0, sc1, sr0, sr1;
            sub_of(rec.y, rec.z, sc0, sc1, sr0, sr1);
            u32 sx = sc0 | (sc1 << 16), sy = sr0 | (sr1 << 16);
            u32 org = (x0 >> shift) | ((y0 >> shift) << 16);
            for (u32 q0 = 0; q0 < H; q0 += 32) {
                u32 p = q0 + lane;
                bool valid = p < H;
                u32 src = 0;
#pragma unroll
                for (u32 st = 16; st; st >>= 1) {
                    u32 t = __shfl_sync(0xffffffffu, incl, src + st - 1);
                    if (t <= p) src += st;
                }
                src = min(src, 31u);
                u32 ms = __shfl_sync(0xffffffffu, m, src);
                u32 os = __shfl_sync(0xffffffffu, off, src);
                u32 og = __shfl_sync(0xffffffffu, org, src);
                u32 g = __shfl_sync(0xffffffffu, rec.x, src);
                u32 ssx = __shfl_sync(0xffffffffu, sx, src);
                u32 ssy = __shfl_sync(0xffffffffu, sy, src);
                u32 l = 0, pv = 0;
                if (valid) {
                    u32 bit = nth_bit16(ms, p - os);
                    u32 row = (og >> 16) + bit / BIN_WINDOW, col = (og & 0xffffu) + bit % BIN_WINDOW;
                    l = (row - r0) * bx_n + col;
                    u32 code = code_in_bin<BIN>(ssx & 0xffffu, ssx >> 16, ssy & 0xffffu,
                                                ssy >> 16, col, row);
                    pv = g | (code << Code<BIN>::GBITS);
                }
                PLACE_PAIRS(valid, l, pv)
            }
            continue;
        }
        // General path: each lane queues its pairs in order (rounds of QCAP).
        for (u32 q0 = 0; q0 < H; q0 += QCAP) {
            if (off < q0 + QCAP && off + h > q0) {
                u32 k = off;
                auto put = [&](u32 row, u32 col) {
                    if (k >= q0 && k < q0 + QCAP) {
                        q[k - q0] = (row - r0) * bx_n + col;
                        qv[k - q0] = pair_of<BIN>(rec.x, rec.y, rec.z, col, row);
                    }
                    k++;
                };
                if (large) {
                    for_hits<BIN>(rec, e, r0, r1, keep, put);
                } else {
                    u32 mm = m, bx0 = x0 >> shift, by0 = y0 >> shift;
                    while (mm) {
                        u32 b = __ffs(mm) - 1;
                        mm &= mm - 1;
                        put(by0 + b / BIN_WINDOW, bx0 + b % BIN_WINDOW);
                    }
                }
            }
            __syncwarp();
            u32 qn = min((u32)QCAP, H - q0);
            for (u32 j0 = 0; j0 < qn; j0 += 32) {
                bool valid = j0 + lane < qn;
                u32 l = valid ? q[j0 + lane] : 0u;
                u32 pv = valid ? qv[j0 + lane] : 0u;
                PLACE_PAIRS(valid, l, pv)
            }
        }
    }
    if (!staged) return;
    __syncthreads();
    if (total >= 16 * gnb) {
        // Runs of 16 pairs or more on average: a warp per bin.
        for (u32 l = w; l < gnb; l += BIN_WARPS) {
            u32 a = lstart[l], len = lstart[l + 1] - a, g0 = gbase[l];
            for (u32 k = lane; k < len; k += 32)
                if (g0 + k < capacity) pairs[g0 + k] = stage[a + k];
        }
        return;
    }
    // Short runs (many bins, e.g. 1024 per view at 1024²): warp w writes the staged pairs of 32
    // consecutive bins at a time, a pair per lane, each pair's bin found among the 32 by a search
    // over the lanes' run starts (1M x 4 at 1024²: bucketing 0.489 -> 0.465 ms on an H200).
    for (u32 l0 = w * 32; l0 < gnb; l0 += BIN_WARPS * 32) {
        u32 l = l0 + lane;
        u32 a = lstart[min(l, gnb)], g0 = l < gnb ? gbase[l] : 0u;
        u32 first = __shfl_sync(0xffffffffu, a, 0), end = lstart[min(l0 + 32, gnb)];
        for (u32 t0 = first; t0 < end; t0 += 32) {
            u32 t = t0 + lane;
            u32 j = 0;
#pragma unroll
            for (u32 st = 16; st; st >>= 1)
                if (__shfl_sync(0xffffffffu, a, j + st) <= t) j += st;
            u32 aj = __shfl_sync(0xffffffffu, a, j), gj = __shfl_sync(0xffffffffu, g0, j);
            u32 pos = gj + (t - aj);
            if (t < end && pos < capacity) pairs[pos] = stage[t];
        }
    }
}

#define BIN_KERNELS(SUFFIX, BIN, FILTER)                                                         \
    extern "C" __global__ void __launch_bounds__(BIN_THREADS, FILTER ? 5 : 6) bin_count##SUFFIX(    \
        u32 n, u32 chunk, u32 e0, u32 nchunks, u32 group_rows,                                   \
        const ViewParams* __restrict__ views, const u32* __restrict__ sorted_a,                  \
        const u32* __restrict__ sorted_b, const u32* __restrict__ minmax,                        \
        const float4* __restrict__ brec, uint4* __restrict__ hits, uint4* __restrict__ wcounts,  \
        u32* __restrict__ ctotals, const u32* __restrict__ unsat,                                \
        const u32* __restrict__ vcount) {                                                        \
        bin_count_impl<BIN, FILTER>(n, chunk, e0, nchunks, group_rows, views, sorted_a,          \
                                    sorted_b, minmax, brec, hits, wcounts, ctotals, unsat,       \
                                    vcount);                                                     \
    }                                                                                            \
    extern "C" __global__ void __launch_bounds__(BIN_THREADS, 4) bin_scatter##SUFFIX(               \
        u32 n, u32 chunk, u32 e0, u32 nchunks, u32 group_rows, u32 gmax, u32 stage_cap,          \
        const ViewParams* __restrict__ views, const float4* __restrict__ brec,                   \
        const uint4* __restrict__ hits, const uint4* __restrict__ wcounts,                       \
        const u32* __restrict__ bases, const u32* __restrict__ starts, u32 capacity,             \
        u32* __restrict__ pairs, const u32* __restrict__ unsat,                                  \
        const u32* __restrict__ vcount) {                                                        \
        bin_scatter_impl<BIN, FILTER>(n, chunk, e0, nchunks, group_rows, gmax, stage_cap, views, \
                                      brec, hits, wcounts, bases, starts, capacity, pairs,       \
                                      unsat, vcount);                                            \
    }
BIN_KERNELS(16, 16, false)
BIN_KERNELS(32, 32, false)
BIN_KERNELS(16_b, 16, true)
BIN_KERNELS(32_b, 32, true)


// ---------------------------------------------------------------------------------------------
// Rasterization: block per (view, 16x16 tile), warp per 8x4-pixel sub-block (2 across, 4
// down). Warps run independently (no block barriers): each walks its bin's list 32 pairs at a
// time, keeps those whose sub-block code covers its sub-block, loads just those gaussians (one
// per lane, into its shared-memory slots), blends them front to back, and stops when its 32
// pixels are saturated. (With 32-pixel bins, the four tiles of a bin walk the same list.)
//
// Long lists are bucketed and blended in two rounds (MODE 1 then 2; MODE 0 is one round). The
// first round takes the front of each view's depth order; most sub-blocks saturate within it,
// and the second round buckets the rest only for the sub-blocks that did not (bin_count_impl's
// FILTER), which is most of the work of an object's interior saved. A first-round warp that is
// not saturated sets its bit in unsat[view bin] (bit r * COLS + c of its sub-block) and, if it
// blended anything, in touched[view bin], with each pixel's state in state[pixel] = (colour,
// T, negated when the pixel is done); the second round resumes from there. Same blends in the
// same order as one round: identical images.

// __expf without its rescaling of results below 2^-126: identical wherever the blend can use
// the result (alpha >= 1/255 needs power > -6), flushed to 0 below.
__device__ __forceinline__ float exp_blend(float x) {
    float r;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(x * 1.4426950216293334961f));
    return r;
}

// Final colour over the background, RGBA8.
__device__ __forceinline__ uchar4 to_rgba8(const ViewParams& vp, float cr, float cg, float cb,
                                           float T) {
    float r = cr + T * vp.bg[0], g = cg + T * vp.bg[1], bl = cb + T * vp.bg[2];
    uchar4 o;
    o.x = (unsigned char)(fminf(fmaxf(r, 0.0f), 1.0f) * 255.0f + 0.5f);
    o.y = (unsigned char)(fminf(fmaxf(g, 0.0f), 1.0f) * 255.0f + 0.5f);
    o.z = (unsigned char)(fminf(fmaxf(bl, 0.0f), 1.0f) * 255.0f + 0.5f);
    o.w = 255;
    return o;
}

// Tile t of view blockIdx.y, a block per tile (the block's warps each take their sub-block).
template <int BIN, int MODE>
__device__ __forceinline__ void raster_tile(u32 t, u32 n, const ViewParams* __restrict__ views,
                                            const u32* __restrict__ starts,
                                            const u32* __restrict__ pairs, u32 capacity,
                                            const float4* __restrict__ brec,
                                            const float4* __restrict__ crec,
                                            uchar4* __restrict__ out, u32* __restrict__ unsat,
                                            u32* __restrict__ touched,
                                            float4* __restrict__ state) {
    const u32 shift = BIN == 32 ? 1 : 0;
    const u32 GMASK = (1u << Code<BIN>::GBITS) - 1;
    // A staged gaussian: mean x, mean y, opacity; conic; colour. One array of them, so that
    // the blend loop addresses all three from one base (100k x 32 at 512²: raster 0.596 ->
    // 0.564 ms on an H200, against three arrays of float4).
    struct Staged {
        float4 a, q, c;
    };
    __shared__ Staged s_g[TILE * TILE / 32][32];
    u32 v = blockIdx.y;
    const ViewParams& vp = views[v];
    if (t >= vp.tiles_x * vp.tiles_y) return;
    u32 tx = t % vp.tiles_x, ty = t / vp.tiles_x;
    u32 bx_n = bins_x_of(vp, shift);
    u32 bin = (ty >> shift) * bx_n + (tx >> shift);
    u32 w = threadIdx.x >> 5, lane = lane_id();
    u32 lt = (1u << lane) - 1;
    // This warp's sub-block in bin coordinates.
    u32 cw = (tx & shift) * 2 + (w & 1), rw = (ty & shift) * 4 + (w >> 1);
    u32 sx0 = tx * TILE + (w & 1) * 8, sy0 = ty * TILE + (w >> 1) * 4;
    u32 px = sx0 + (lane & 7), py = sy0 + (lane >> 3);
    bool inside = px < vp.width && py < vp.height;
    float fx = (float)px + 0.5f, fy = (float)py + 0.5f;
    // (Recomputed where used: live across the blend loop they would cost registers.)
    auto pix = [&]() { return vp.pix_offset + (u64)py * vp.width + px; };
    auto my_bit = [&]() { return 1u << (rw * (BIN / 8) + cw); };
    float T = 1.0f, cr = 0.0f, cg = 0.0f, cb = 0.0f;
    bool done = !inside;
    if constexpr (MODE == 2) {
        // Saturated in the first round (which wrote these pixels): nothing to do.
        if (!(unsat[vp.tile_offset + bin] & my_bit())) return;
        if ((touched[vp.tile_offset + bin] & my_bit()) && inside) {
            float4 st = state[pix()];
            cr = st.x;
            cg = st.y;
            cb = st.z;
            T = fabsf(st.w);
            done = st.w < 0.0f;
        }
    }
    u32 s = min(starts[vp.tile_offset + bin], capacity);
    u32 e = min(starts[vp.tile_offset + bin + 1], capacity);
    u64 seg = (u64)v * n;
    Staged* sg = s_g[w];
    // Which pair codes cover this warp's sub-block: a bit per code (a load and a shift per
    // pair word instead of four field tests). Words past the list read as an empty code.
    __shared__ u32 s_lut[TILE * TILE / 32][BIN == 32 ? 32 : 2];
    if constexpr (BIN == 32) {
        // Lane l: codes 32 l .. 32 l + 31, i.e. r0 = 2 (l & 3) + bit 4, r1 = l >> 2, and
        // c0 | c1 << 2 in the low 4 bits.
        u32 colm = 0;
#pragma unroll
        for (u32 k = 0; k < 16; k++)
            if ((k & 3u) <= cw && cw <= (k >> 2)) colm |= 1u << k;
        u32 r0 = 2 * (lane & 3u), r1 = lane >> 2;
        bool ok0 = r0 <= rw && rw <= r1, ok1 = r0 + 1 <= rw && rw <= r1;
        s_lut[w][lane] = (ok0 ? colm : 0u) | (ok1 ? colm << 16 : 0u);
    } else {
        u32 lo = __ballot_sync(0xffffffffu, Code<BIN>::has(lane, cw, rw));
        u32 hi = __ballot_sync(0xffffffffu, Code<BIN>::has(lane + 32, cw, rw));
        if (lane < 2) s_lut[w][lane] = lane ? hi : lo;
    }
    __syncwarp();
    const u32* lut = s_lut[w];
    const u32 NONE = Code<BIN>::make(BIN / 8 - 1, 0, 0, 0) << Code<BIN>::GBITS;
    // Software pipeline: while batch b blends from shared memory, the gaussians of batch b + 32
    // (their pair words already in registers) and the pair words of batch b + 64 are in flight.
    u32 k0 = s + lane;
    u32 p = k0 < e ? pairs[k0] : NONE;
    u32 p_next = k0 + 32 < e ? pairs[k0 + 32] : NONE;
    bool use = Code<BIN>::in_lut(lut, p);
    u32 live = __ballot_sync(0xffffffffu, use);
    float4 ga = make_float4(0.f, 0.f, 0.f, 0.f), gb = ga, gc = ga;
    if (use) {
        u64 idx = seg + (p & GMASK);
        ga = brec[2 * idx];
        gb = brec[2 * idx + 1];
        gc = crec[idx];
    }
    for (u32 b = s; b < e; b += 32) {
        if (__all_sync(0xffffffffu, done)) break;
        if (use) {
            u32 slot = __popc(live & lt);
            sg[slot].a = ga;
            sg[slot].q = gb;
            sg[slot].c = gc;
        }
        __syncwarp();
        u32 nl = __popc(live);
        u32 kn = b + 32 + lane;
        use = Code<BIN>::in_lut(lut, p_next);
        live = __ballot_sync(0xffffffffu, use);
        if (use) {
            u64 idx = seg + (p_next & GMASK);
            ga = brec[2 * idx];
            gb = brec[2 * idx + 1];
            gc = crec[idx];
        }
        p_next = kn + 32 < e ? pairs[kn + 32] : NONE;
        for (u32 j = 0; j < nl && !done; j++) {
            float4 a = sg[j].a;
            float4 q = sg[j].q;
            float dx = a.x - fx, dy = a.y - fy;
            float power = -0.5f * (q.x * dx * dx + q.z * dy * dy) - q.y * dx * dy;
            if (power > 0.0f) continue;
            float alpha = fminf(ALPHA_MAX, a.z * exp_blend(power));
            if (alpha < ALPHA_MIN) continue;
            float next = T * (1.0f - alpha);
            if (next < T_MIN) {
                done = true;
                break;
            }
            float4 col = sg[j].c;
            float wgt = alpha * T;
            cr += col.x * wgt;
            cg += col.y * wgt;
            cb += col.z * wgt;
            T = next;
        }
        __syncwarp();
    }
    // (Recomputed after the loop: kept across it, they cost spills at 40 registers.)
    {
        u32 tx2 = t % vp.tiles_x, ty2 = t / vp.tiles_x;
        px = tx2 * TILE + (w & 1) * 8 + (lane & 7);
        py = ty2 * TILE + (w >> 1) * 4 + (lane >> 3);
        inside = px < vp.width && py < vp.height;
        bin = (ty2 >> shift) * bins_x_of(vp, shift) + (tx2 >> shift);
        cw = (tx2 & shift) * 2 + (w & 1);
        rw = (ty2 & shift) * 4 + (w >> 1);
    }
    if constexpr (MODE == 1) {
        if (!__all_sync(0xffffffffu, done)) {
            bool touch = __any_sync(0xffffffffu, inside && T < 1.0f);
            if (lane == 0) {
                atomicOr(&unsat[vp.tile_offset + bin], my_bit());
                if (touch) atomicOr(&touched[vp.tile_offset + bin], my_bit());
            }
            if (touch && inside) state[pix()] = make_float4(cr, cg, cb, done ? -T : T);
            return;
        }
    }
    if (inside) out[pix()] = to_rgba8(vp, cr, cg, cb, T);
}

#define RASTER_KERNEL(NAME, BIN, MODE)                                                           \
    extern "C" __global__ void __launch_bounds__(TILE * TILE, MODE ? RASTER_MINB - 1 : RASTER_MINB) \
        NAME(u32 n, const ViewParams* __restrict__ views, const u32* __restrict__ starts,        \
             const u32* __restrict__ pairs, u32 capacity, const float4* __restrict__ brec,       \
             const float4* __restrict__ crec, uchar4* __restrict__ out, u32* __restrict__ unsat, \
             u32* __restrict__ touched, float4* __restrict__ state) {                            \
        raster_tile<BIN, MODE>(blockIdx.x, n, views, starts, pairs, capacity, brec, crec, out,   \
                               unsat, touched, state);                                           \
    }
RASTER_KERNEL(raster, 16, 0)
RASTER_KERNEL(raster32, 32, 0)
RASTER_KERNEL(raster_a, 16, 1)
RASTER_KERNEL(raster32_a, 32, 1)
RASTER_KERNEL(raster_b, 16, 2)
RASTER_KERNEL(raster32_b, 32, 2)
