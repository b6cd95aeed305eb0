// kiln.linalg against float64 references (tests/helpers/linalg-reference.ts): values of every
// op in float64 and float32, batched and broadcast, the blocked paths (n > 128), errors naming the
// batch index, and gradients against float64 finite differences (gradcheck) and second
// derivatives (gradgradcheck, the createGraph compositions).
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { expectClose } from '../helpers/gradcheck.js';
import { choleskyRef, detRef, eigvalshRef, matmulRef, relErr, spdRef, transposeRef } from '../helpers/linalg-reference.js';
import { rng } from '../helpers/reference.js';

const { linalg } = kiln;
const f64 = (data: Float64Array | number[], shape: number[]) => kiln.tensor(data, { dtype: 'float64', shape });
const randMat = (rand: () => number, m: number, n: number) => Float64Array.from({ length: m * n }, () => 2 * rand() - 1);
/** A batch of SPD matrices [b, n, n] and their data. */
function spdBatch(b: number, n: number, seed: number): { data: Float64Array[]; t: Tensor } {
  const rand = rng(seed);
  const data = Array.from({ length: b }, () => spdRef(n, rand));
  const flat = new Float64Array(b * n * n);
  data.forEach((d, i) => flat.set(d, i * n * n));
  return { data, t: f64(flat, [b, n, n]) };
}
const item = (t: Tensor, i: number, size: number) => t.toTypedArray().slice(i * size, (i + 1) * size);
/** (A + A^T) / 2: the functions below are checked on symmetric inputs, as PyTorch's tests do. */
const sym = (A: Tensor) => A.add(A.transpose(-1, -2)).mul(0.5);

describe('cholesky', () => {
  it('matches the float64 reference, lower and upper, batched, and in float32', () => {
    for (const n of [1, 3, 17, 64, 200]) {
      const { data, t } = spdBatch(2, n, n);
      const L = linalg.cholesky(t);
      const U = linalg.cholesky(t, { upper: true });
      for (let i = 0; i < 2; i++) {
        const ref = choleskyRef(data[i], n);
        expect(relErr(item(L, i, n * n), ref), `n=${n} lower`).toBeLessThan(1e-12);
        expect(relErr(item(U, i, n * n), transposeRef(ref, n, n)), `n=${n} upper`).toBeLessThan(1e-12);
      }
      const L32 = linalg.cholesky(t.float());
      expect(L32.dtype).toBe('float32');
      expect(relErr(item(L32, 1, n * n), choleskyRef(data[1], n))).toBeLessThan(2e-5);
    }
  });

  it('reads only its triangle and names the batch index of a matrix that is not positive-definite', () => {
    const { data, t } = spdBatch(1, 4, 7);
    const junk = Float64Array.from(data[0]);
    for (let i = 0; i < 4; i++) for (let j = i + 1; j < 4; j++) junk[i * 4 + j] = 99;
    expect(relErr(linalg.cholesky(f64(junk, [4, 4])).toTypedArray(), choleskyRef(data[0], 4))).toBeLessThan(1e-13);
    t.dispose();
    const bad = f64([1, 0, 0, 1, 1, 2, 2, 1, 4, 0, 0, 4], [3, 2, 2]);
    expect(() => linalg.cholesky(bad)).toThrow(/cholesky: matrix 1 of the batch is not positive-definite \(the leading minor of order 2/);
    expect(() => linalg.cholesky(bad.reshape([3, 1, 2, 2]))).toThrow(/matrix \[1, 0\] of the batch/);
    expect(() => linalg.cholesky(f64([NaN, 0, 0, 1], [2, 2]))).toThrow(/NaN or infinity/);
    const { info, L } = linalg.choleskyEx(bad);
    expect(Array.from(info.toTypedArray())).toEqual([0, 2, 0]);
    expect(L.shape).toEqual([3, 2, 2]);
    expect(() => linalg.cholesky(kiln.zeros([2, 3], { dtype: 'float64' }))).toThrow(/square/);
    expect(() => linalg.cholesky(kiln.zeros([3], { dtype: 'float64' }))).toThrow(/matrix/);
    expect(() => linalg.cholesky(kiln.zeros([2, 2], { dtype: 'int32' }))).toThrow(/float32 or float64/);
    expect(() => linalg.cholesky(kiln.eye(2), { lower: true } as any)).toThrow(/unknown option 'lower'/);
  });
});

describe('solveTriangular', () => {
  it('solves every combination of upper/lower, left/right, transposed views and unit diagonals', () => {
    const rand = rng(11);
    for (const n of [5, 150]) {
      // off-diagonal entries of size 1/n keep even the unit-diagonal solves well-conditioned
      const raw = randMat(rand, n, n).map((v) => v / n);
      for (let i = 0; i < n; i++) raw[i * n + i] = 2 + rand();
      const lower = raw.map((v, i) => (i % n <= Math.floor(i / n) ? v : 0));
      const upper = transposeRef(lower, n, n);
      const k = 7;
      for (const isUpper of [false, true]) {
        for (const left of [true, false]) {
          for (const viaView of [false, true]) {
            for (const unit of [false, true]) {
              const tri = isUpper ? upper : lower;
              const A = viaView ? f64(transposeRef(tri, n, n), [n, n]).t() : f64(tri, [n, n]);
              const Bshape = left ? [n, k] : [k, n];
              const B = randMat(rand, Bshape[0], Bshape[1]);
              const X = linalg.solveTriangular(A, f64(B, Bshape), { upper: isUpper, left, unitriangular: unit });
              const eff = Float64Array.from(tri, (v, i) => (unit && i % (n + 1) === 0 ? 1 : v));
              const back = left ? matmulRef(eff, X.toTypedArray(), n, n, k) : matmulRef(X.toTypedArray(), eff, k, n, n);
              expect(relErr(back, B), `n=${n} upper=${isUpper} left=${left} view=${viaView} unit=${unit}`).toBeLessThan(1e-11);
            }
          }
        }
      }
    }
  });

  it('broadcasts batch dims (one A for many B) and works in float32', () => {
    const rand = rng(12);
    const n = 4;
    const { data } = spdBatch(1, n, 3);
    const L = choleskyRef(data[0], n);
    const B = randMat(rand, 3 * n * 2, 1);
    const X = linalg.solveTriangular(f64(L, [n, n]), f64(B, [3, n, 2]), { upper: false });
    for (let i = 0; i < 3; i++) expect(relErr(matmulRef(L, item(X, i, 2 * n), n, n, 2), B.slice(i * 2 * n, (i + 1) * 2 * n))).toBeLessThan(1e-13);
    const X32 = linalg.solveTriangular(f64(L, [1, n, n]).float(), f64(B, [3, n, 2]).float(), { upper: false });
    expect(relErr(X32.toTypedArray(), X.toTypedArray())).toBeLessThan(1e-5);
    expect(() => linalg.solveTriangular(f64(L, [n, n]), f64(B, [3, n, 2]).float(), { upper: false })).toThrow(/one dtype/);
    expect(() => linalg.solveTriangular(f64(L, [n, n]), f64(B, [3, 2, n]), { upper: false })).toThrow(/do not align/);
    expect(() => linalg.solveTriangular(f64(L, [n, n]), f64(B, [3, n, 2]), {} as any)).toThrow(/upper/);
  });
});

describe('solve, inv, slogdet, det', () => {
  it('match float64 references, batched, with vector right-hand sides; n = 200 takes the blocked LU', () => {
    const rand = rng(21);
    for (const n of [1, 4, 33, 200]) {
      const A = randMat(rand, n, n);
      const B = randMat(rand, n, 3);
      const X = linalg.solve(f64(A, [n, n]), f64(B, [n, 3]));
      expect(relErr(matmulRef(A, X.toTypedArray(), n, n, 3), B), `solve n=${n}`).toBeLessThan(1e-10);
      const x = linalg.solve(f64(A, [n, n]), f64(B.slice(0, n), [n]));
      expect(x.shape).toEqual([n]);
      const Ai = linalg.inv(f64(A, [n, n])).toTypedArray();
      const I = matmulRef(A, Ai, n, n, n);
      expect(relErr(I, Float64Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0))), `inv n=${n}`).toBeLessThan(1e-10);
      if (n <= 33) {
        const d = detRef(A, n);
        const { sign, logabsdet } = linalg.slogdet(f64(A, [n, n]));
        expect(sign.item()).toBe(Math.sign(d));
        expect(Math.abs(logabsdet.item() - Math.log(Math.abs(d)))).toBeLessThan(1e-11);
        expect(linalg.det(f64(A, [n, n])).item() / d).toBeCloseTo(1, 10);
      }
    }
    // batched, broadcast: one A for a batch of B; a batch of A for one vector each
    const A = randMat(rand, 2 * 3 * 3, 1);
    const X = linalg.solve(f64(A, [2, 3, 3]), f64([1, 2, 3, 4, 5, 6], [2, 3]));
    expect(X.shape).toEqual([2, 3]);
    for (let i = 0; i < 2; i++) {
      expect(relErr(matmulRef(A.slice(i * 9, i * 9 + 9), item(X, i, 3), 3, 3, 1), [1, 2, 3, 4, 5, 6].slice(i * 3, i * 3 + 3))).toBeLessThan(1e-12);
    }
    const XR = linalg.solve(f64(A.slice(0, 9), [3, 3]), f64([1, 2, 3, 4, 5, 6], [2, 3]), { left: false });
    expect(relErr(matmulRef(XR.toTypedArray(), A.slice(0, 9), 2, 3, 3), [1, 2, 3, 4, 5, 6])).toBeLessThan(1e-12);
    // float32
    const X32 = linalg.solve(f64(A, [2, 3, 3]).float(), kiln.tensor([[1, 2, 3], [4, 5, 6]]));
    expect(relErr(X32.toTypedArray(), X.toTypedArray())).toBeLessThan(1e-4);
  });

  it('singular matrices: solve throws naming the matrix, slogdet gives sign 0 and -inf', () => {
    const batch = kiln.cat([f64([2, 0, 0, 2], [1, 2, 2]), f64([1, 2, 2, 4], [1, 2, 2])]);
    expect(() => linalg.solve(batch, f64([1, 1, 1, 1], [2, 2, 1]))).toThrow(/solve: matrix 1 of the batch is singular/);
    expect(() => linalg.inv(batch)).toThrow(/inv: matrix 1 of the batch is singular/);
    const { sign, logabsdet } = linalg.slogdet(batch);
    expect(Array.from(sign.toTypedArray())).toEqual([1, 0]);
    expect(Array.from(logabsdet.toTypedArray())).toEqual([Math.log(4), -Infinity]);
    expect(() => linalg.slogdet(f64([Infinity, 0, 0, 1], [2, 2]))).toThrow(/NaN or infinity/);
  });
});

describe('eigh', () => {
  it('A V = V diag(w), V^T V = I, eigenvalues ascending as the Jacobi reference; float32 too', () => {
    for (const n of [1, 2, 6, 40, 150]) {
      const { data, t } = spdBatch(2, n, 100 + n);
      for (const [UPLO, input] of [['L', t], ['U', t]] as const) {
        const { eigenvalues: w, eigenvectors: V } = linalg.eigh(input, { UPLO });
        for (let i = 0; i < 2; i++) {
          const wi = item(w, i, n);
          for (let j = 1; j < n; j++) expect(wi[j]).toBeGreaterThanOrEqual(wi[j - 1]);
          if (n <= 40) expect(relErr(wi, eigvalshRef(data[i], n)), `n=${n} eigenvalues`).toBeLessThan(1e-12);
          const v = item(V, i, n * n);
          const AV = matmulRef(data[i], v, n, n, n);
          const VW = Float64Array.from(v, (x, k) => x * wi[k % n]);
          expect(relErr(AV, VW), `n=${n} A V = V W`).toBeLessThan(1e-12);
          const VtV = matmulRef(transposeRef(v, n, n), v, n, n, n);
          expect(relErr(VtV, Float64Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? 1 : 0)))).toBeLessThan(1e-12);
        }
      }
      const w32 = linalg.eigvalsh(t.float());
      expect(w32.dtype).toBe('float32');
      expect(relErr(item(w32, 0, n), item(linalg.eigvalsh(t), 0, n))).toBeLessThan(1e-5);
    }
    expect(() => linalg.eigh(f64([1, NaN, NaN, 1], [2, 2]))).toThrow(/eigh: the matrix contains NaN or infinity/);
    expect(() => linalg.eigh(kiln.eye(2, 2, { dtype: 'float64' }), { UPLO: 'X' as any })).toThrow(/UPLO/);
    // repeated eigenvalues: the identity
    const { eigenvalues } = linalg.eigh(kiln.eye(5, 5, { dtype: 'float64' }));
    expect(Array.from(eigenvalues.toTypedArray())).toEqual([1, 1, 1, 1, 1]);
  });
});

describe('qr', () => {
  it('Q R = A with orthonormal Q and upper-triangular R: tall, wide, reduced and complete', () => {
    const rand = rng(31);
    for (const [m, n] of [[5, 3], [3, 5], [4, 4], [60, 20]]) {
      const A = randMat(rand, m, n);
      for (const mode of ['reduced', 'complete'] as const) {
        const { Q, R } = linalg.qr(f64(A, [m, n]), { mode });
        const q = mode === 'complete' ? m : Math.min(m, n);
        expect(Q.shape).toEqual([m, q]);
        expect(R.shape).toEqual([q, n]);
        const r = R.toTypedArray();
        for (let i = 0; i < q; i++) for (let j = 0; j < Math.min(i, n); j++) expect(r[i * n + j]).toBe(0);
        expect(relErr(matmulRef(Q.toTypedArray(), r, m, q, n), A), `${m}x${n} ${mode}`).toBeLessThan(1e-13);
        const QtQ = matmulRef(transposeRef(Q.toTypedArray(), m, q), Q.toTypedArray(), q, m, q);
        expect(relErr(QtQ, Float64Array.from({ length: q * q }, (_, k) => (k % (q + 1) === 0 ? 1 : 0)))).toBeLessThan(1e-13);
      }
    }
    expect(() => linalg.qr(kiln.eye(2), { mode: 'r' } as any)).toThrow(/mode/);
    const A = kiln.eye(3, 3, { dtype: 'float64' }).requiresGrad_();
    const { R } = linalg.qr(A);
    expect(() => R.sum().backward()).toThrow(/qr: Kiln has no gradient for qr/);
  });
});

describe('gradients against float64 finite differences', () => {
  const rand = rng(41);
  const n = 4;
  const spd = () => f64(spdRef(n, rand, 1), [n, n]).requiresGrad_();
  const gen = (m: number, k: number) => f64(randMat(rand, m, k), [m, k]).requiresGrad_();
  const { gradcheck, gradgradcheck } = kiln.autograd;

  it('cholesky (lower and upper)', () => {
    const A = spd();
    expect(gradcheck((a) => linalg.cholesky(sym(a)), [A])).toBe(true);
    expect(gradcheck((a) => linalg.cholesky(sym(a), { upper: true }), [A])).toBe(true);
    expect(gradgradcheck((a) => linalg.cholesky(sym(a)), [A])).toBe(true);
  });

  it('solveTriangular in A and B, left and right, upper and unitriangular', () => {
    const L = f64(choleskyRef(spdRef(n, rand, 1), n), [n, n]).requiresGrad_();
    const B = gen(n, 3);
    const Br = gen(3, n);
    expect(gradcheck((a, b) => linalg.solveTriangular(kiln.linalg.tril(a), b, { upper: false }), [L, B])).toBe(true);
    expect(gradcheck((a, b) => linalg.solveTriangular(kiln.linalg.tril(a).transpose(0, 1), b, { upper: true, left: false }), [L, Br])).toBe(true);
    expect(gradcheck((a, b) => linalg.solveTriangular(kiln.linalg.tril(a), b, { upper: false, unitriangular: true }), [L, B])).toBe(true);
    expect(gradgradcheck((a, b) => linalg.solveTriangular(kiln.linalg.tril(a), b, { upper: false }), [L, B])).toBe(true);
  });

  it('solve, inv, slogdet, det', () => {
    const A = gen(n, n);
    const B = gen(n, 2);
    expect(gradcheck((a, b) => linalg.solve(a, b), [A, B])).toBe(true);
    expect(gradcheck((a) => linalg.inv(a), [A])).toBe(true);
    expect(gradcheck((a) => linalg.slogdet(a).logabsdet, [A])).toBe(true);
    expect(gradcheck((a) => linalg.det(a), [A])).toBe(true);
    expect(gradgradcheck((a, b) => linalg.solve(a, b), [A, B])).toBe(true);
    expect(gradgradcheck((a) => linalg.slogdet(a).logabsdet, [A])).toBe(true);
  });

  it('eigh: eigenvalues and (sign-invariant) eigenvectors', () => {
    const A = spd();
    expect(gradcheck((a) => linalg.eigh(sym(a)).eigenvalues, [A])).toBe(true);
    // V diag(c) V^T does not depend on the eigenvectors' signs
    const c = f64([0.3, -1, 2, 0.5], [n]);
    expect(gradcheck((a) => {
      const V = linalg.eigh(sym(a)).eigenvectors;
      return V.mul(c).matmul(V.transpose(0, 1));
    }, [A])).toBe(true);
    expect(gradgradcheck((a) => linalg.eigh(sym(a)).eigenvalues, [A])).toBe(true);
  });

  it('a Gaussian log-likelihood through cholesky, solveTriangular and the diagonal (the GP pattern)', () => {
    const K = spd();
    const y = f64(randMat(rand, n, 1), [n, 1]);
    const nll = (k: Tensor) => {
      const L = linalg.cholesky(sym(k));
      const alpha = linalg.solveTriangular(L, y, { upper: false });
      return alpha.square().sum().mul(0.5).add(linalg.diagonal(L).log().sum());
    };
    expect(gradcheck(nll, [K])).toBe(true);
    // and agrees with 0.5 log det via slogdet
    const viaChol = linalg.diagonal(linalg.cholesky(K.detach())).log().sum().item();
    expect(Math.abs(viaChol - 0.5 * linalg.slogdet(K.detach()).logabsdet.item())).toBeLessThan(1e-13);
  });

  it('keeps kiln.memory() flat over repeated factorizations with backward', () => {
    const A = spd();
    const step = () => kiln.scope(() => {
      const { logabsdet } = linalg.slogdet(A);
      logabsdet.add(linalg.cholesky(sym(A)).sum()).add(linalg.eigvalsh(sym(A)).sum()).backward();
      A.grad!.zero_();
    });
    step();
    const before = kiln.memory();
    for (let i = 0; i < 5; i++) step();
    const after = kiln.memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.bytes).toBe(before.bytes);
  });
});

describe('float32 agrees with float64 on well-conditioned problems', () => {
  it('cholesky, solve and eigh', () => {
    const { t } = spdBatch(3, 24, 5);
    const t32 = t.float();
    expectClose(linalg.cholesky(t32).toTypedArray(), linalg.cholesky(t).toTypedArray(), { rtol: 3e-5 }, 'cholesky');
    const b = kiln.randn([3, 24, 2], { dtype: 'float64' });
    expectClose(linalg.solve(t32, b.float()).toTypedArray(), linalg.solve(t, b).toTypedArray(), { rtol: 1e-4 }, 'solve');
    expectClose(linalg.eigvalsh(t32).toTypedArray(), linalg.eigvalsh(t).toTypedArray(), { rtol: 1e-5 }, 'eigvalsh');
  });
});
