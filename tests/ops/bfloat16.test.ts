// The bfloat16 dtype: conversions against a float64 rounding reference, ops (GEMM-backed
// matmul/linear/conv2d within bfloat16 rounding of the float64 result of the rounded inputs;
// everything else as float32 math rounded once), gradients against finite differences in
// float32 of the rounded inputs, promotion, and refusals that name the op and the dtype.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { native } from '../../src/native.js';
import { bf16Tensor, bf16Ulp, bf16Values, fdGrads, refBf16, rng, same } from '../helpers/bf16.js';

const { F } = kiln;
const vals = (t: kiln.Tensor) => Array.from(t.toTypedArray());

describe('bfloat16 conversions', () => {
  it('float32 -> bfloat16 rounds to nearest, ties to even: ties, subnormals, overflow, infinities, NaN, -0', () => {
    const special = [1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20, -(1 + 2 ** -8), 2 ** -126, 2 ** -130,
      2 ** -134, 3 * 2 ** -134, 5 * 2 ** -135, 2 ** -149, -(2 ** -140), 3.4028234663852886e38, 3.3895313892515355e38,
      3.3961775292304e38, Infinity, -Infinity, NaN, -0, 0, 65504, 0.1, -123.456];
    // plus 4000 random bit patterns: every exponent, subnormals and NaNs included
    const r = rng(5);
    const bits = Uint32Array.from({ length: 4000 }, () => Math.floor((r() + 1) * 2 ** 31) >>> 0);
    const xs = Float32Array.from([...special, ...new Float32Array(bits.buffer)]);
    const t = kiln.tensor(xs, { dtype: 'bfloat16' });
    expect(t.dtype).toBe('bfloat16');
    const got = t.toTypedArray();
    expect(got).toBeInstanceOf(Float32Array);
    let bad = 0;
    for (let i = 0; i < xs.length; i++) if (!same(got[i], refBf16(xs[i]))) bad++;
    expect(bad).toBe(0);
    // the ties and edges by name
    expect(vals(kiln.tensor(Float32Array.of(1 + 2 ** -8, 1 + 3 * 2 ** -8, 2 ** -134, 3 * 2 ** -134, 3.4028234663852886e38), { dtype: 'bfloat16' })))
      .toEqual([1, 1 + 2 ** -6, 0, 2 ** -132, Infinity]);
    // casting a float32 tensor does the same
    const c = kiln.tensor(xs).to('bfloat16').toTypedArray();
    for (let i = 0; i < xs.length; i++) expect(same(c[i], got[i])).toBe(true);
    t.dispose();
  });

  it('float64 data rounds once (no double rounding through float32)', () => {
    // 1 + 2^-8 + 2^-40 is just above a tie: float32 would round it onto the tie (then to even, 1)
    const xs = [1 + 2 ** -8 + 2 ** -40, 1 + 2 ** -8 - 2 ** -40, -(1 + 2 ** -8 + 2 ** -40), 1e-45, 1e300, ...bf16Values(0, 0)];
    const r = rng(9);
    for (let i = 0; i < 500; i++) xs.push(r() * 10 ** Math.round(r() * 30));
    const got = vals(kiln.tensor(xs, { dtype: 'bfloat16' }));
    xs.forEach((x, i) => expect(same(got[i], refBf16(x)), `${x}`).toBe(true));
    expect(got.slice(0, 3)).toEqual([1 + 2 ** -7, 1, -(1 + 2 ** -7)]);
    const viaF64 = vals(kiln.tensor(Float64Array.from(xs), { dtype: 'float64' }).to('bfloat16'));
    expect(viaF64).toEqual(got);
  });

  it('int32 <-> bfloat16, bfloat16 -> float64 exactly, full/zeros/ones/randn in bfloat16', () => {
    const ints = [0, 1, -1, 255, 256, 257, 259, 1000001, -16777217, 2147483647];
    const b = kiln.tensor(ints, { dtype: 'int32' }).to('bfloat16');
    expect(vals(b)).toEqual(ints.map(refBf16));
    const back = kiln.tensor([1.5, -2.5, 300.7, NaN, -0.75], { dtype: 'bfloat16' }).to('int32');
    expect(vals(back)).toEqual([1, -2, 300, 0, 0]);
    const xs = bf16Values(50, 3, 100);
    expect(vals(bf16Tensor(xs, [50]).to('float64'))).toEqual(xs);
    expect(vals(kiln.full([3], 0.1, { dtype: 'bfloat16' }))).toEqual([refBf16(0.1), refBf16(0.1), refBf16(0.1)]);
    expect(vals(kiln.ones([2], { dtype: 'bfloat16' }))).toEqual([1, 1]);
    kiln.manualSeed(1);
    const rn = kiln.randn([1000], { dtype: 'bfloat16' });
    expect(rn.dtype).toBe('bfloat16');
    for (const v of vals(rn)) expect(refBf16(v)).toBe(v);
    expect(() => kiln.tensor([1], { dtype: 'bf16' as never })).toThrow(/dtype: expected one of .*'bfloat16', got bf16/);
  });

  it('2 bytes an element; item/toArray give float32 values; layout ops move the bits unchanged', () => {
    const before = kiln.memory().bytes;
    const t = bf16Tensor(bf16Values(24, 4, 8), [2, 3, 4]);
    expect(kiln.memory().bytes - before).toBe(48);
    const v = vals(t);
    expect(t.toArray()).toEqual([[v.slice(0, 4), v.slice(4, 8), v.slice(8, 12)], [v.slice(12, 16), v.slice(16, 20), v.slice(20, 24)]]);
    expect(t.reshape([24]).narrow(0, 5, 1).item()).toBe(v[5]);
    // transposes and permutes made contiguous, cat, stack, indexSelect, gather, flip
    const f = t.float();
    const pairs: [kiln.Tensor, kiln.Tensor][] = [
      [t.permute([2, 0, 1]).contiguous(), f.permute([2, 0, 1]).contiguous()],
      [kiln.cat([t, t.mul(2)], 1), kiln.cat([f, f.mul(2)], 1)],
      [kiln.stack([t, t], 0), kiln.stack([f, f], 0)],
      [t.indexSelect(2, kiln.tensor([3, 0, 0], { dtype: 'int32' })), f.indexSelect(2, kiln.tensor([3, 0, 0], { dtype: 'int32' }))],
      [t.gather(1, kiln.tensor([[[2, 1, 0, 0]], [[0, 0, 1, 2]]], { dtype: 'int32' })), f.gather(1, kiln.tensor([[[2, 1, 0, 0]], [[0, 0, 1, 2]]], { dtype: 'int32' }))],
      [kiln.flip(t, [1]), kiln.flip(f, [1])],
    ];
    for (const [a, b] of pairs) {
      expect(a.dtype).toBe('bfloat16');
      expect(vals(a)).toEqual(vals(b));
    }
  });

  it('matches PyTorch 1.13 (tests/fixtures/bf16): float32 -> bfloat16 bits, and a bfloat16 linear within one ulp', () => {
    const fx = JSON.parse(readFileSync(fileURLToPath(new URL('../fixtures/bf16/bf16.json', import.meta.url)), 'utf8'));
    const f32 = new Float32Array(Uint32Array.from(fx.rounding.f32).buffer);
    const got = kiln.tensor(f32, { dtype: 'bfloat16' }).toTypedArray();
    const gotBits = Array.from(new Uint32Array(got.buffer), (u) => u >>> 16);
    expect(gotBits).toEqual(fx.rounding.bf16);
    const fromBits = (b: number[]) => Array.from(new Float32Array(Uint32Array.from(b, (h) => h << 16).buffer));
    const { B, K, N } = fx.linear;
    const y = F.linear(bf16Tensor(fromBits(fx.linear.x), [B, K]), bf16Tensor(fromBits(fx.linear.w), [N, K]), bf16Tensor(fromBits(fx.linear.b), [N]));
    const want = fromBits(fx.linear.y);
    vals(y).forEach((v, i) => expect(Math.abs(v - want[i]), `y[${i}] ${v} vs torch ${want[i]}`).toBeLessThanOrEqual(bf16Ulp(want[i])));
  });

  it('promotes as PyTorch: with float32 -> float32, with int32 or a number -> bfloat16', () => {
    const a = bf16Tensor([1.5, -2, 3], [3]);
    expect(a.add(kiln.tensor([0.1, 0.2, 0.3])).dtype).toBe('float32');
    expect(vals(a.add(kiln.tensor([0.1, 0.2, 0.3])))).toEqual([1.5, -2, 3].map((x, i) => Math.fround(x + Math.fround([0.1, 0.2, 0.3][i]))));
    expect(a.add(kiln.tensor([1, 2, 3], { dtype: 'int32' })).dtype).toBe('bfloat16');
    expect(a.mul(kiln.tensor([1, 2, 3], { dtype: 'float64' })).dtype).toBe('float64');
    // a number stays float32 inside the op: x * 0.1 is bf16(float32(x * 0.1)), not x * bf16(0.1)
    expect(vals(a.mul(0.1))).toEqual([1.5, -2, 3].map((x) => refBf16(Math.fround(x * Math.fround(0.1)))));
    expect(a.matmul(kiln.tensor([1, 1, 1]).reshape([3, 1])).dtype).toBe('float32');
    expect(a.gt(0).dtype).toBe('float32');
  });
});

/** max over i of |got - ref| / (2^-8 |ref| + 2^-18 scale): <= 1 passes (bfloat16 rounding plus float32 summation). */
function gemmErr(got: number[], ref: number[], scale: number[]): number {
  let w = 0;
  for (let i = 0; i < ref.length; i++) w = Math.max(w, Math.abs(got[i] - ref[i]) / (2 ** -8 * Math.abs(ref[i]) + 2 ** -18 * scale[i]));
  return w;
}

/** float64 a [M, K] @ b [K, N] and the sums of |products| (for the summation allowance). */
function mm64(a: number[], b: number[], M: number, K: number, N: number): [number[], number[]] {
  const out = new Array<number>(M * N).fill(0), s = new Array<number>(M * N).fill(0);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) for (let k = 0; k < K; k++) {
    out[i * N + j] += a[i * K + k] * b[k * N + j];
    s[i * N + j] += Math.abs(a[i * K + k] * b[k * N + j]);
  }
  return [out, s];
}

describe('bfloat16 GEMM-backed ops', () => {
  it('matmul reads bfloat16 storage: plain, transposed views, odd and long K, batched with broadcast, vectors', () => {
    for (const [M, K, N, seed] of [[5, 7, 3, 1], [13, 301, 17, 2], [33, 64, 40, 3], [1, 1025, 2, 4]]) {
      const av = bf16Values(M * K, seed, 2), bv = bf16Values(K * N, seed + 50, 2);
      const a = bf16Tensor(av, [M, K]), b = bf16Tensor(bv, [K, N]);
      const [ref, s] = mm64(av, bv, M, K, N);
      const y = a.matmul(b);
      expect(y.dtype).toBe('bfloat16');
      const got = vals(y);
      for (const g of got) expect(refBf16(g)).toBe(g); // the output is stored in bfloat16
      expect(gemmErr(got, ref, s), `${M}x${K}x${N}`).toBeLessThanOrEqual(1);
      // b given as the transposed view of its transpose: read in place, trans = true
      const bt = bf16Tensor(Array.from({ length: K * N }, (_, i) => bv[(i % K) * N + Math.floor(i / K)]), [N, K]).t();
      expect(vals(a.matmul(bt))).toEqual(got);
      // the float32 product of the widened values rounds to the same within one bfloat16 ulp
      const f = vals(a.float().matmul(b.float()));
      got.forEach((g, i) => expect(Math.abs(g - f[i])).toBeLessThanOrEqual(bf16Ulp(f[i])));
    }
    // batched [2, 3, 6] @ [6, 4] broadcast over the batch, and a vector
    const av = bf16Values(36, 7), bv = bf16Values(24, 8);
    const y = bf16Tensor(av, [2, 3, 6]).matmul(bf16Tensor(bv, [6, 4]));
    expect(y.shape).toEqual([2, 3, 4]);
    const [ref, s] = mm64(av, bv, 6, 6, 4);
    expect(gemmErr(vals(y), ref, s)).toBeLessThanOrEqual(1);
    const v = bf16Tensor(av, [2, 3, 6]).matmul(bf16Tensor(bv.slice(0, 6), [6]));
    expect(v.shape).toEqual([2, 3]);
    const [rv, sv] = mm64(av, bv.slice(0, 6), 6, 6, 1);
    expect(gemmErr(vals(v), rv, sv)).toBeLessThanOrEqual(1);
  });

  it('linear (fused, 2-D and 3-D input) and nn.Linear in bfloat16: x W^T + b accumulated in float32, rounded once', () => {
    const [B, K, N] = [9, 37, 6];
    const xv = bf16Values(B * K, 11), wv = bf16Values(N * K, 12), bv = bf16Values(N, 13);
    const wt = Array.from({ length: K * N }, (_, i) => wv[(i % N) * K + Math.floor(i / N)]);
    const [prod, s] = mm64(xv, wt, B, K, N);
    const ref = prod.map((p, i) => p + bv[i % N]);
    const y = F.linear(bf16Tensor(xv, [B, K]), bf16Tensor(wv, [N, K]), bf16Tensor(bv, [N]));
    expect(y.dtype).toBe('bfloat16');
    expect(gemmErr(vals(y), ref, s)).toBeLessThanOrEqual(1);
    const y3 = F.linear(bf16Tensor(xv, [3, 3, K]), bf16Tensor(wv, [N, K]), bf16Tensor(bv, [N]));
    expect(y3.shape).toEqual([3, 3, N]);
    expect(vals(y3)).toEqual(vals(y));
    const lin = new kiln.nn.Linear(K, N).to('bfloat16');
    expect(lin.weight.dtype).toBe('bfloat16');
    expect(lin.forward(bf16Tensor(xv, [B, K])).dtype).toBe('bfloat16');
  });

  it('conv2d in bfloat16 (stride, padding, bias) within bfloat16 rounding of the float64 convolution', () => {
    const [N, C, H, W, OC, k] = [2, 3, 7, 6, 4, 3];
    const xv = bf16Values(N * C * H * W, 21), wv = bf16Values(OC * C * k * k, 22), bv = bf16Values(OC, 23);
    const y = F.conv2d(bf16Tensor(xv, [N, C, H, W]), bf16Tensor(wv, [OC, C, k, k]), bf16Tensor(bv, [OC]), { stride: 2, padding: 1 });
    expect(y.dtype).toBe('bfloat16');
    const [OH, OW] = [4, 3];
    expect(y.shape).toEqual([N, OC, OH, OW]);
    const ref: number[] = [], sc: number[] = [];
    for (let n = 0; n < N; n++) for (let o = 0; o < OC; o++) for (let i = 0; i < OH; i++) for (let j = 0; j < OW; j++) {
      let acc = bv[o], s = Math.abs(bv[o]);
      for (let c = 0; c < C; c++) for (let p = 0; p < k; p++) for (let q = 0; q < k; q++) {
        const hi = i * 2 - 1 + p, wj = j * 2 - 1 + q;
        if (hi < 0 || hi >= H || wj < 0 || wj >= W) continue;
        const t = xv[((n * C + c) * H + hi) * W + wj] * wv[((o * C + c) * k + p) * k + q];
        acc += t;
        s += Math.abs(t);
      }
      ref.push(acc);
      sc.push(s);
    }
    expect(gemmErr(vals(y), ref, sc)).toBeLessThanOrEqual(1);
    const conv = new kiln.nn.Conv2d(C, OC, k).bfloat16();
    expect(conv.forward(bf16Tensor(xv, [N, C, H, W])).dtype).toBe('bfloat16');
  });

  it('every other op is float32 math rounded once, or a KilnError naming bfloat16', () => {
    const xv = bf16Values(24, 31, 3).map((v) => (v === 0 ? 0.5 : v));
    const x = bf16Tensor(xv, [4, 6]);
    const y = bf16Tensor(bf16Values(24, 32, 3), [4, 6]);
    const ops: [string, (a: kiln.Tensor, b: kiln.Tensor) => kiln.Tensor][] = [
      ['neg', (a) => a.neg()], ['exp', (a) => a.exp()], ['log', (a) => a.abs().log()], ['sqrt', (a) => a.abs().sqrt()],
      ['relu', (a) => a.relu()], ['sigmoid', (a) => a.sigmoid()], ['tanh', (a) => a.tanh()], ['gelu', (a) => F.gelu(a)],
      ['square', (a) => a.square()], ['sin', (a) => a.sin()], ['clamp', (a) => a.clamp(-1, 1)], ['pow', (a) => a.abs().pow(0.5)],
      ['add', (a, b) => a.add(b)], ['sub', (a, b) => a.sub(b, 2)], ['mul', (a, b) => a.mul(b)], ['div', (a, b) => a.div(b)],
      ['maximum', (a, b) => kiln.maximum(a, b)], ['broadcast', (a, b) => a.mul(b.narrow(0, 1, 1))], ['addScalar', (a) => a.add(0.3)],
      ['where', (a, b) => kiln.where(a.gt(0), a, b)], ['softmax', (a) => F.softmax(a, -1)], ['logSoftmax', (a) => F.logSoftmax(a, 0)],
      ['sum', (a) => a.sum()], ['sum1', (a) => a.sum(1)], ['mean', (a) => a.mean(0)], ['max', (a) => a.max(1)], ['min', (a) => a.min()],
      ['logsumexp', (a) => kiln.logsumexp(a, 1)], ['var', (a) => kiln.var(a, 1)], ['std', (a) => kiln.std(a, 0)], ['norm', (a) => kiln.norm(a)],
      ['cumsum', (a) => kiln.cumsum(a, 1)], ['sortValues', (a) => kiln.sort(a, 1).values], ['layerNorm', (a) => F.layerNorm(a, [6])],
      ['dropoutEval', (a) => F.dropout(a, 0.5, false)], ['tril', (a) => kiln.tril(a)], ['maxPool', (a) => F.maxPool2d(a.reshape([1, 1, 4, 6]), 2)],
      ['avgPool', (a) => F.avgPool2d(a.reshape([1, 1, 4, 6]), 2)], ['crossEntropy', (a) => F.crossEntropy(a, kiln.tensor([0, 5, 2, 1], { dtype: 'int32' }))],
      ['mse', (a, b) => F.mseLoss(a, b)], ['scatterAdd', (a, b) => a.scatterAdd(1, kiln.zeros([4, 6], { dtype: 'int32' }), b)],
    ];
    for (const [name, op] of ops) {
      const got = op(x, y);
      const want = op(x.float(), y.float());
      expect(got.dtype, name).toBe('bfloat16');
      expect(got.shape, name).toEqual(want.shape);
      const g = vals(got), w = vals(want);
      // float32 math, then one rounding (a tie after float32 rounding may land one ulp away)
      g.forEach((v, i) => expect(Math.abs(v - w[i]) <= bf16Ulp(w[i]) / 2 || same(v, w[i]), `${name}[${i}]: ${v} vs ${w[i]}`).toBe(true));
    }
    // comparisons give float32 masks, argmax int32, exactly as on the widened values
    expect(vals(x.gt(y))).toEqual(vals(x.float().gt(y.float())));
    expect(vals(x.argmax(1))).toEqual(vals(x.float().argmax(1)));
    // in-place arithmetic rounds in place, after each op as the out-of-place ops do
    const z = x.clone();
    z.mul_(y).add_(0.25).sub_(kiln.tensor([0.1]));
    expect(z.dtype).toBe('bfloat16');
    expect(vals(z)).toEqual(vals(x.mul(y).add(0.25).sub(kiln.tensor([0.1])).to('bfloat16')));
  });

  it('refuses what has no bfloat16 path with a KilnError naming the op and the dtype', () => {
    const x = bf16Tensor(bf16Values(16, 41), [2, 2, 4]);
    const err = (f: () => unknown, re: RegExp) => {
      expect(f).toThrow(kiln.KilnError);
      expect(f).toThrow(re);
    };
    err(() => F.scaledDotProductAttention(x, x, x), /scaledDotProductAttention: query: expected a float32 tensor, got bfloat16/);
    err(() => F.batchNorm(x, null, null, null, null, { training: true }), /batchNorm: input: expected a float32 tensor, got bfloat16/);
    err(() => new kiln.nn.LSTM(4, 3).to('bfloat16').forward(x), /lstm.*: proj: expected a float32 tensor, got bfloat16/i);
    err(() => kiln.linalg.cholesky(bf16Tensor([4, 1, 1, 3], [2, 2])), /cholesky.*got bfloat16 \(linalg has no bfloat16 kernels/);
    err(() => F.conv2d(x.reshape([1, 2, 2, 4]), kiln.ones([1, 2, 1, 1])), /conv2d: input, weight and bias must share a dtype, got bfloat16, float32/);
    // the binding's backstop: a float kernel handed bfloat16 storage names the op, never reads it
    const out = kiln.zeros([16], { dtype: 'bfloat16' });
    err(() => native.unary(0, out.storage.handle, 0, x.storage.handle, 0, 16, 0, 0), /unary: y: bfloat16 tensors are not supported by this kernel/);
    err(() => native.adamStep(out.storage.handle, 0, x.storage.handle, 0, out.storage.handle, 0, out.storage.handle, 0, null, 0, 16,
      1e-3, 0.9, 0.999, 1e-8, 0, 1, false, false, false), /adamStep: p: bfloat16 tensors are not supported/);
  });
});

describe('bfloat16 autograd', () => {
  // loss = sum(f(inputs) * R), R bfloat16-exact; gradients in bfloat16 against float32 finite differences
  function check(f: (xs: kiln.Tensor[]) => kiln.Tensor, shapes: number[][], seed: number, rShape: number[]): void {
    const values = shapes.map((s, i) => bf16Values(s.reduce((a, b) => a * b, 1), seed + i, 1.5));
    const R = bf16Values(rShape.reduce((a, b) => a * b, 1), seed + 99);
    const loss = (xs: kiln.Tensor[]) => f(xs).mul(kiln.tensor(R, { shape: rShape, dtype: xs[0].dtype })).sum();
    const leaves = values.map((v, i) => bf16Tensor(v, shapes[i], true));
    const L = loss(leaves);
    expect(L.dtype).toBe('bfloat16');
    L.backward();
    const ref = fdGrads(loss, values, shapes);
    leaves.forEach((t, i) => {
      expect(t.grad!.dtype).toBe('bfloat16');
      const g = vals(t.grad!);
      const scale = Math.max(...ref[i].map(Math.abs));
      g.forEach((v, j) => expect(Math.abs(v - ref[i][j]), `input ${i}[${j}]: ${v} vs ${ref[i][j]}`)
        .toBeLessThanOrEqual(2 ** -7 * Math.abs(ref[i][j]) + 1e-2 * scale));
    });
  }

  it('linear (x, W, b), matmul with a broadcast batch, conv2d (x, W, b)', () => {
    check(([x, w, b]) => F.linear(x, w, b), [[5, 7], [4, 7], [4]], 1, [5, 4]);
    check(([a, b]) => a.matmul(b), [[2, 3, 4], [4, 5]], 2, [2, 3, 5]);
    check(([x, w, b]) => F.conv2d(x, w, b, { padding: 1 }), [[2, 2, 4, 4], [3, 2, 3, 3], [3]], 3, [2, 3, 4, 4]);
  });

  it('a small MLP with softmax cross-entropy, elementwise ops and reductions', () => {
    const target = kiln.tensor([2, 0, 1, 2], { dtype: 'int32' });
    check(([x, w1, w2]) => {
      const h = F.linear(x, w1).tanh();
      return F.crossEntropy(F.linear(h, w2), target, { reduction: 'none' });
    }, [[4, 6], [5, 6], [3, 5]], 4, [4]);
    check(([a, b]) => a.mul(b).add(a.exp()).div(b.abs().add(1)).mean(1), [[3, 4], [3, 4]], 5, [3]);
  });
});
