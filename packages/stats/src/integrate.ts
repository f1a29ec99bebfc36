// Adaptive Gauss–Kronrod (7/15-point) quadrature on a finite interval, and Brent's root finder.

// QUADPACK's 15-point Kronrod abscissae (x ≥ 0) and weights, and the 7-point Gauss weights
// for the odd-indexed abscissae (1, 3, 5, 7).
const XGK = [
  0.991455371120812639206854697526329, 0.949107912342758524526189684047851, 0.864864423359769072789712788640926,
  0.741531185599394439863864773280788, 0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
  0.207784955007898467600689403773245, 0,
];
const WGK = [
  0.02293532201052922496373200805897, 0.063092092629978553290700663189204, 0.104790010322250183839876322541518,
  0.140653259715525918745189590510238, 0.16900472663926790282658342659855, 0.190350578064785409913256402421014,
  0.204432940075298892414161999234649, 0.209482141084727828012999174891714,
];
const WG = [0.129484966168869693270611432679082, 0.27970539148927666790146777142378, 0.381830050505118944950369775488975, 0.417959183673469387755102040816327];

interface Piece {
  a: number;
  b: number;
  value: number;
  error: number;
}

function gk15(f: (x: number) => number, a: number, b: number): Piece {
  const c = (a + b) / 2;
  const h = (b - a) / 2;
  const fc = f(c);
  let k = fc * WGK[7];
  let g = fc * WG[3];
  for (let j = 0; j < 7; j++) {
    const dx = h * XGK[j];
    const s = f(c - dx) + f(c + dx);
    k += WGK[j] * s;
    if (j % 2 === 1) g += WG[(j - 1) / 2] * s;
  }
  return { a, b, value: k * h, error: Math.abs((k - g) * h) };
}

/**
 * ∫_a^b f, splitting the interval with the largest error estimate until the summed estimate
 * is below max(absTol, relTol·|value|) or maxPieces is reached. `pieces` sets the initial split.
 */
export function integrate(
  f: (x: number) => number,
  a: number,
  b: number,
  { absTol = 1e-13, relTol = 1e-12, pieces = 8, maxPieces = 2000 }: { absTol?: number; relTol?: number; pieces?: number; maxPieces?: number } = {},
): number {
  if (!Number.isFinite(a) || !Number.isFinite(b) || !(b > a)) throw new Error(`integrate: need finite a < b, got [${a}, ${b}]`);
  const list: Piece[] = [];
  for (let i = 0; i < pieces; i++) list.push(gk15(f, a + ((b - a) * i) / pieces, i + 1 === pieces ? b : a + ((b - a) * (i + 1)) / pieces));
  for (;;) {
    let value = 0;
    let error = 0;
    let worst = 0;
    for (let i = 0; i < list.length; i++) {
      value += list[i].value;
      error += list[i].error;
      if (list[i].error > list[worst].error) worst = i;
    }
    if (error <= Math.max(absTol, relTol * Math.abs(value)) || list.length >= maxPieces) return value;
    const p = list[worst];
    const m = (p.a + p.b) / 2;
    if (!(m > p.a && m < p.b)) return value; // the interval cannot be split further in floating point
    list[worst] = gk15(f, p.a, m);
    list.push(gk15(f, m, p.b));
  }
}

/** Brent's method (bracketing, inverse quadratic interpolation): x in [a, b] with f(x) = 0; f(a), f(b) of opposite signs. */
export function brent(f: (x: number) => number, a: number, b: number, xTol = 1e-12, maxIter = 200): number {
  let fa = f(a);
  let fb = f(b);
  if (fa === 0) return a;
  if (fb === 0) return b;
  if (fa * fb > 0) throw new Error(`brent: f(a) and f(b) must have opposite signs, got f(${a}) = ${fa}, f(${b}) = ${fb}`);
  let c = a;
  let fc = fa;
  let d = b - a;
  let e = d;
  for (let iter = 0; iter < maxIter; iter++) {
    if (fb * fc > 0) {
      c = a;
      fc = fa;
      d = b - a;
      e = d;
    }
    if (Math.abs(fc) < Math.abs(fb)) {
      a = b;
      b = c;
      c = a;
      fa = fb;
      fb = fc;
      fc = fa;
    }
    const tol = 2 * Number.EPSILON * Math.abs(b) + xTol / 2;
    const m = (c - b) / 2;
    if (Math.abs(m) <= tol || fb === 0) return b;
    if (Math.abs(e) >= tol && Math.abs(fa) > Math.abs(fb)) {
      // Interpolation step (secant when a = c, inverse quadratic otherwise).
      const s = fb / fa;
      let p: number;
      let q: number;
      if (a === c) {
        p = 2 * m * s;
        q = 1 - s;
      } else {
        const qa = fa / fc;
        const r = fb / fc;
        p = s * (2 * m * qa * (qa - r) - (b - a) * (r - 1));
        q = (qa - 1) * (r - 1) * (s - 1);
      }
      if (p > 0) q = -q;
      else p = -p;
      if (2 * p < Math.min(3 * m * q - Math.abs(tol * q), Math.abs(e * q))) {
        e = d;
        d = p / q;
      } else {
        d = m;
        e = m;
      }
    } else {
      d = m;
      e = m;
    }
    a = b;
    fa = fb;
    b += Math.abs(d) > tol ? d : m > 0 ? tol : -tol;
    fb = f(b);
  }
  return b;
}
