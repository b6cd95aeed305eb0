/**
 * Float64 references for kiln.linalg, in plain JS on row-major Float64Arrays of one n x n (or
 * m x k) matrix: textbook algorithms written from the definitions, independently of Kiln.
 */

export function matmulRef(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      out[i * n + j] = s;
    }
  return out;
}

export function transposeRef(a: ArrayLike<number>, m: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[j * m + i] = a[i * n + j];
  return out;
}

/** A random symmetric positive-definite n x n matrix: M M^T / n + shift I. */
export function spdRef(n: number, rand: () => number, shift = 0.5): Float64Array {
  const m = Float64Array.from({ length: n * n }, () => 2 * rand() - 1);
  const a = matmulRef(m, transposeRef(m, n, n), n, n, n);
  for (let i = 0; i < n * n; i++) a[i] /= n;
  for (let i = 0; i < n; i++) a[i * n + i] += shift;
  return a;
}

/** Cholesky-Banachiewicz: lower L with A = L L^T. */
export function choleskyRef(a: ArrayLike<number>, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = i === j ? Math.sqrt(s) : s / L[j * n + j];
    }
  return L;
}

/** det(A) by Gaussian elimination with partial pivoting. */
export function detRef(a: ArrayLike<number>, n: number): number {
  const m = Float64Array.from(a);
  let det = 1;
  for (let j = 0; j < n; j++) {
    let p = j;
    for (let i = j + 1; i < n; i++) if (Math.abs(m[i * n + j]) > Math.abs(m[p * n + j])) p = i;
    if (m[p * n + j] === 0) return 0;
    if (p !== j) {
      for (let c = 0; c < n; c++) [m[j * n + c], m[p * n + c]] = [m[p * n + c], m[j * n + c]];
      det = -det;
    }
    det *= m[j * n + j];
    for (let i = j + 1; i < n; i++) {
      const l = m[i * n + j] / m[j * n + j];
      for (let c = j; c < n; c++) m[i * n + c] -= l * m[j * n + c];
    }
  }
  return det;
}

/** Eigenvalues of symmetric A, ascending, by cyclic Jacobi rotations. */
export function eigvalshRef(a: ArrayLike<number>, n: number): Float64Array {
  const m = Float64Array.from(a);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) off += m[i * n + j] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = m[k * n + p], akq = m[k * n + q];
          m[k * n + p] = c * akp - s * akq;
          m[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = m[p * n + k], aqk = m[q * n + k];
          m[p * n + k] = c * apk - s * aqk;
          m[q * n + k] = s * apk + c * aqk;
        }
      }
  }
  return Float64Array.from({ length: n }, (_, i) => m[i * n + i]).sort();
}

/** max |a - b| / max(1, max |b|). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0;
  let scale = 1;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return err / scale;
}
