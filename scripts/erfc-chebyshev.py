# Chebyshev coefficients for src/kernels/special.ts's erfc, computed at 50 digits with mpmath:
#   g(x) = exp(x²)·erfc(x) on each interval [a, b] (in t = (2x − a − b)/(b − a)), and
#   h(u) = x·√π·exp(x²)·erfc(x) with u = 1/x² on (0, 1/TAIL²] (x ≥ TAIL, in t = 2u·TAIL² − 1).
# Series are cut where the terms fall below 1e-18 of the function's size.
# Run: python3 scripts/erfc-chebyshev.py
import mpmath as mp

mp.mp.dps = 50
N = 80
TAIL = 6


def cheb(f, a, b):
    nodes = [mp.cos(mp.pi * (j + mp.mpf(1) / 2) / N) for j in range(N)]
    vals = [f((b - a) / 2 * t + (b + a) / 2) for t in nodes]
    cs = []
    for k in range(N):
        s = sum(v * mp.cos(mp.pi * k * (j + mp.mpf(1) / 2) / N) for j, v in enumerate(vals))
        cs.append(2 * s / N)
    scale = max(abs(v) for v in vals)
    n = max(k for k, c in enumerate(cs) if abs(c) > scale * mp.mpf("1e-18")) + 1
    return cs[:n]


def fmt(cs):
    return "[" + ", ".join(mp.nstr(c, 17, min_fixed=-1, max_fixed=1) for c in cs) + "]"


g = lambda x: mp.exp(x * x) * mp.erfc(x)
for a, b in [(0.5, 1), (1, 1.5), (1.5, 2), (2, 3), (3, 4), (4, TAIL)]:
    print(f"  [{a}, {b}, {fmt(cheb(g, mp.mpf(a), mp.mpf(b)))}],")


def h(u):
    if u == 0:
        return mp.mpf(1)
    x = 1 / mp.sqrt(u)
    return x * mp.sqrt(mp.pi) * mp.exp(x * x) * mp.erfc(x)


print("  tail:", fmt(cheb(h, mp.mpf(0), mp.mpf(1) / TAIL**2)))
