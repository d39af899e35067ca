"""The benchmarks' arrays: the conformance catalogue's draws, in float32, at the benches' shapes.

A bench draw is ``(rng, shape, shapes) -> NumPy array``, ``shapes`` holding every array's shape by name (class
indices and lengths follow another array's).  Each entry's arrays come from a seed of its name and size, so a row
is reproducible from its label alone.
"""

from __future__ import annotations

import math
import zlib

import numpy as np

from conformance import catalogue

F32 = np.float32


def _from(source):
    """Records that a draw is the catalogue's ``source`` (tests/test_benchmarks.py checks the benches use them)."""

    def mark(draw):
        draw.catalogue = source
        return draw

    return mark


def _float32(source):
    """The catalogue's ``source`` in float32, the dtype every bench times."""

    @_from(source)
    def draw(rng, shape, shapes):
        return source(rng, shape, F32)

    draw.__name__ = draw.__qualname__ = source.__name__
    draw.dtype = F32
    return draw


normal = _float32(catalogue.normal)
logits = _float32(catalogue.logits)
positive = _float32(catalogue.positive)
unit = _float32(catalogue.unit)
uniform01 = _float32(catalogue.uniform01)
labels01 = _float32(catalogue.labels01)
signs = _float32(catalogue.signs)
counts = _float32(catalogue.counts)
probabilities = _float32(catalogue.probabilities)
log_probabilities = _float32(catalogue.log_probabilities)


def class_indices(of, axis):
    """The catalogue's class indices, below ``shapes[of][axis]``."""

    @_from(catalogue.class_indices)
    def draw(rng, shape, shapes):
        return catalogue.class_indices(shapes[of][axis])(rng, shape)

    return draw


@_from(catalogue.label_lists)
def label_lists(rng, shape, shapes):
    """multilabel_margin_loss targets: class indices ended by -1."""
    return catalogue.label_lists(rng, shape)


@_from(catalogue.class_indices)
def ctc_targets(rng, shape, shapes):
    """Labels 1..C-1 (0 is the blank), every sequence of full length S."""
    return 1 + catalogue.class_indices(shapes["log_probs"][2] - 1)(rng, shape)


@_from(catalogue.normal)
def scaled_normal(rng, shape, shapes):
    """A linear layer's weight: logits of unit scale."""
    return normal(rng, shape, shapes) / F32(math.sqrt(shape[-1]))


def full_length(of, axis):
    """Lengths equal to ``shapes[of][axis]``: no randomness, so not the catalogue's (it draws varied lengths)."""

    def draw(rng, shape, shapes):
        return np.full(shape, shapes[of][axis], dtype=np.int64)

    return draw


def seed(bench, size):
    return zlib.crc32(f"{bench.name}/{size}".encode())


def make_arrays(bench, size):
    """The NumPy arrays of one entry at one size, from a seed of its name and size."""
    rng = np.random.default_rng(seed(bench, size))
    shapes = bench.shapes[size]
    return {n: draw(rng, shapes[n], shapes) for n, draw in bench.arrays.items()}


def describe(arrays):
    return ", ".join(f"{n} {tuple(a.shape)}" for n, a in arrays.items())
