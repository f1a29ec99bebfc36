"""Reference values for @ceb/stats's tests, from SciPy (Debian's python3-scipy).

Run: /usr/bin/python3 packages/stats/test/reference/scipy_values.py
The tests paste these numbers as literals, each with the Python line that produced it.
Printed with repr(), i.e. every digit of the float64.
"""
import warnings

import numpy as np
import scipy
from scipy import stats

warnings.simplefilter("ignore")  # SciPy warns about small n for the normal approximation
print("scipy", scipy.__version__)


def show(label, value):
    print(f"{label} = {value!r}")


def w(label, d, **kw):
    r = stats.wilcoxon(d, **kw)
    show(label, (float(r.statistic), float(r.pvalue)))


def r_plus(d):
    # R+ under Pratt: rank |d| with the zeros, then keep the ranks of the positive differences.
    return stats.rankdata(np.abs(d))[d > 0].sum()


def perm(label, d):
    # The exact sign-flip (conditional) test: n <= 13 so all 2^n sign patterns are enumerated.
    r = stats.permutation_test((np.asarray(d, float),), r_plus, permutation_type="samples",
                               vectorized=False, n_resamples=np.inf, alternative="two-sided")
    show(label, float(r.pvalue))


# --- Wilcoxon signed rank -------------------------------------------------------------------
A = np.array([1.5, -0.3, 2.2, 0.8, -1.1, 3.4, 0.5, -0.2, 1.9, 2.7])  # no ties, no zeros
w("A exact", A, method="exact")
w("A approx", A, method="approx")
w("A approx corr", A, method="approx", correction=True)

H = np.array([0.0, 1.0, -2.0, 3.0])  # the hand-worked Pratt case
w("H pratt approx", H, zero_method="pratt", method="approx")

B = np.array([0, 0, 1, -1, 2, 2, -2, 3, 4, -5, 6, 7, 0.5, 8], float)  # 2 zeros, ties
for zm in ("pratt", "wilcox", "zsplit"):
    w(f"B {zm} approx", B, zero_method=zm, method="approx")
    w(f"B {zm} approx corr", B, zero_method=zm, method="approx", correction=True)

C = np.array([(i * 37) % 61 - 25.3 for i in range(1, 61)])  # n = 60: 'auto' is the normal approximation
w("C auto", C)
w("C pratt auto", C, zero_method="pratt")

D = np.array([1, -1, 2, 3, 3, -3, 4, 5, 6, -6, 7, 8], float)  # ties, no zeros
w("D pratt approx", D, zero_method="pratt", method="approx")
perm("D sign-flip exact", D)

E = np.array([0, 0.5, -1.5, 2, 2.5, -3, 3.5, 4, 4.5, 5], float)  # one zero, no ties among the rest
w("E pratt approx", E, zero_method="pratt", method="approx")
perm("E sign-flip exact (pratt)", E)
w("E wilcox exact on the nonzero ones", E[E != 0], method="exact")

Z = np.zeros(5)
w("Z zsplit approx (all zeros)", Z, zero_method="zsplit", method="approx")
for zm in ("pratt", "wilcox"):
    try:
        stats.wilcoxon(Z, zero_method=zm, method="approx")
    except ValueError as e:
        show(f"Z {zm} approx raises", str(e))

# --- McNemar = binomtest at 1/2 -------------------------------------------------------------
for b, c in [(3, 10), (0, 5), (10, 10), (1, 0), (25, 48), (100, 140), (0, 60)]:
    show(f"binomtest({min(b, c)}, {b + c}, 0.5)", float(stats.binomtest(min(b, c), b + c, 0.5).pvalue))

# --- Friedman -------------------------------------------------------------------------------
def fried(label, m):
    m = np.asarray(m, float)
    n, k = m.shape
    r = stats.friedmanchisquare(*m.T)
    chi2 = float(r.statistic)
    F = (n - 1) * chi2 / (n * (k - 1) - chi2)
    show(label, (chi2, float(r.pvalue), F, float(stats.f.sf(F, k - 1, (k - 1) * (n - 1)))))


M1 = [[0.81, 0.75, 0.62], [0.90, 0.93, 0.70], [0.55, 0.52, 0.49], [0.71, 0.60, 0.66],
      [0.88, 0.85, 0.79], [0.64, 0.69, 0.58]]
fried("M1 (chi2, p, F, pF)", M1)
M2 = [[1, 2, 2, 3], [4, 4, 4, 1], [2, 3, 1, 1], [5, 6, 7, 8], [3, 3, 2, 1], [9, 7, 8, 7], [1, 1, 2, 2]]
fried("M2 ties (chi2, p, F, pF)", M2)
# Rank rows (1 = best) built to give Demšar's (2006) Table 6 rank sums 44, 28, 40.5, 27.5 over
# 14 data sets; the scores are 5 - rank (larger = better), one row ties the last two.
DEMSAR_RANKS = [(1, 2, 3, 4)] * 4 + [(4, 1, 3, 2)] + [(4, 2, 3, 1)] * 8 + [(4, 3, 1.5, 1.5)]
fried("Demsar (chi2, p, F, pF)", [[5 - r for r in row] for row in DEMSAR_RANKS])

# --- Distribution functions -----------------------------------------------------------------
show("chi2.sf(9.28, 3)", float(stats.chi2.sf(9.28, 3)))
show("chi2.sf(200, 4)", float(stats.chi2.sf(200, 4)))
show("f.sf(3.69, 3, 39)", float(stats.f.sf(3.69, 3, 39)))
show("f.sf(40, 2, 10)", float(stats.f.sf(40, 2, 10)))
show("norm.sf(6)", float(stats.norm.sf(6)))
show("norm.cdf(-1.3)", float(stats.norm.cdf(-1.3)))
show("binom.cdf(7, 30, 0.3)", float(stats.binom.cdf(7, 30, 0.3)))

# --- Studentized range ----------------------------------------------------------------------
for q, k, df in [(2.0, 2, np.inf), (3.314, 3, np.inf), (3.0, 20, np.inf), (1.0, 5, np.inf),
                 (3.5, 3, 10), (3.5, 3, 1), (4.0, 5, 20), (10.0, 4, 2), (100.0, 2, 1),
                 (5.0, 10, 5), (2.5, 2, 1000), (4.5, 6, 120)]:
    show(f"studentized_range.cdf({q}, {k}, {df})", float(stats.studentized_range.cdf(q, k, df)))
for p in (0.95, 0.90):
    show(f"studentized_range.ppf({p}, k, inf) for k = 2..10",
         [float(stats.studentized_range.ppf(p, k, np.inf)) for k in range(2, 11)])
for p, k, df in [(0.95, 3, 10), (0.99, 5, 2), (0.95, 4, 30), (0.5, 2, 1)]:
    show(f"studentized_range.ppf({p}, {k}, {df})", float(stats.studentized_range.ppf(p, k, df)))
