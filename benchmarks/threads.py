"""``--threads N``: the thread count of NumPy's BLAS, torch and XLA, which must be set before they are imported."""

from __future__ import annotations

import os


def from_argv(argv):
    """The value of ``--threads`` in ``argv``, or None."""
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--threads="):
            return a.partition("=")[2]
    return None


def apply(threads):
    """Set the environment that makes each library use ``threads`` threads (None: leave it)."""
    if not threads:
        return
    for key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[key] = threads
    if threads == "1":
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                                   + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()
