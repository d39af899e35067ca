"""The per-dtype tolerances of the conformance suite, in this one place.

An element passes when ``|ours - ref| <= max(rtol * |ref|, atol)``.  The error
reported is ``|ours - ref| / max(|ref|, atol / rtol)``: a relative error, with
references smaller than ``atol / rtol`` measured absolutely.  A case passes when
its worst error is at most ``rtol``.  NaN must meet NaN, and infinities must
be equal.
"""

TOLERANCES = {
    # dtype: (rtol, atol)
    "float64": (1e-10, 1e-13),
    "float32": (2e-5, 3e-7),
    "float16": (5e-3, 1e-4),
    "bfloat16": (4e-2, 1e-3),
}
