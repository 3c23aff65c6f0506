// sn17 CUDA splat rasterizer: the 3DGS forward model of gpu/src/render/splat_math.rs and
// gpu/src/render/cpu/splat.rs, batched over the views of one asset.
//
// Pipeline per batch (all on one stream, no host round trip):
//   prep_gaussians   once per asset: activations, 3D covariance, SH packed per gaussian
//   project          thread per gaussian, loop over views: EWA projection, SH colour, tile rect,
//                    per-view depth range
//   sort_upsweep / scan / sort_downsweep  x4: stable LSD radix sort of 32-bit depth keys,
//                    segmented by view (blocks never straddle views), so each view ends up in
//                    front-to-back order with ties by gaussian index
//   bin_count / tile_totals / scan_tiles / tile_offsets / bin_scatter: stable bucketing of the
//                    depth-sorted lists into per-(view, tile) ranges (no global pair sort),
//                    dropping tiles the gaussian's alpha >= 1/255 ellipse misses
//   raster           block per (view, 16x16 tile), warp per 8x4 pixels: front-to-back blending
//                    with early termination, RGBA8 out
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
#define SORT_ITEMS 16
#define SORT_TILE (SORT_THREADS * SORT_ITEMS)
#define KEY_BITS 24

#define BIN_THREADS 256
#define BIN_WARPS (BIN_THREADS / 32)

#define SCAN_THREADS 256
#define SCAN_ITEMS 8
#define SCAN_TILE (SCAN_THREADS * SCAN_ITEMS)

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
__device__ __forceinline__ float3 eval_sh(const float* c, float x, float y, float z) {
    // c: dc rgb, then coefficient k's rgb at 3 + 3k.
    float r = SH_C0 * c[0], g = SH_C0 * c[1], b = SH_C0 * c[2];
    if (DEG >= 1) {
        float b0 = -SH_C1 * y, b1 = SH_C1 * z, b2 = -SH_C1 * x;
        r = r + b0 * c[3] + b1 * c[6] + b2 * c[9];
        g = g + b0 * c[4] + b1 * c[7] + b2 * c[10];
        b = b + b0 * c[5] + b1 * c[8] + b2 * c[11];
        if (DEG >= 2) {
            float xx = x * x, yy = y * y, zz = z * z, xy = x * y, yz = y * z, xz = x * z;
            float q[5] = {1.0925484f * xy, -1.0925484f * yz, 0.31539157f * (2.0f * zz - xx - yy),
                          -1.0925484f * xz, 0.5462742f * (xx - yy)};
#pragma unroll
            for (int k = 0; k < 5; k++) {
                r += q[k] * c[12 + 3 * k];
                g += q[k] * c[13 + 3 * k];
                b += q[k] * c[14 + 3 * k];
            }
            if (DEG >= 3) {
                float t[7] = {-0.5900436f * y * (3.0f * xx - yy), 2.8906114f * xy * z,
                              -0.4570458f * y * (4.0f * zz - xx - yy),
                              0.37317633f * z * (2.0f * zz - 3.0f * xx - 3.0f * yy),
                              -0.4570458f * x * (4.0f * zz - xx - yy),
                              1.4453057f * z * (xx - yy), -0.5900436f * x * (xx - 3.0f * yy)};
#pragma unroll
                for (int k = 0; k < 7; k++) {
                    r += t[k] * c[27 + 3 * k];
                    g += t[k] * c[28 + 3 * k];
                    b += t[k] * c[29 + 3 * k];
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

// Per (view, gaussian) idx, for visible gaussians:
//   brec[2 idx]     = (mean x, mean y, opacity, tile rect x0 | y0 << 16)
//   brec[2 idx + 1] = (conic a, b, c, tile rect x1 | y1 << 16)   (rect all 0: not drawn)
//   crec[idx]       = (r, g, b, box half-width | half-height << 16 as bfloat16 rounded up)
// Bucketing reads brec (one 32-byte sector), blending brec and crec.
template <int DEG>
__device__ __forceinline__ void project_one(const ViewParams& vp, float3 p, float op, float4 ca,
                                            float2 cb, const float* shc, bool antialiased,
                                            float4* crec, float* depth_out, float4* brec,
                                            u32* depth_bits) {
    const float* r = vp.rot;
    float t0 = r[0] * p.x + r[1] * p.y + r[2] * p.z + vp.trans[0];
    float t1 = r[3] * p.x + r[4] * p.y + r[5] * p.z + vp.trans[1];
    float t2 = r[6] * p.x + r[7] * p.y + r[8] * p.z + vp.trans[2];
    *depth_bits = 0xffffffffu;
    *depth_out = __int_as_float(0x7f800000);
    brec[0] = make_float4(0.f, 0.f, 0.f, 0.f);
    brec[1] = make_float4(0.f, 0.f, 0.f, 0.f);
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
    double cdet = (double)qa * (double)qc - (double)qb * (double)qb;
    float hx = radius, hy = radius;
    if (cdet > 0.0) {
        hx = (float)sqrt((double)r2 * (double)qc / cdet) * 1.001f + 0.05f;
        hy = (float)sqrt((double)r2 * (double)qa / cdet) * 1.001f + 0.05f;
    }
#if defined(SN17_NO_CULL) || defined(SN17_NO_CULL_BOX)
    hx = hy = 3.0e38f;
#endif
    float px = mx - 0.5f, py = my - 0.5f;
    float ftx = (float)vp.tiles_x, fty = (float)vp.tiles_y;
    // The reference's rect (3DGS getRect on the 3 sigma square; Rust's `as u32` after clamp).
    u32 x0 = (u32)fminf(fmaxf((px - radius) / (float)TILE, 0.0f), ftx);
    u32 y0 = (u32)fminf(fmaxf((py - radius) / (float)TILE, 0.0f), fty);
    u32 x1 = (u32)fminf(fmaxf((px + radius + (float)TILE - 1.0f) / (float)TILE, 0.0f), ftx);
    u32 y1 = (u32)fminf(fmaxf((py + radius + (float)TILE - 1.0f) / (float)TILE, 0.0f), fty);
#ifndef SN17_NO_CULL_RECT
    // Narrowed to the tiles holding pixel indices within the ellipse's box [p - h, p + h]. (Not
    // getRect's formula: with a fractional radius its `+ TILE - 1` is not a ceiling.)
    x0 = max(x0, (u32)fminf(fmaxf(floorf((px - hx) / (float)TILE), 0.0f), ftx));
    y0 = max(y0, (u32)fminf(fmaxf(floorf((py - hy) / (float)TILE), 0.0f), fty));
    x1 = min(x1, (u32)fminf(fmaxf(floorf((px + hx) / (float)TILE) + 1.0f, 0.0f), ftx));
    y1 = min(y1, (u32)fminf(fmaxf(floorf((py + hy) / (float)TILE) + 1.0f, 0.0f), fty));
#endif
    if (x0 >= x1 || y0 >= y1) return;

    float3 d = make_float3(p.x - vp.cam[0], p.y - vp.cam[1], p.z - vp.cam[2]);
    float len = sqrtf(d.x * d.x + d.y * d.y + d.z * d.z);
    float3 col = eval_sh<DEG>(shc, d.x / len, d.y / len, d.z / len);

    *crec = make_float4(col.x, col.y, col.z, __uint_as_float(bf16_up(hx) | (bf16_up(hy) << 16)));
    *depth_out = tz;
    *depth_bits = __float_as_uint(tz);
    brec[0] = make_float4(mx, my, opacity, __uint_as_float(x0 | (y0 << 16)));
    brec[1] = make_float4(qa, qb, qc, __uint_as_float(x1 | (y1 << 16)));
}

// Thread per gaussian, loop over views. minmax[2v] / [2v+1]: min / max depth bits of visible
// gaussians in view v (initialised to 0xffffffff / 0 by the host).
template <int DEG>
__device__ void project_impl(u32 n, u32 nviews, const ViewParams* __restrict__ views,
                             const float4* __restrict__ pos_op, const float4* __restrict__ cov_a,
                             const float2* __restrict__ cov_b, const float* __restrict__ sh,
                             u32 sh_stride, u32 antialiased, float4* __restrict__ crec,
                             float* __restrict__ depth, float4* __restrict__ brec,
                             u32* __restrict__ minmax) {
    __shared__ u32 smin[64], smax[64];
    for (u32 v = threadIdx.x; v < nviews; v += blockDim.x) {
        smin[v] = 0xffffffffu;
        smax[v] = 0u;
    }
    __syncthreads();
    u32 i = blockIdx.x * blockDim.x + threadIdx.x;
    bool live = i < n;
    u32 gi = live ? i : 0;
    float4 po = pos_op[gi];
    float4 ca = cov_a[gi];
    float2 cb = cov_b[gi];
    const int NC = (DEG + 1) * (DEG + 1) * 3;
    float shc[NC];
    const float* src = sh + (u64)gi * sh_stride;
#pragma unroll
    for (int k = 0; k < NC; k++) shc[k] = src[k];
    float3 p = make_float3(po.x, po.y, po.z);
    for (u32 v = 0; v < nviews; v++) {
        const ViewParams& vp = views[v];
        u64 idx = (u64)v * n + gi;
        u32 bits = 0xffffffffu;
        if (live) {
            float d;
            project_one<DEG>(vp, p, po.w, ca, cb, shc, antialiased != 0, crec + idx, &d,
                             brec + 2 * idx, &bits);
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
    extern "C" __global__ void __launch_bounds__(256) project_sh##DEG(                           \
        u32 n, u32 nviews, const ViewParams* __restrict__ views,                                 \
        const float4* __restrict__ pos_op, const float4* __restrict__ cov_a,                     \
        const float2* __restrict__ cov_b, const float* __restrict__ sh, u32 sh_stride,           \
        u32 antialiased, float4* __restrict__ crec, float* __restrict__ depth,                    \
        float4* __restrict__ brec, u32* __restrict__ minmax) {                                   \
        project_impl<DEG>(n, nviews, views, pos_op, cov_a, cov_b, sh, sh_stride, antialiased,    \
                          crec, depth, brec, minmax);                                             \
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

// hist[(v * 256 + digit) * nblocks + block]
extern "C" __global__ void __launch_bounds__(SORT_THREADS)
    sort_upsweep(u32 n, u32 pass, const float* __restrict__ depth, const u32* __restrict__ minmax,
                 const u32* __restrict__ keys, u32* __restrict__ hist) {
    __shared__ u32 h[SORT_WARPS][256];
    u32 v = blockIdx.y, b = blockIdx.x, nb = gridDim.x;
    u32 w = threadIdx.x >> 5;
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
    }
}

// offs: the exclusive scan of hist (same layout). Writes keys_out (unless last) and vals_out.
// Elements are ranked stably (warp by warp, 32 at a time in order), staged in shared memory in
// block-local sorted order, then written out so that consecutive threads write consecutive
// addresses of each digit's run.
extern "C" __global__ void __launch_bounds__(SORT_THREADS)
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
    for (u32 k = threadIdx.x; k < SORT_WARPS * 256; k += SORT_THREADS) (&cnt[0][0])[k] = 0;
    __syncthreads();
    u32 vmin = minmax[2 * v], vmax = minmax[2 * v + 1];
    u64 seg = (u64)v * n;
    u32 shift = 8 * pass;
    if (pass == 3 && !needs_top_digit(vmin, vmax)) {
        // Identity: copy this block's values in place order.
        u32 base = b * SORT_TILE;
        u32 count = min((u32)SORT_TILE, n - min(n, base));
        for (u32 i = threadIdx.x; i < count; i += SORT_THREADS)
            vals_out[seg + base + i] = vals_in[seg + base + i];
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
    for (u32 i = threadIdx.x; i < count; i += SORT_THREADS) {
        u32 kk = skey[i];
        u32 dk = (kk >> shift) & 255;
        u32 pos = gbase[dk] + (i - dstart[dk]);
        if (!last) keys_out[pos] = kk;
        vals_out[pos] = sval[i];
    }
}

// ---------------------------------------------------------------------------------------------
// Exclusive scan of u32 (in place), three kernels: block sums, scan of the sums, apply.

extern "C" __global__ void __launch_bounds__(SCAN_THREADS)
    scan_reduce(const u32* __restrict__ data, u32 n, u32* __restrict__ sums) {
    u32 base = blockIdx.x * SCAN_TILE;
    u32 s = 0;
#pragma unroll
    for (u32 k = 0; k < SCAN_ITEMS; k++) {
        u32 i = base + k * SCAN_THREADS + threadIdx.x;
        if (i < n) s += data[i];
    }
    u32 total;
    block_exclusive_scan(s, &total);
    if (threadIdx.x == 0) sums[blockIdx.x] = total;
}

// One block: exclusive scan of sums[0..nb) in place, chunk by chunk with a carry.
extern "C" __global__ void __launch_bounds__(SCAN_THREADS) scan_sums(u32* sums, u32 nb) {
    u32 carry = 0;
    for (u32 base = 0; base < nb; base += SCAN_THREADS) {
        u32 i = base + threadIdx.x;
        u32 x = i < nb ? sums[i] : 0;
        u32 total;
        u32 e = block_exclusive_scan(x, &total);
        if (i < nb) sums[i] = carry + e;
        carry += total;
    }
}

extern "C" __global__ void __launch_bounds__(SCAN_THREADS)
    scan_apply(u32* data, u32 n, const u32* __restrict__ sums) {
    // Each thread scans SCAN_ITEMS consecutive elements.
    u32 base = blockIdx.x * SCAN_TILE + threadIdx.x * SCAN_ITEMS;
    u32 x[SCAN_ITEMS];
    u32 s = 0;
#pragma unroll
    for (u32 k = 0; k < SCAN_ITEMS; k++) {
        u32 i = base + k;
        x[k] = i < n ? data[i] : 0;
        s += x[k];
    }
    u32 total;
    u32 e = block_exclusive_scan(s, &total) + sums[blockIdx.x];
#pragma unroll
    for (u32 k = 0; k < SCAN_ITEMS; k++) {
        u32 i = base + k;
        if (i < n) data[i] = e;
        e += x[k];
    }
}

// ---------------------------------------------------------------------------------------------
// Stable bucketing of each view's depth-sorted list into tiles.
//
// The sorted list of view v is cut into chunks of `chunk` entries, one block each (times tile
// groups of at most `group` tiles, grid z); warp w of a block owns a contiguous slice of its
// chunk. Per (view, tile, chunk) cell, at index C * tile_offset + c * tiles + t:
//   wcounts  uint4 = 8 u16 per-warp pair counts (bin_count)
//   bases    u32 first pair index of the cell (tile_offsets)
// bin_count also stores, per sorted entry, which tiles of its rect the gaussian really touches
// (a bitmask over an 8x8 window; rects larger than that are re-tested by bin_scatter).

// Whether any pixel centre of tile (tx, ty) has q = ca dx^2 + 2 cb dx dy + cc dy^2 <= r2: the
// minimum of the convex q over the box of pixel centres is at the mean (inside) or on an edge.
__device__ __forceinline__ bool tile_hit(float4 m, float4 q, u32 tx, u32 ty) {
    float x0 = (float)(tx * TILE) + 0.5f, x1 = x0 + (float)(TILE - 1);
    float y0 = (float)(ty * TILE) + 0.5f, y1 = y0 + (float)(TILE - 1);
#if defined(SN17_NO_CULL) || defined(SN17_NO_CULL_TILE)
    return true;
#endif
    float ca = q.x, cb = q.y, cc = q.z, r2 = m.w;
    if (m.x >= x0 && m.x <= x1 && m.y >= y0 && m.y <= y1) return true;
    float lox = x0 - m.x, hix = x1 - m.x, loy = y0 - m.y, hiy = y1 - m.y;
    float best = 3.0e38f;
#pragma unroll
    for (int e = 0; e < 2; e++) {
        float dx = e ? hix : lox;
        float dy = fminf(fmaxf(-cb * dx / cc, loy), hiy);
        best = fminf(best, ca * dx * dx + 2.0f * cb * dx * dy + cc * dy * dy);
        float ey = e ? hiy : loy;
        float ex = fminf(fmaxf(-cb * ey / ca, lox), hix);
        best = fminf(best, ca * ex * ex + 2.0f * cb * ex * ey + cc * ey * ey);
    }
    return best <= r2;
}

// Bucketing record of (view, gaussian) idx: m = (mean x, mean y, -, r2), q = conic, tile rect.
// (r2 recomputed from the opacity with the projection's expression.)
__device__ __forceinline__ void load_brec(const float4* __restrict__ brec, u64 idx, float4& m,
                                          float4& q, u32& x0, u32& y0, u32& x1, u32& y1) {
    float4 a = brec[2 * idx], b = brec[2 * idx + 1];
    m = make_float4(a.x, a.y, 0.0f, r2_of(a.z));
    q = make_float4(b.x, b.y, b.z, 0.0f);
    u32 lo = __float_as_uint(a.w), hi = __float_as_uint(b.w);
    x0 = lo & 0xffffu;
    y0 = lo >> 16;
    x1 = hi & 0xffffu;
    y1 = hi >> 16;
}

__device__ __forceinline__ void rect_of(uint2 r, u32& x0, u32& y0, u32& x1, u32& y1) {
    x0 = r.x & 0xffffu;
    y0 = r.x >> 16;
    x1 = r.y & 0xffffu;
    y1 = r.y >> 16;
}

#define BIN_WINDOW 8

__device__ __forceinline__ bool small_rect(u32 x0, u32 y0, u32 x1, u32 y1) {
#ifdef SN17_NO_SMALL
    return false;
#endif
    return x1 - x0 <= BIN_WINDOW && y1 - y0 <= BIN_WINDOW;
}

__device__ __forceinline__ void add_u16(u16* base, u32 l) {
    // u16 counters packed two to a word (a warp's counts stay below 2^16).
    atomicAdd((u32*)(base + (l & ~1u)), 1u << (16 * (l & 1u)));
}

// Shared memory: wc[BIN_WARPS][group] u16.
extern "C" __global__ void __launch_bounds__(BIN_THREADS)
    bin_count(u32 n, u32 chunk, u32 nchunks, u32 group, const ViewParams* __restrict__ views,
              const u32* __restrict__ sorted, const float4* __restrict__ brec,
              uint4* __restrict__ hits,
              uint4* __restrict__ wcounts) {
    extern __shared__ u32 smem[];
    u16* wc = (u16*)smem;
    u32 c = blockIdx.x, v = blockIdx.y;
    const ViewParams& vp = views[v];
    u32 ntiles = vp.tiles_x * vp.tiles_y;
    u32 g0 = blockIdx.z * group;
    if (g0 >= ntiles) return;
    u32 g1 = min(ntiles, g0 + group);
    u32 ng = g1 - g0;
    for (u32 k = threadIdx.x; k < BIN_WARPS * group / 2; k += BIN_THREADS) smem[k] = 0;
    __syncthreads();
    u64 seg = (u64)v * n;
    u32 w = threadIdx.x >> 5, lane = lane_id();
    u32 cbeg = c * chunk, cend = min(n, cbeg + chunk);
    u32 per_warp = (chunk + BIN_WARPS - 1) / BIN_WARPS;
    u32 wbeg = min(cend, cbeg + w * per_warp), wend = min(cend, wbeg + per_warp);
    u16* mine = wc + w * group;
    bool store = blockIdx.z == 0;
    for (u32 i = wbeg + lane; i < wend; i += 32) {
        u32 g = sorted[seg + i];
        u32 x0, y0, x1, y1;
        float4 m, q;
        load_brec(brec, seg + g, m, q, x0, y0, x1, y1);
        unsigned long long bits = 0;
        if (x0 < x1) {
            bool small = small_rect(x0, y0, x1, y1);
            for (u32 ty = y0; ty < y1; ty++)
                for (u32 tx = x0; tx < x1; tx++) {
                    u32 t = ty * vp.tiles_x + tx;
                    bool in_group = t >= g0 && t < g1;
                    if ((small || in_group) && tile_hit(m, q, tx, ty)) {
                        if (small) bits |= 1ull << ((ty - y0) * BIN_WINDOW + (tx - x0));
                        if (in_group) add_u16(mine, t - g0);
                    }
                }
        }
        // Per sorted entry: the hit bits and the rect, read sequentially by bin_scatter.
        if (store)
            hits[seg + i] = make_uint4((u32)bits, (u32)(bits >> 32), x0 | (y0 << 16),
                                       x1 | (y1 << 16));
    }
    __syncthreads();
    uint4* out = wcounts + (u64)nchunks * vp.tile_offset + (u64)c * ntiles;
    for (u32 l = threadIdx.x; l < ng; l += BIN_THREADS) {
        u32 x[BIN_WARPS];
#pragma unroll
        for (u32 k = 0; k < BIN_WARPS; k++) x[k] = wc[k * group + l];
        out[g0 + l] = make_uint4(x[0] | (x[1] << 16), x[2] | (x[3] << 16), x[4] | (x[5] << 16),
                                 x[6] | (x[7] << 16));
    }
}

__device__ __forceinline__ u32 sum_u16x8(uint4 a) {
    return (a.x & 0xffffu) + (a.x >> 16) + (a.y & 0xffffu) + (a.y >> 16) + (a.z & 0xffffu) +
           (a.z >> 16) + (a.w & 0xffffu) + (a.w >> 16);
}

// totals[tile_offset + t] = pairs of (view, tile) over all chunks (grid: x over tiles, y = view).
extern "C" __global__ void tile_totals(u32 nchunks, const ViewParams* __restrict__ views,
                                       const uint4* __restrict__ wcounts,
                                       u32* __restrict__ totals) {
    u32 v = blockIdx.y;
    const ViewParams& vp = views[v];
    u32 ntiles = vp.tiles_x * vp.tiles_y;
    u32 t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= ntiles) return;
    const uint4* col = wcounts + (u64)nchunks * vp.tile_offset + t;
    u32 s = 0;
#pragma unroll 8
    for (u32 c = 0; c < nchunks; c++) s += sum_u16x8(col[(u64)c * ntiles]);
    totals[vp.tile_offset + t] = s;
}

// One block: starts[i] = sum of totals[0..i) for i in 0..=m, in 64 bits; status[0] = total pairs.
extern "C" __global__ void __launch_bounds__(1024)
    scan_tiles(const u32* __restrict__ totals, u32 m, u32* __restrict__ starts,
               u64* __restrict__ status) {
    __shared__ u64 part[1024];
    u32 per = (m + 1023) / 1024;
    u32 lo = min(m, threadIdx.x * per), hi = min(m, lo + per);
    u64 s = 0;
    for (u32 i = lo; i < hi; i++) s += totals[i];
    part[threadIdx.x] = s;
    __syncthreads();
    if (threadIdx.x == 0) {
        u64 run = 0;
        for (u32 k = 0; k < 1024; k++) {
            u64 x = part[k];
            part[k] = run;
            run += x;
        }
        starts[m] = (u32)min(run, (u64)0xffffffffu);
        status[0] = run;
    }
    __syncthreads();
    u64 run = part[threadIdx.x];
    for (u32 i = lo; i < hi; i++) {
        starts[i] = (u32)min(run, (u64)0xffffffffu);
        run += totals[i];
    }
}

// bases[cell] = first pair index of (view, tile, chunk).
extern "C" __global__ void tile_offsets(u32 nchunks, const ViewParams* __restrict__ views,
                                        const u32* __restrict__ starts,
                                        const uint4* __restrict__ wcounts,
                                        u32* __restrict__ bases) {
    u32 v = blockIdx.y;
    const ViewParams& vp = views[v];
    u32 ntiles = vp.tiles_x * vp.tiles_y;
    u32 t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= ntiles) return;
    u64 first = (u64)nchunks * vp.tile_offset + t;
    u32 run = starts[vp.tile_offset + t];
#pragma unroll 8
    for (u32 c = 0; c < nchunks; c++) {
        u64 cell = first + (u64)c * ntiles;
        bases[cell] = run;
        run += sum_u16x8(wcounts[cell]);
    }
}

// Writes pairs[pos] = gaussian index, pos stable in depth order within each (view, tile).
// Shared memory (52 bytes per tile of the group): base[group] u32 (first pair of the tile for
// each warp, after the prefix over warps: per-warp in wcnt), mask[BIN_WARPS][group] u32 (lanes
// of the current step that hit the tile), wcnt[BIN_WARPS][group] u16 (per-warp running counts).
// Each warp walks its entries 32 at a time, one entry per lane; within a step the lanes that hit
// a tile are ranked by lane (= depth order) through the mask, so the result is stable.
extern "C" __global__ void __launch_bounds__(BIN_THREADS)
    bin_scatter(u32 n, u32 chunk, u32 nchunks, u32 group, const ViewParams* __restrict__ views,
                const u32* __restrict__ sorted, const float4* __restrict__ brec,
                const uint4* __restrict__ hits,
                const uint4* __restrict__ wcounts, const u32* __restrict__ bases, u32 capacity,
                u32* __restrict__ pairs) {
    extern __shared__ u32 smem[];
    u32* base = smem;                                      // [group]
    u32* masks = smem + group;                             // [BIN_WARPS][group]
    u16* wcnt = (u16*)(smem + group + BIN_WARPS * group);  // [BIN_WARPS][group]
    u32 c = blockIdx.x, v = blockIdx.y;
    const ViewParams& vp = views[v];
    u32 ntiles = vp.tiles_x * vp.tiles_y;
    u32 g0 = blockIdx.z * group;
    if (g0 >= ntiles) return;
    u32 g1 = min(ntiles, g0 + group);
    u32 ng = g1 - g0;
    u64 cell0 = (u64)nchunks * vp.tile_offset + (u64)c * ntiles + g0;
    for (u32 l = threadIdx.x; l < ng; l += BIN_THREADS) {
        base[l] = bases[cell0 + l];
        uint4 a = wcounts[cell0 + l];
        u32 x[BIN_WARPS] = {a.x & 0xffffu, a.x >> 16, a.y & 0xffffu, a.y >> 16,
                            a.z & 0xffffu, a.z >> 16, a.w & 0xffffu, a.w >> 16};
        u32 run = 0;
#pragma unroll
        for (u32 k = 0; k < BIN_WARPS; k++) {
            wcnt[k * group + l] = (u16)run;
            masks[k * group + l] = 0;
            run += x[k];
        }
    }
    __syncthreads();
    u64 seg = (u64)v * n;
    u32 w = threadIdx.x >> 5, lane = lane_id();
    u32 lt = (1u << lane) - 1;
    u32 cbeg = c * chunk, cend = min(n, cbeg + chunk);
    u32 per_warp = (chunk + BIN_WARPS - 1) / BIN_WARPS;
    u32 wbeg = min(cend, cbeg + w * per_warp), wend = min(cend, wbeg + per_warp);
    u16* mine = wcnt + w * group;
    u32* mask = masks + w * group;
    for (u32 i0 = wbeg; i0 < wend; i0 += 32) {
        u32 i = i0 + lane;
        u32 g = 0, x0 = 0, y0 = 0, x1 = 0, y1 = 0;
        float4 m = make_float4(0.f, 0.f, 0.f, 0.f), q = m;
        unsigned long long bits = 0;
        bool small = true;
        if (i < wend) {
            g = sorted[seg + i];
            uint4 hr = hits[seg + i];
            x0 = hr.z & 0xffffu;
            y0 = hr.z >> 16;
            x1 = hr.w & 0xffffu;
            y1 = hr.w >> 16;
            if (x0 < x1) {
                small = small_rect(x0, y0, x1, y1);
                if (small)
                    bits = (unsigned long long)hr.x | ((unsigned long long)hr.y << 32);
                else
                    load_brec(brec, seg + g, m, q, x0, y0, x1, y1);
            }
        }
// Runs BODY for each tile of this lane's gaussian in the group, with l = tile - g0.
#define FOR_HITS(BODY)                                                                    \
    if (small) {                                                                          \
        for (unsigned long long b = bits; b; b &= b - 1) {                                \
            u32 k = __ffsll((long long)b) - 1;                                            \
            u32 t = (y0 + k / BIN_WINDOW) * vp.tiles_x + x0 + k % BIN_WINDOW;             \
            if (t >= g0 && t < g1) {                                                      \
                u32 l = t - g0;                                                           \
                BODY                                                                      \
            }                                                                             \
        }                                                                                 \
    } else {                                                                              \
        for (u32 ty = y0; ty < y1; ty++)                                                  \
            for (u32 tx = x0; tx < x1; tx++) {                                            \
                u32 t = ty * vp.tiles_x + tx;                                             \
                if (t >= g0 && t < g1 && tile_hit(m, q, tx, ty)) {                        \
                    u32 l = t - g0;                                                       \
                    BODY                                                                  \
                }                                                                         \
            }                                                                             \
    }
        FOR_HITS(atomicOr(&mask[l], 1u << lane);)
        __syncwarp();
        // Ranks; the lowest lane hitting a tile leads it.
        unsigned long long lead = 0;  // small rects: window bits this lane leads
        if (small) {
            for (unsigned long long b = bits; b; b &= b - 1) {
                u32 k = __ffsll((long long)b) - 1;
                u32 t = (y0 + k / BIN_WINDOW) * vp.tiles_x + x0 + k % BIN_WINDOW;
                if (t >= g0 && t < g1) {
                    u32 l = t - g0;
                    u32 mk = mask[l];
                    u32 pos = base[l] + mine[l] + __popc(mk & lt);
                    if (pos < capacity) pairs[pos] = g;
                    if ((mk & lt) == 0) lead |= 1ull << k;
                }
            }
        } else {
            FOR_HITS({
                u32 pos = base[l] + mine[l] + __popc(mask[l] & lt);
                if (pos < capacity) pairs[pos] = g;
            })
        }
        __syncwarp();
        // Leaders advance the counts and clear the masks. (A lane that reads a mask its leader
        // already cleared sees 0, takes itself for the leader and adds 0: harmless.)
        if (small) {
            for (unsigned long long b = lead; b; b &= b - 1) {
                u32 k = __ffsll((long long)b) - 1;
                u32 l = (y0 + k / BIN_WINDOW) * vp.tiles_x + x0 + k % BIN_WINDOW - g0;
                mine[l] = (u16)(mine[l] + __popc(mask[l]));
                mask[l] = 0;
            }
        } else {
            FOR_HITS({
                u32 mk = mask[l];
                if ((mk & lt) == 0) {
                    mine[l] = (u16)(mine[l] + __popc(mk));
                    mask[l] = 0;
                }
            })
        }
        __syncwarp();
#undef FOR_HITS
    }
}

// ---------------------------------------------------------------------------------------------
// Rasterization: block per (view, tile); warp w shades an 8x4 pixel sub-block (2 across, 4
// down). Warps run independently (no block barriers): each walks the tile's list 32 gaussians
// at a time, keeps those whose ellipse bounding box (q <= r2) meets its sub-block, blends them
// front to back, and stops when its 32 pixels are saturated.

extern "C" __global__ void __launch_bounds__(TILE * TILE, 4)
    raster(u32 n, const ViewParams* __restrict__ views, const u32* __restrict__ starts,
           const u32* __restrict__ pairs, u32 capacity, const float4* __restrict__ brec,
           const float4* __restrict__ crec,
           uchar4* __restrict__ out) {
    __shared__ float4 s_a[TILE * TILE / 32][32];  // mean x, mean y, opacity
    __shared__ float4 s_b[TILE * TILE / 32][32];  // conic
    __shared__ float4 s_c[TILE * TILE / 32][32];  // colour
    u32 v = blockIdx.y;
    const ViewParams& vp = views[v];
    u32 ntiles = vp.tiles_x * vp.tiles_y;
    u32 t = blockIdx.x;
    if (t >= ntiles) return;
    u32 tx = t % vp.tiles_x, ty = t / vp.tiles_x;
    u32 w = threadIdx.x >> 5, lane = lane_id();
    u32 sx0 = tx * TILE + (w & 1) * 8, sy0 = ty * TILE + (w >> 1) * 4;
    u32 px = sx0 + (lane & 7), py = sy0 + (lane >> 3);
    // Pixel centres covered by this warp.
    float bx0 = (float)sx0 + 0.5f, bx1 = bx0 + 7.0f, by0 = (float)sy0 + 0.5f, by1 = by0 + 3.0f;
    bool inside = px < vp.width && py < vp.height;
    float fx = (float)px + 0.5f, fy = (float)py + 0.5f;
    u32 s = min(starts[vp.tile_offset + t], capacity);
    u32 e = min(starts[vp.tile_offset + t + 1], capacity);
    u64 seg = (u64)v * n;
    float T = 1.0f, cr = 0.0f, cg = 0.0f, cb = 0.0f;
    bool done = !inside;
    float4* sa = s_a[w];
    float4* sb = s_b[w];
    float4* sc = s_c[w];
    for (u32 b = s; b < e; b += 32) {
        if (__all_sync(0xffffffffu, done)) break;
        u32 k = b + lane;
        bool use = false;
        if (k < e) {
            u64 idx = seg + pairs[k];
            float4 a = brec[2 * idx], q = brec[2 * idx + 1], c = crec[idx];
            u32 hb = __float_as_uint(c.w);
            float hx = __uint_as_float(hb << 16), hy = __uint_as_float(hb & 0xffff0000u);
            use = !(a.x + hx < bx0 || a.x - hx > bx1 || a.y + hy < by0 || a.y - hy > by1);
            if (use) {
                sa[lane] = a;
                sb[lane] = q;
                sc[lane] = c;
            }
        }
        u32 live = __ballot_sync(0xffffffffu, use);
        __syncwarp();
        while (live && !done) {
            u32 j = __ffs(live) - 1;
            live &= live - 1;
            float4 a = sa[j];
            float4 q = sb[j];
            float dx = a.x - fx, dy = a.y - fy;
            float power = -0.5f * (q.x * dx * dx + q.z * dy * dy) - q.y * dx * dy;
            if (power > 0.0f) continue;
            float alpha = fminf(ALPHA_MAX, a.z * __expf(power));
            if (alpha < ALPHA_MIN) continue;
            float next = T * (1.0f - alpha);
            if (next < T_MIN) {
                done = true;
                break;
            }
            float4 col = sc[j];
            float wgt = alpha * T;
            cr += col.x * wgt;
            cg += col.y * wgt;
            cb += col.z * wgt;
            T = next;
        }
        __syncwarp();
    }
    if (inside) {
        float r = cr + T * vp.bg[0], g = cg + T * vp.bg[1], bl = cb + T * vp.bg[2];
        uchar4 o;
        o.x = (unsigned char)(fminf(fmaxf(r, 0.0f), 1.0f) * 255.0f + 0.5f);
        o.y = (unsigned char)(fminf(fmaxf(g, 0.0f), 1.0f) * 255.0f + 0.5f);
        o.z = (unsigned char)(fminf(fmaxf(bl, 0.0f), 1.0f) * 255.0f + 0.5f);
        o.w = 255;
        out[vp.pix_offset + (u64)py * vp.width + px] = o;
    }
}
