"""Writes src/shift/reference.rs: the figures scipy gives for fixed inputs, which the
unit tests of src/shift/univariate.rs compare against (to 1e-6 or better).

    pip install scipy numpy && python3 tests/reference/shift_reference.py > src/shift/reference.rs
"""
import numpy as np
import scipy
from scipy import special, stats
from scipy.spatial import distance

rng = np.random.default_rng(7)
cases = [
    (np.round(rng.normal(0, 1, 40), 4), np.round(rng.normal(0.6, 1.2, 30), 4)),
    (np.round(rng.integers(0, 6, 25).astype(float), 4), np.round(rng.integers(1, 7, 25).astype(float), 4)),
    (np.round(rng.normal(0, 1, 10), 4), np.round(rng.normal(0, 1, 7), 4)),
    (np.round(rng.exponential(1, 300), 4), np.round(rng.exponential(1.15, 200), 4)),
]
print(f"//! Reference figures computed with scipy {scipy.__version__} by")
print("//! tests/reference/shift_reference.py (numpy default_rng(7) samples, rounded to")
print("//! 4 decimals): `ks_2samp(a, b, method=\"exact\")`, `special.kolmogorov(sqrt(n·m/(n+m))·D)`,")
print("//! `wasserstein_distance(a, b)`, `chi2_contingency(correction=False)` and")
print("//! `spatial.distance.jensenshannon(p, q, base=2)`. Generated; do not edit.\n")
print("type Case = (&'static [f64], &'static [f64], f64, f64, f64, f64);")
print("pub const CASES: &[Case] = &[")
for a, b in cases:
    r = stats.ks_2samp(a, b, method="exact")
    en = len(a) * len(b) / (len(a) + len(b))
    lim = special.kolmogorov(np.sqrt(en) * r.statistic)
    w = stats.wasserstein_distance(a, b)
    fa = ", ".join(repr(float(x)) for x in a)
    fb = ", ".join(repr(float(x)) for x in b)
    print(f"    (&[{fa}], &[{fb}], {float(r.statistic)!r}, {float(r.pvalue)!r}, {float(lim)!r}, {float(w)!r}),")
print("];")
print("pub const KOLMOGOROV: [(f64, f64); 8] = [")
for lam in [0.2, 0.5, 0.8, 0.99, 1.0, 1.36, 2.0, 3.0]:
    print(f"    ({lam!r}, {float(special.kolmogorov(lam))!r}),")
print("];")
t = np.array([[30, 50, 20], [25, 30, 45]])
chi2, p, dof, _ = stats.chi2_contingency(t, correction=False)
js = distance.jensenshannon(t[0] / t[0].sum(), t[1] / t[1].sum(), base=2)
print(f"pub const CATEGORICAL: (f64, f64, f64) = ({float(chi2)!r}, {float(p)!r}, {float(js)!r});")
