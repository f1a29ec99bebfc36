// Small dense linear algebra: KernelSHAP's normal equations (tens of unknowns) and the L×L
// products of the relevance-matrix methods.

/** Solves A x = b for symmetric positive definite A (n×n, row-major) by Cholesky. */
export function solveSpd(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      if (i === j) {
        if (!(s > 0)) throw new Error(`solveSpd: matrix is not positive definite (pivot ${i} = ${s})`);
        l[i * n + i] = Math.sqrt(s);
      } else {
        l[i * n + j] = s / l[j * n + j];
      }
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i * n + k] * y[k];
    y[i] = s / l[i * n + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * x[k];
    x[i] = s / l[i * n + i];
  }
  return x;
}

/** a · b for L×L row-major matrices, skipping zero entries of a (attention maps are sparse after ReLU). */
export function squareProduct(a: ArrayLike<number>, b: ArrayLike<number>, L: number): Float64Array<ArrayBuffer> {
  const out = new Float64Array(L * L);
  for (let i = 0; i < L; i++) {
    for (let k = 0; k < L; k++) {
      const aik = a[i * L + k];
      if (aik === 0) continue;
      for (let j = 0; j < L; j++) out[i * L + j] += aik * b[k * L + j];
    }
  }
  return out;
}
