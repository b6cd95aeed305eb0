// The fused k-means op (ops.def kmeansAssign) against a float64 reference on the host: labels
// (the nearest center; the lowest index at exact ties, placed across SIMD lanes and tiles),
// squared distances, inertia, per-cluster sums and counts (empty clusters included), for
// float32 and float64, row counts that are not multiples of the row block, and enough rows to
// run on several threads.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { kmeansAssign } from '../../src/cluster/assign.js';
import { trackedTensors } from '../helpers/memory.js';

/** Host reference: argmin of the squared distance (first at ties), sums, counts, inertia. */
function reference(x: ArrayLike<number>, c: ArrayLike<number>, n: number, d: number, k: number) {
  const labels = new Int32Array(n);
  const dist = new Float64Array(n);
  const second = new Float64Array(n);  // the runner-up's distance (how close to a tie a row is)
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    let best = Infinity;
    let next = Infinity;
    let lab = 0;
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let f = 0; f < d; f++) s += (x[i * d + f] - c[j * d + f]) ** 2;
      if (s < best) {
        next = best;
        best = s;
        lab = j;
      } else if (s < next) next = s;
    }
    labels[i] = lab;
    dist[i] = best;
    second[i] = next;
    inertia += best;
    counts[lab]++;
    for (let f = 0; f < d; f++) sums[lab * d + f] += x[i * d + f];
  }
  return { labels, dist, second, sums, counts, inertia };
}

const maxRel = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(scale, 1e-300));
  return worst;
};

describe('kmeansAssign (fused native op)', () => {
  for (const dtype of ['float64', 'float32'] as const) {
    for (const [n, d, k] of [[5003, 13, 37], [9, 2, 3], [1, 5, 1], [130, 16, 32], [77, 1, 17]]) {
      it(`${dtype}: n=${n} d=${d} k=${k} against the float64 reference`, () => {
        kiln.manualSeed(n + d + k);
        const X = kiln.randn([n, d], { dtype });
        const C = kiln.randn([k, d], { dtype });
        const x = X.toTypedArray();
        const c = C.toTypedArray();
        const ref = reference(x, c, n, d, k);
        const a = kmeansAssign(X, C, { dist: true, sums: true });
        const labels = a.labels.toTypedArray();
        // labels: exact, except where the two nearest centers are closer than the dtype resolves
        const tol = dtype === 'float64' ? 1e-9 : 1e-4;
        let differ = 0;
        for (let i = 0; i < n; i++) {
          if (labels[i] === ref.labels[i]) continue;
          differ++;
          expect(ref.second[i] - ref.dist[i]).toBeLessThan(tol * (1 + ref.dist[i]));
        }
        expect(differ).toBeLessThanOrEqual(dtype === 'float64' ? 0 : 2);
        // distances, sums and counts for the labels the op chose, in float64
        const own = { sums: new Float64Array(k * d), counts: new Float64Array(k) };
        let inertia = 0;
        const dist = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          const j = labels[i];
          for (let f = 0; f < d; f++) dist[i] += (x[i * d + f] - c[j * d + f]) ** 2;
          inertia += dist[i];
          own.counts[j]++;
          for (let f = 0; f < d; f++) own.sums[j * d + f] += x[i * d + f];
        }
        expect(a.minDist!.dtype).toBe('float64');
        expect(maxRel(a.minDist!.toTypedArray(), dist)).toBeLessThan(1e-14);
        expect(Math.abs(a.inertia.item() - inertia) / inertia).toBeLessThan(1e-12);
        expect(Array.from(a.counts!.toTypedArray())).toEqual(Array.from(own.counts));
        expect(maxRel(a.sums!.toTypedArray(), own.sums)).toBeLessThan(1e-12);
        for (const t of [X, C, a.labels, a.minDist!, a.sums!, a.counts!, a.inertia]) t.dispose();
      });
    }
  }

  for (const dtype of ['float64', 'float32'] as const) {
    it(`${dtype}: exact ties go to the lowest index, across lanes and tiles; empty clusters sum to 0`, () => {
      // 40 centers; row r sits at (100 r, 0, 0) and the centers of its tie set at unit offsets
      // from it, so ||c||^2 - 2 x.c is the same integer for each (exact in float32 too). The
      // other centers are far away and stay empty.
      const tieSets = [[3, 11, 19], [9, 17], [12, 10], [0, 1, 2], [15, 16, 31, 39], [38, 22]];
      const k = 40;
      const d = 3;
      const offsets = [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]];
      const c = new Float64Array(k * d);
      for (let j = 0; j < k; j++) c[j * d] = -1000 - 10 * j;  // far from every row
      const rows: number[] = [];
      tieSets.forEach((set, r) => {
        rows.push(100 * r, 0, 0);
        set.forEach((j, o) => offsets[o].forEach((v, f) => { c[j * d + f] = (f === 0 ? 100 * r : 0) + v; }));
      });
      // more rows than one block of 4, and repeated so several rows land in each tie set
      const x = Float64Array.from([...rows, ...rows, ...rows]);
      const n = x.length / d;
      const X = kiln.tensor(x, { dtype, shape: [n, d] });
      const C = kiln.tensor(c, { dtype, shape: [k, d] });
      const a = kmeansAssign(X, C, { dist: true, sums: true });
      const want = [...tieSets, ...tieSets, ...tieSets].map((s) => Math.min(...s));
      expect(Array.from(a.labels.toTypedArray())).toEqual(want);
      expect(Array.from(a.minDist!.toTypedArray())).toEqual(want.map(() => 1));
      expect(a.inertia.item()).toBe(n);
      const counts = Array.from(a.counts!.toTypedArray());
      const sums = a.sums!.toTypedArray();
      for (let j = 0; j < k; j++) {
        const members = want.filter((w) => w === j).length;
        expect(counts[j]).toBe(members);
        const r = tieSets.findIndex((s) => Math.min(...s) === j);
        expect(Array.from(sums.subarray(j * d, j * d + d))).toEqual(members ? [3 * 100 * r, 0, 0] : [0, 0, 0]);
      }
      for (const t of [X, C, a.labels, a.minDist!, a.sums!, a.counts!, a.inertia]) t.dispose();
    });
  }

  it('zero rows and zero features; strided input is read in place of a copy', () => {
    const C = kiln.randn([3, 4], { dtype: 'float64' });
    const a = kmeansAssign(kiln.zeros([0, 4], { dtype: 'float64' }), C, { sums: true });
    expect(a.labels.shape).toEqual([0]);
    expect(a.inertia.item()).toBe(0);
    expect(Array.from(a.counts!.toTypedArray())).toEqual([0, 0, 0]);
    const b = kmeansAssign(kiln.zeros([5, 0]), kiln.zeros([2, 0]));
    expect(Array.from(b.labels.toTypedArray())).toEqual([0, 0, 0, 0, 0]);
    const X = kiln.randn([4, 6], { dtype: 'float64' });
    const Xt = X.t();  // [6, 4], not contiguous
    const s = kmeansAssign(Xt, C, { dist: true });
    const r = reference(Xt.contiguous().toTypedArray(), C.toTypedArray(), 6, 4, 3);
    expect(Array.from(s.labels.toTypedArray())).toEqual(Array.from(r.labels));
  });

  it('rejects bad input with the argument named', () => {
    const X = kiln.randn([10, 3], { dtype: 'float64' });
    expect(() => kmeansAssign(X, kiln.randn([2, 3]))).toThrow(/centers: expected float64 \(the dtype of X\), got float32/);
    expect(() => kmeansAssign(X, kiln.randn([2, 4], { dtype: 'float64' }))).toThrow(/centers: expected shape \[k >= 1, 3\], got \[2, 4\]/);
    expect(() => kmeansAssign(X, kiln.zeros([0, 3], { dtype: 'float64' }))).toThrow(/centers: expected shape \[k >= 1, 3\]/);
    expect(() => kmeansAssign(kiln.randint(0, 3, [10, 3]), X)).toThrow(/X: expected a float32 or float64 tensor, got int32/);
    expect(() => kmeansAssign(X.to('bfloat16'), X)).toThrow(/X: expected a float32 or float64 tensor, got bfloat16/);
    expect(() => kmeansAssign(X, X, { weights: true } as never)).toThrow(/unknown option 'weights'/);
  });

  it('keeps kiln.memory() flat', () => {
    const X = kiln.randn([300, 5], { dtype: 'float64' });
    const C = kiln.randn([7, 5], { dtype: 'float64' });
    const before = trackedTensors();
    for (let i = 0; i < 3; i++) kiln.scope(() => { kmeansAssign(X, C, { dist: true, sums: true }); });
    expect(trackedTensors()).toBe(before);
  });
});
