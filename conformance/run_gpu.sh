#!/usr/bin/env bash
# The GPU conformance run: torch on CUDA, JAX on the GPU and CuPy, every case and dtype.
#
#   bash conformance/run_gpu.sh OUTDIR [REFERENCE]
#
# Made for a GPU machine whose torch is not 2.13 (and may lack 2.13's options): the exact
# answers come from REFERENCE, written where torch 2.13 runs with
#   python -m conformance --save-reference REFERENCE
# Without REFERENCE the machine's own torch computes them.  Writes OUTDIR/gpu-{torch-cupy,jax}.{json,md}
# and OUTDIR/gpu-*.log; exits non-zero if any case failed.
set -u
out=${1:?usage: run_gpu.sh OUTDIR [REFERENCE]}
ref=${2:+--reference $2}
mkdir -p "$out"
export XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1  # several processes share the GPU
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$out/gpu.txt" 2>&1
# two runs side by side: torch + CuPy (fast) and JAX (one jit compile per case)
python3 -m conformance --backend torch,cupy --device cuda $ref --jobs "${TORCH_JOBS:-4}" \
    --json "$out/gpu-torch-cupy.json" --markdown "$out/gpu-torch-cupy.md" > "$out/gpu-torch-cupy.log" 2>&1 &
python3 -m conformance --backend jax --device cuda $ref --jobs "${JAX_JOBS:-10}" \
    --json "$out/gpu-jax.json" --markdown "$out/gpu-jax.md" > "$out/gpu-jax.log" 2>&1 &
status=0
for job in $(jobs -p); do wait "$job" || status=1; done
tail -n 40 "$out"/gpu-*.log
exit $status
