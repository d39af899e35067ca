"""ctc_loss against its peers: optax.ctc_loss on JAX (both jitted) and torch.nn.functional.ctc_loss.

    python benchmarks/ctc.py [--device cpu|cuda] [--quick]

Same inputs for both sides: logits (N, T, C), log_softmax taken inside each
timed function; targets padded to S = T / 5, every sequence of full length
(optax's batch-major, padding-mask form is made from the same arrays).  Sums of
the per-sequence losses; forward, and forward + backward (gradient with
respect to the logits).  Also the jit compile time of forward + backward.
Writes benchmarks/results/ctc-<device>.{json,md}.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import agnostic_losses as al

from _common import compare, environment, write

N, C = 16, 32


def inputs(steps):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((N, steps, C)).astype(np.float32)
    width = steps // 5
    targets = rng.integers(1, C, (N, width))
    return logits, targets


def jax_rows(steps, device, repeats):
    import jax
    import jax.numpy as jnp
    import optax

    platform = "gpu" if device == "cuda" else "cpu"
    put = lambda a: jax.device_put(jnp.asarray(a), jax.devices(platform)[0])
    logits, targets = inputs(steps)
    x, t = put(logits), put(targets)
    lengths, label_lengths = put(np.full(N, steps)), put(np.full(N, targets.shape[1]))
    logit_pad, label_pad = put(np.zeros((N, steps), np.float32)), put(np.zeros(targets.shape, np.float32))

    def ours(x):
        lp = jax.nn.log_softmax(jnp.swapaxes(x, 0, 1), axis=-1)
        return al.ctc_loss(lp, t, lengths, label_lengths, reduction="sum")

    def theirs(x):
        return jnp.sum(optax.ctc_loss(x, logit_pad, t, label_pad))

    rows = []
    for mode, make in (("forward", lambda f: f), ("forward+backward", jax.value_and_grad)):
        fns, compile_s = {}, {}
        for name, f in (("ours", ours), ("optax", theirs)):
            start = time.perf_counter()
            compiled = jax.jit(make(f)).lower(x).compile()
            compile_s[name] = time.perf_counter() - start
            fns[name] = lambda c=compiled: jax.block_until_ready(c(x))
        v_ours, v_theirs = (float(np.asarray(jax.tree_util.tree_leaves(fns[k]())[0])) for k in ("ours", "optax"))
        times = compare(fns, repeats)
        rows.append({"backend": f"jax ({device}, jit)", "T": steps, "pass": mode, "ours ms": times["ours"] * 1e3,
                     "peer": "optax", "peer ms": times["optax"] * 1e3, "ratio": times["ours"] / times["optax"],
                     "ours compile s": compile_s["ours"], "peer compile s": compile_s["optax"],
                     "relative difference": abs(v_ours - v_theirs) / abs(v_theirs)})
    return rows


def torch_rows(steps, device, repeats):
    import torch

    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    logits, targets = inputs(steps)
    x = torch.tensor(logits, device=device).transpose(0, 1).contiguous().requires_grad_()
    t = torch.tensor(targets, device=device)
    lengths = torch.full((N,), steps, device=device)
    label_lengths = torch.full((N,), targets.shape[1], device=device)

    def run(fn, backward):
        def call():
            loss = fn(x.log_softmax(-1), t, lengths, label_lengths, reduction="sum")
            if backward:
                loss.backward()
                x.grad = None
            sync()
            return loss

        return call

    rows = []
    for mode, backward in (("forward", False), ("forward+backward", True)):
        with torch.set_grad_enabled(backward):
            fns = {"ours": run(al.ctc_loss, backward), "torch": run(torch.nn.functional.ctc_loss, backward)}
            times = compare(fns, repeats)
            ours_value, torch_value = float(fns["ours"]().detach()), float(fns["torch"]().detach())
            difference = abs(ours_value - torch_value) / abs(torch_value)
        rows.append({"backend": f"torch ({device}, eager)", "T": steps, "pass": mode, "ours ms": times["ours"] * 1e3,
                     "peer": "torch.nn.functional", "peer ms": times["torch"] * 1e3,
                     "ratio": times["ours"] / times["torch"], "relative difference": difference})
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--quick", action="store_true", help="T = 50 only, fewer repeats")
    args = p.parse_args()
    steps_list, repeats = ((50,), 5) if args.quick else ((50, 500), 15)
    rows = []
    for steps in steps_list:
        rows += jax_rows(steps, args.device, repeats)
        rows += torch_rows(steps, args.device, repeats)
    columns = ["backend", "T", "pass", "ours ms", "peer", "peer ms", "ratio", "ours compile s", "peer compile s",
               "relative difference"]
    notes = (f"N = {N} sequences, C = {C} classes, S = T/5 labels, float32; sums of the per-sequence losses; "
             "ratio = ours / peer (medians of interleaved repeats); compile s: jax.jit lower + compile.")
    name = f"ctc-{args.device}" + ("-quick" if args.quick else "")
    print(write(name, environment(args.device), rows, columns, notes))


if __name__ == "__main__":
    main()
