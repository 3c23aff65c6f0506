#!/usr/bin/env bash
# CUDA splat renderer benchmark against gsplat 1.5.3, on a machine with an NVIDIA GPU, PyTorch
# and no cargo (the device machine). Prepare on the build machine:
#
#   CARGO_TARGET_DIR=/work/cuda-target cargo bench -p sn17-gpu --bench cuda --no-run
#   mkdir -p .devbin && cp /work/cuda-target/release/deps/cuda-<hash> .devbin/cuda-bench
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#       --implementation cp --platform manylinux_2_17_x86_64 -d .whl gsplat==1.5.3
#
# then run there (carry .devbin and .whl): scripts/bench_cuda.sh [N:V:SIZE ...]
# Prints sn17's per-stage table, the kernel resource report, then one comparison table.
# gsplat JIT-compiles its CUDA extension on first use (about a minute); set
# TORCH_EXTENSIONS_DIR to a kept folder to reuse it.
#
# End to end (PLY files on disk -> PNG files): with SN17_E2E=path/to/sn17 (a release build of
# the binary) it first writes SN17_E2E_ASSETS (128) PLY files of SN17_E2E_GAUSSIANS (100k)
# gaussians each and times `sn17 render DIR --rig splat-era --backend cuda` (16 views at 518²),
# with --batch 8 (twice: cold, then warm page cache) and --batch 1.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${SN17_CUDA_BENCH:-.devbin/cuda-bench}
DIR=${SN17_BENCH_DIR:-/tmp/sn17-bench}
RUNS=${SN17_BENCH_RUNS:-20}
if [ -n "${SN17_E2E:-}" ]; then
    PLYS=${SN17_E2E_DIR:-/tmp/sn17-e2e}
    rm -rf "$PLYS" && "$BIN" --write-plys "$PLYS/in" "${SN17_E2E_ASSETS:-128}" \
        "${SN17_E2E_GAUSSIANS:-100000}"
    for b in 8 8 1; do
        rm -rf "$PLYS/out"
        s=$(date +%s.%N)
        "$SN17_E2E" render "$PLYS/in" --out "$PLYS/out" --rig splat-era --backend cuda \
            --batch "$b" --json > "$PLYS/out.json"
        e=$(date +%s.%N)
        echo "sn17 render --batch $b: $(awk "BEGIN {printf \"%.2f\", $e - $s}") s wall," \
            "$(find "$PLYS/out" -name 'view_*.png' | wc -l) view PNGs," \
            "$(find "$PLYS/out" -name grid.png | wc -l) grids"
    done
fi
if ! python3 -c 'import gsplat' 2>/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/gsplat-*.whl
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0} MAX_JOBS=${MAX_JOBS:-16}
rm -rf "$DIR"
"$BIN" --runs "$RUNS" --dump "$DIR" "$@"
python3 scripts/bench_gsplat.py "$DIR" --runs "$RUNS"
