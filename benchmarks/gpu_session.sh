#!/usr/bin/env bash
# Every GPU check of the project in one time-boxed call, for a lent GPU machine whose lease is short:
#
#   bash benchmarks/gpu_session.sh OUTDIR REFERENCE [SECONDS]
#
# 1. conformance of every loss on torch CUDA and CuPy, then the CUDA device tests
#    (tests/test_transforms.py -k "cupy or device"), beside the JAX-on-GPU conformance in chunks of about
#    1,000 cases (ctc_loss first: its reverse mode is hand-written on JAX; then the smaller chunks first;
#    on the H200 of 12-04, 2,376 JAX cases took more than 3.2 minutes with 12 workers);
# 2. the benchmark suite with --device cuda (torch, jax, numpy = CuPy, memory columns), alone on the machine;
# 3. the JAX chunks not done yet, until SECONDS (default 540) have passed since the start.
# REFERENCE holds the exact answers, written where torch 2.13 runs:  python -m conformance --save-reference REF
# Settings (environment): PHASE1 seconds of phase 1 (170), TORCH_CONFORMANCE=0 leaves out phase 1's torch/CuPy
# conformance and device tests (the JAX chunks then have every core), SUITE_COLUMNS (torch,jax,numpy,memory;
# "compile" for torch.compile's), SUITE_SIZES (small,large), SUITE_LOSSES (all; else in the order given: a suite
# cut short at its cap has measured the first, and its log holds their rows), SUITE_SECONDS its cap (280), JAX_JOBS (12).
# Every step runs under `timeout`, and OUTDIR/gpu.tar.gz (the reports and logs so far) is rewritten after each
# phase; the suite writes its results only when it completes (a killed suite leaves its log).
set -u
out=${1:?usage: gpu_session.sh OUTDIR REFERENCE [SECONDS]}
ref=${2:?usage: gpu_session.sh OUTDIR REFERENCE [SECONDS]}
end=$(( $(date +%s) + ${3:-540} ))
mkdir -p "$out"
res=$(mktemp -d)
export XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1  # several processes share the GPU
left() { echo $(( $1 - $(date +%s) )); }
upto() {  # seconds left before $1, less $2, at most $3, at least 1 (timeout's 0 would mean no limit)
    local t=$(( $(left "$1") - ${2:-0} )) cap=${3:-100000}
    [ "$t" -gt "$cap" ] && t=$cap; [ "$t" -lt 1 ] && t=1; echo "$t"; }
pack() { tar czf "$out/gpu.tar.gz" -C "$res" . ; }

chunks=("ctc_loss"                                                                # 264 cases
        "multilabel_margin_loss,nll_loss,multi_margin_loss"                     # 624
        "cross_entropy"                                                         # 768
        "smooth_l1_loss"                                                        # 900
        "triplet_margin_loss"                                                   # 936
        "multilabel_soft_margin_loss,soft_margin_loss,poisson_nll_loss,gaussian_nll_loss,margin_ranking_loss"  # 948
        "hinge_embedding_loss,cosine_embedding_loss,triplet_margin_with_distance_loss,pairwise_distance"       # 954
        "linear_cross_entropy"                                                  # 984
        "l1_loss,mse_loss,binary_cross_entropy,binary_cross_entropy_with_logits,kl_div"  # 986
        "huber_loss")                                                           # 1056
jax_chunks() {  # the chunks without a report yet, each under the time left before $1 (at most 5 minutes)
    local i
    for i in "${!chunks[@]}"; do
        [ -e "$res/jax-$i.json" ] && continue
        [ "$(left "$1")" -gt 20 ] || return
        timeout "$(upto "$1" 0 300)" python3 -m conformance --backend jax --device cuda --reference "$ref" \
            --loss "${chunks[$i]}" --jobs "${JAX_JOBS:-12}" --json "$res/jax-$i.json" \
            --markdown "$res/jax-$i.md" >> "$res/jax.log" 2>&1
        echo "jax chunk $i (${chunks[$i]}): exit $? at $(date +%T)" | tee -a "$res/steps.log"
    done
}

{ timeout 60 nvidia-smi; timeout 120 python3 -c "import torch, jax, cupy; print(torch.__version__, torch.cuda.get_device_name(),
  jax.__version__, jax.devices(), cupy.__version__)"; } > "$res/machine.txt" 2>&1
echo "start $(date +%T)" > "$res/steps.log"

# 1. correctness, side by side
phase1=$(( $(date +%s) + ${PHASE1:-170} )); [ "$phase1" -gt "$end" ] && phase1=$end
[ "${TORCH_CONFORMANCE:-1}" = 0 ] || ( timeout "$(upto "$phase1" 60)" python3 -m conformance --backend torch,cupy --device cuda \
      --reference "$ref" --jobs 4 --json "$res/torch-cupy.json" --markdown "$res/torch-cupy.md" \
      > "$res/torch-cupy.log" 2>&1
  echo "torch,cupy conformance: exit $? at $(date +%T)" >> "$res/steps.log"
  timeout "$(upto "$phase1")" python3 -m pytest -q -p no:cacheprovider tests/test_transforms.py \
      -k "cupy or device" > "$res/device-tests.log" 2>&1
  echo "device tests: exit $? at $(date +%T)" >> "$res/steps.log" ) &
jax_chunks "$phase1"
wait
pack

# 2. speed, alone
name=suite-cuda-session-$$  # a name of this run's own: only what it writes is taken
timeout "$(upto "$end" 60 "${SUITE_SECONDS:-280}")" python3 benchmarks/suite.py --device cuda \
    --only "${SUITE_COLUMNS:-torch,jax,numpy,memory}" --sizes "${SUITE_SIZES:-small,large}" --loss "${SUITE_LOSSES:-}" --name "$name" \
    > "$res/suite.log" 2>&1
echo "suite: exit $? at $(date +%T)" >> "$res/steps.log"
for f in benchmarks/results/"$name".*; do [ -e "$f" ] && mv "$f" "$res/suite-cuda.${f##*.}"; done
pack

# 3. the rest of the JAX conformance
jax_chunks "$end"
pack
cat "$res/steps.log"; tail -n 3 "$res"/*.log; grep -h "passed\|failed" "$res"/jax.log | tail -n 8
