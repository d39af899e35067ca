#!/usr/bin/env bash
# Every GPU check of the project in one time-boxed call, for a lent GPU machine whose lease is short:
#
#   bash benchmarks/gpu_session.sh OUTDIR REFERENCE [SECONDS]
#
# 1. conformance of every loss on torch CUDA and CuPy, then the CUDA device tests
#    (tests/test_transforms.py -k "cupy or device"), beside the JAX-on-GPU conformance in chunks
#    (ctc_loss first: its reverse mode is hand-written on JAX);
# 2. the benchmark suite with --device cuda (torch, jax, numpy = CuPy, memory columns), alone on the machine;
# 3. the JAX chunks not done yet, until SECONDS (default 540) have passed since the start.
# REFERENCE holds the exact answers, written where torch 2.13 runs:  python -m conformance --save-reference REF
# Every step runs under `timeout`, so OUTDIR/gpu.tar.gz (all reports and logs) is written whatever happens.
set -u
out=${1:?usage: gpu_session.sh OUTDIR REFERENCE [SECONDS]}
ref=${2:?usage: gpu_session.sh OUTDIR REFERENCE [SECONDS]}
end=$(( $(date +%s) + ${3:-540} ))
res=$(mktemp -d)
export XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1  # several processes share the GPU
left() { echo $(( $1 - $(date +%s) )); }
pack() { tar czf "$out/gpu.tar.gz" -C "$res" . ; }

chunks=("ctc_loss"
        "cross_entropy,nll_loss,linear_cross_entropy,multi_margin_loss,multilabel_margin_loss"
        "l1_loss,mse_loss,huber_loss,smooth_l1_loss,binary_cross_entropy,binary_cross_entropy_with_logits,kl_div"
        "multilabel_soft_margin_loss,soft_margin_loss,poisson_nll_loss,gaussian_nll_loss,margin_ranking_loss"
        "hinge_embedding_loss,cosine_embedding_loss,triplet_margin_loss,triplet_margin_with_distance_loss,pairwise_distance")
jax_chunks() {  # the chunks without a report yet, each under the time left before $1
    local i
    for i in "${!chunks[@]}"; do
        [ -e "$res/jax-$i.json" ] && continue
        [ "$(left "$1")" -gt 20 ] || return
        timeout "$(left "$1")" python3 -m conformance --backend jax --device cuda --reference "$ref" \
            --loss "${chunks[$i]}" --jobs "${JAX_JOBS:-12}" --json "$res/jax-$i.json" \
            --markdown "$res/jax-$i.md" >> "$res/jax.log" 2>&1
        echo "jax chunk $i (${chunks[$i]}): exit $? at $(date +%T)" | tee -a "$res/steps.log"
    done
}

{ nvidia-smi; python3 -c "import torch, jax, cupy; print(torch.__version__, torch.cuda.get_device_name(),
  jax.__version__, jax.devices(), cupy.__version__)"; } > "$res/machine.txt" 2>&1
echo "start $(date +%T)" > "$res/steps.log"

# 1. correctness, side by side
phase1=$(( $(date +%s) + 170 ))
( timeout $(( $(left "$phase1") - 60 )) python3 -m conformance --backend torch,cupy --device cuda \
      --reference "$ref" --jobs 4 --json "$res/torch-cupy.json" --markdown "$res/torch-cupy.md" \
      > "$res/torch-cupy.log" 2>&1
  echo "torch,cupy conformance: exit $? at $(date +%T)" >> "$res/steps.log"
  timeout "$(left "$phase1")" python3 -m pytest -q -p no:cacheprovider tests/test_transforms.py \
      -k "cupy or device" > "$res/device-tests.log" 2>&1
  echo "device tests: exit $? at $(date +%T)" >> "$res/steps.log" ) &
jax_chunks "$phase1"
wait
pack

# 2. speed, alone
rm -f benchmarks/results/suite-cuda.*  # a copy of the tree: only what this run writes comes back
t=$(( $(left "$end") - 60 )); [ "$t" -gt 280 ] && t=280; [ "$t" -lt 1 ] && t=1
timeout "$t" python3 benchmarks/suite.py --device cuda --only torch,jax,numpy,memory > "$res/suite.log" 2>&1
echo "suite: exit $? at $(date +%T)" >> "$res/steps.log"
cp benchmarks/results/suite-cuda.* "$res/" 2>/dev/null
pack

# 3. the rest of the JAX conformance
jax_chunks "$end"
pack
cat "$res/steps.log"; tail -n 3 "$res"/*.log; grep -h "passed\|failed" "$res"/jax.log | tail -n 8
