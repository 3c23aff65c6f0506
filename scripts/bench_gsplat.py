#!/usr/bin/env python3
"""Renders the scenes that sn17's CUDA benchmark dumped (gpu/benches/cuda.rs --dump DIR) with
gsplat 1.5.3 and prints one table: N x V at resolution, ms per batch for both, ratio, and the
PSNR of view 0 between the two renderers.

gsplat settings follow docs/rendering.md section 7.7: packed=False, sh_degree=3, classic mode,
white background, near 0.01, eps2d 0.3; time = median of CUDA-event-timed batched calls after a
warm-up. Usage: bench_gsplat.py DIR [--runs K]
"""
import json
import math
import os
import sys

import numpy as np
import torch


def load(d, tag, name, shape):
    a = np.fromfile(os.path.join(d, f"{tag}.{name}"), dtype="<f4")
    return torch.from_numpy(a.reshape(shape)).cuda()


def main():
    d = sys.argv[1]
    runs = 20
    if "--runs" in sys.argv:
        runs = int(sys.argv[sys.argv.index("--runs") + 1])
    import gsplat

    cases = json.load(open(os.path.join(d, "sn17.json")))
    dev = torch.cuda.get_device_name(0)
    rows = []
    for c in cases:
        tag, n, v, size = c["tag"], c["n"], c["views"], c["size"]
        means = load(d, tag, "means", (n, 3))
        quats = load(d, tag, "quats", (n, 4))
        scales = load(d, tag, "scales", (n, 3))
        opac = load(d, tag, "opacities", (n,))
        sh = load(d, tag, "sh", (n, 16, 3))
        viewmats = load(d, tag, "viewmats", (v, 4, 4))
        ks = load(d, tag, "ks", (v, 3, 3))
        bg = torch.ones((v, 3), device="cuda")

        def render():
            colors, _, _ = gsplat.rasterization(
                means, quats, scales, opac, sh, viewmats, ks, size, size,
                near_plane=0.01, eps2d=0.3, sh_degree=3, packed=False,
                backgrounds=bg, rasterize_mode="classic",
            )
            return colors

        img = render()
        torch.cuda.synchronize()
        times = []
        for _ in range(runs):
            a = torch.cuda.Event(enable_timing=True)
            b = torch.cuda.Event(enable_timing=True)
            a.record()
            render()
            b.record()
            torch.cuda.synchronize()
            times.append(a.elapsed_time(b))
        times.sort()
        g_ms = times[len(times) // 2]
        psnr = float("nan")
        p = os.path.join(d, f"{tag}.view0.rgb")
        if os.path.exists(p):
            ours = np.fromfile(p, dtype=np.uint8).reshape(size, size, 3).astype(np.float64)
            theirs = (img[0].clamp(0, 1) * 255 + 0.5).floor().cpu().numpy().astype(np.float64)
            mse = ((ours - theirs) ** 2).mean()
            psnr = math.inf if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)
        rows.append((n, v, size, c["gpu_ms"], c["batch_ms"], g_ms, psnr))
        del means, quats, scales, opac, sh, img
        torch.cuda.empty_cache()

    print(f"\ndevice: {dev}; gsplat {gsplat.__version__}, torch {torch.__version__}")
    print("| N x V @ res | sn17 CUDA ms (GPU) | sn17 ms (batch, RGBA8 in pinned host) | gsplat 1.5.3 ms | gsplat / sn17 (GPU) | PSNR sn17 vs gsplat, view 0 |")
    print("|---|---|---|---|---|---|")
    for n, v, size, ours, batch, g, psnr in rows:
        nn = f"{n // 1000}k" if n < 1_000_000 else f"{n / 1e6:g}M"
        print(f"| {nn} x {v} @ {size}² | {ours:.3f} | {batch:.3f} | {g:.3f} | {g / ours:.2f}x | {psnr:.1f} dB |")


if __name__ == "__main__":
    main()
