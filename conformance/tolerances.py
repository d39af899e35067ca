"""The per-dtype tolerances of the conformance suite, in this one place.

An element passes when ``|ours - ref| <= max(rtol * |ref|, atol)``.  The error
reported is ``|ours - ref| / max(|ref|, atol / rtol)``: a relative error, with
references smaller than ``atol / rtol`` measured absolutely.  A case passes when
its worst error is at most ``rtol``.  NaN must meet NaN, and infinities must
be equal.

Losses whose outputs come out of a matrix product (linear_cross_entropy:
``input @ linear_weight.T``, then its gradients ``d_logits @ linear_weight``
and ``d_logits.T @ input``) are compared *normwise*: each element's error is
taken relative to the largest ``|ref|`` of its array.  An element of such a
product is a sum of terms; its rounding error scales with those terms, not
with the sum, which may cancel to near 0.  In float16/bfloat16 both torch's
reference path and ours round the logits and their gradient to the dtype
before the product, so elementwise, which of the two lands closer to the exact
answer is chance (torch's own chunked path is farther than its reference path
in 20 of 72 half-precision cases, elementwise).
"""

TOLERANCES = {
    # dtype: (rtol, atol)
    "float64": (1e-10, 1e-13),
    "float32": (2e-5, 3e-7),
    "float16": (5e-3, 1e-4),
    "bfloat16": (4e-2, 1e-3),
}
