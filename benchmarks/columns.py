"""The columns of the suite's table: one function per column fills the rows of one entry at one size."""

from __future__ import annotations

import dataclasses
import gc
import time
import warnings

import numpy as np

from data import describe, make_arrays
from memory import column_memory
from peers import jax_peer, log_softmax, torch_peer
from table import INPUT_GRAD, PASSES, ours_fn
from timing import timed
from torch_calls import sides, torch_call, torch_loss, torch_sides, torch_sync, torch_tensors


def short(e):
    text = f"{type(e).__name__}: {e}".strip().splitlines()
    return (text[0] if text else type(e).__name__)[:160]


def difference(ours, peer):
    """|ours - peer| / |peer|: the peers compute the same loss (a check of the formulas, not a conformance test)."""
    return abs(ours - peer) / max(abs(peer), 1e-30)


# --- torch ------------------------------------------------------------------------------------

def column_torch(bench, arrays, size, device, results):
    import torch

    tensors, sync = torch_tensors(bench, arrays, device), torch_sync(device)
    for backward, pass_ in zip((False, True), PASSES):
        with torch.set_grad_enabled(backward):
            t = timed(torch_sides(bench, tensors, backward, sync), size)
        results[pass_].update({"torch ours ms": t["ours"] * 1e3, "torch peer ms": t["peer"] * 1e3,
                               "torch": t["ours"] / t["peer"]})
    with torch.no_grad():
        values = [float(torch_loss(fn, bench)(*tensors)) for _, fn in sides(bench)]
    results["forward"]["torch difference"] = difference(*values)
    if INPUT_GRAD in results:  # the target (and other arrays) as data, not parameters: only the input's gradient
        input_only = dataclasses.replace(bench, grads=bench.grads[:1])
        tensors = torch_tensors(input_only, arrays, device)
        t = timed(torch_sides(input_only, tensors, True, sync), size)
        results[INPUT_GRAD].update({"torch ours ms": t["ours"] * 1e3, "torch peer ms": t["peer"] * 1e3,
                                    "torch": t["ours"] / t["peer"]})


def column_compile(bench, arrays, size, device, results):
    import torch

    if size in bench.no_compile:
        for pass_ in PASSES:
            results[pass_]["compile mode"] = "not measured: " + bench.no_compile[size]
        return
    tensors, sync = torch_tensors(bench, arrays, device), torch_sync(device)
    for backward, pass_ in zip((False, True), PASSES):
        with torch.set_grad_enabled(backward), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fns, compile_s, failures = {}, {}, {}
            for fullgraph in (True, False):
                torch._dynamo.reset()
                fns, compile_s = {}, {}
                for side, fn in sides(bench):
                    call = torch_call(torch.compile(torch_loss(fn, bench), fullgraph=fullgraph), tensors, bench,
                                      backward, sync)
                    start = time.perf_counter()
                    try:
                        call()
                    except Exception as e:  # recorded, then the default mode
                        if not fullgraph:
                            raise
                        failures[side] = short(e)
                        continue
                    compile_s[side], fns[side] = time.perf_counter() - start, call
                if not failures:
                    break
            mode = "fullgraph" if not failures else "default (fullgraph failed: " + "; ".join(
                f"{k}: {v}" for k, v in failures.items()) + ")"
            if failures:
                print(f"    torch.compile {bench.name} {size} {pass_}: {mode}", flush=True)
            fns["peer eager"] = torch_call(torch_loss(torch_peer(bench), bench), tensors, bench, backward, sync)
            t = timed(fns, size)
        torch._dynamo.reset()
        results[pass_].update({
            "compiled ours ms": t["ours"] * 1e3, "compiled peer ms": t["peer"] * 1e3,
            "peer eager ms (compile run)": t["peer eager"] * 1e3, "compile": t["ours"] / t["peer"],
            "compiled/eager": t["ours"] / t["peer eager"], "compile mode": mode,
            "compile s ours": compile_s["ours"], "compile s peer": compile_s["peer"]})


# --- JAX ----------------------------------------------------------------------------------------

def jax_programs(bench, arrays, device, passes=PASSES):
    """{pass: {side: (compiled program, its arguments)}} for each of ``passes``: ours and the jax peer under
    ``jax.jit``, forward and ``value_and_grad`` with respect to the arrays the entry differentiates; and the peer's
    label."""
    import jax
    import jax.numpy as jnp

    try:
        import optax
    except ImportError:  # the jnp formulas stand in
        optax = None
    dev = jax.devices("gpu" if device == "cuda" else "cpu")[0]

    def put(a):
        return jax.device_put(a.astype(np.int32) if a.dtype == np.int64 else a, dev)

    args = tuple(put(a) for a in arrays.values())
    through, fn = bench.index(bench.through), ours_fn(bench)

    def ours(*a):
        return fn(*[jax.nn.log_softmax(x, axis=-1) if i in through else x for i, x in enumerate(a)], **bench.options)

    argnums = bench.index(bench.grads)
    if callable(bench.optax):
        label, peer, peer_args, peer_argnums = bench.optax(jax, jnp, optax, arrays, put)
    else:
        label, peer = jax_peer(bench, jax, jnp, optax, through)
        peer_args, peer_argnums = args, argnums
    programs = {}
    for pass_ in passes:
        backward, programs[pass_] = pass_ != "forward", {}
        for side, loss, a, nums in (("ours", ours, args, argnums), ("peer", peer, peer_args, peer_argnums)):
            traced = jax.value_and_grad(loss, argnums=nums) if backward else loss
            programs[pass_][side] = (jax.jit(traced).lower(*a).compile(), a)
    return programs, label


def jax_calls(programs):
    """{side: a call of its compiled program that blocks until the result is ready}."""
    import jax

    return {side: (lambda c=c, a=a: jax.block_until_ready(c(*a))) for side, (c, a) in programs.items()}


def column_jax(bench, arrays, size, device, results):
    programs, label = jax_programs(bench, arrays, device)
    for pass_ in PASSES:
        fns = jax_calls(programs[pass_])
        t = timed(fns, size)
        if pass_ == "forward":
            results[pass_]["jax difference"] = difference(*(float(fns[k]()) for k in ("ours", "peer")))
        results[pass_].update({"jax peer": label, "jax ours ms": t["ours"] * 1e3, "jax peer ms": t["peer"] * 1e3,
                               "jax": t["ours"] / t["peer"]})


# --- NumPy (CuPy on CUDA) -----------------------------------------------------------------------

def column_numpy(bench, arrays, size, device, results):
    if device == "cuda":
        import cupy as xp

        sync = xp.cuda.Device().synchronize
        label = "cupy"
    else:
        xp, sync, label = np, (lambda: None), "numpy"
    a = [xp.asarray(log_softmax(np, v, -1) if n in bench.through else v) for n, v in arrays.items()]
    fn = ours_fn(bench)

    def ours():
        fn(*a, **bench.options)
        sync()

    def peer():
        bench.formula(xp, *a)
        sync()

    with np.errstate(all="ignore"):
        t = timed({"ours": ours, "peer": peer}, size)
        values = float(fn(*a, **bench.options)), float(bench.formula(xp, *a))
    results["forward"].update({f"{label} ours ms": t["ours"] * 1e3, f"{label} formula ms": t["peer"] * 1e3,
                               "numpy": t["ours"] / t["peer"], "numpy difference": difference(*values)})


COLUMN_FUNCTIONS = {"torch": column_torch, "compile": column_compile, "jax": column_jax, "numpy": column_numpy,
                    "memory": column_memory}


def run_entry(bench, size, device, columns, log=print):
    """The rows (forward, forward+backward, and on torch forward+backward with the input's gradient alone where
    the entry differentiates several arrays) of one entry at one size, none where the entry has no shapes at
    that size; a column that fails records its error."""
    if size not in bench.shapes:
        return []
    arrays = make_arrays(bench, size)
    passes = PASSES + ((INPUT_GRAD,) if "torch" in columns and len(bench.grads) > 1 else ())
    results = {p: {"loss": bench.name, "size": size, "pass": p, "shapes": describe(arrays)} for p in passes}
    for column in columns:
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():  # torch's, JAX's int64 truncation: not the subject here
                warnings.simplefilter("ignore")
                COLUMN_FUNCTIONS[column](bench, arrays, size, device, results)
        except Exception as e:  # noqa: BLE001 - one failing column does not end the run
            for row in results.values():
                row.setdefault("errors", []).append(f"{column}: {short(e)}")
            log(f"    {column} failed: {short(e)}")
        gc.collect()
        for row in results.values():
            row[f"{column} s"] = time.perf_counter() - start
    return [results[p] for p in passes]
