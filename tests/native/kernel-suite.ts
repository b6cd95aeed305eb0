// Every CPU kernel (except gemm) against a float64 JavaScript reference on random inputs.
// Shared by the per-ISA test files, which load the addon under a chosen KILN_CPU first.
import { describe, expect, it } from 'vitest';

import {
  Buffers,
  type Native,
  F32,
  I32,
  broadcastStrides,
  contiguousStrides,
  erf,
  expectClose,
  expectEqualInts,
  randArray,
  randInts,
  rng,
  viewOffsets,
} from './kernel-helpers';
import { vectorSuite } from './vector-suite';

// Op codes (native/include/backend.h).
const U = {
  Neg: 0, Exp: 1, Log: 2, Sqrt: 3, Rsqrt: 4, Abs: 5, Sign: 6, Relu: 7, Sigmoid: 8, Tanh: 9, Gelu: 10,
  LeakyRelu: 11, Clamp: 12, PowScalar: 13, AddScalar: 14, MulScalar: 15, Square: 16, Reciprocal: 17,
  Sin: 18, Cos: 19, RSubScalar: 20,
} as const;
const B = { Add: 0, Sub: 1, Mul: 2, Div: 3, Pow: 4, Max: 5, Min: 6, Eq: 7, Ne: 8, Gt: 9, Ge: 10, Lt: 11, Le: 12 } as const;
const R = { Sum: 0, Mean: 1, Max: 2, Min: 3, ArgMax: 4, ArgMin: 5 } as const;

const ODD_SIZES = [1, 7, 33, 1000];
const BIG = 1000003;

export function kernelSuite(native: Native, forcedIsa: string | null): void {
  const buf = new Buffers(native);

  describe(`cpu kernels (${forcedIsa ?? 'detected isa'})`, () => {
    it('reports the instruction set in use', () => {
      const info = native.cpuInfo();
      expect(['portable', 'avx2', 'avx512']).toContain(info.isa);
      if (forcedIsa) expect(info.isa).toBe(forcedIsa);
      else expect(info.isa).toBe(info.detectedIsa);
    });

    describe('layout', () => {
      it('fills float32 and int32', () => {
        for (const n of [1, 7, 33, BIG]) {
          const f = buf.poisoned(n);
          native.fill(f, 0, n, 2.5);
          expect(buf.readF32(f, n).every((v) => v === 2.5)).toBe(true);
          const i = buf.poisoned(n, I32);
          native.fill(i, 0, n, -3);
          expect(buf.readI32(i, n).every((v) => v === -3)).toBe(true);
        }
      });

      it('casts float32 <-> int32 truncating toward zero', () => {
        const src = [0, 0.9, -0.9, 2.7, -2.7, 1e6 + 0.5, -123456.75, 7];
        const out = buf.poisoned(src.length, I32);
        native.cast(out, 0, buf.f32(src), 0, src.length);
        expectEqualInts(buf.readI32(out, src.length), src.map((v) => Math.trunc(Math.fround(v))), 'f32->i32');
        const ints = randInts(1001, 3, -100000, 100000);
        const back = buf.poisoned(ints.length);
        native.cast(back, 0, buf.i32(ints), 0, ints.length);
        expectClose(buf.readF32(back, ints.length), ints, 0, 0, 'i32->f32');
      });

      it("casts and fills with Kiln's one rule: NaN gives 0, out-of-range values saturate", () => {
        const src = [NaN, Infinity, -Infinity, 3e9, -3e9, 2147483520, -2147483648, -0.5];
        const expected = [0, 2147483647, -2147483648, 2147483647, -2147483648, 2147483520, -2147483648, 0];
        const out = buf.poisoned(src.length, I32);
        native.cast(out, 0, buf.f32(src), 0, src.length);
        expectEqualInts(buf.readI32(out, src.length), expected, 'f32->i32 edges');
        const filled = buf.poisoned(3, I32);
        for (const [v, e] of [[NaN, 0], [1e12, 2147483647], [-7.9, -7]]) {
          native.fill(filled, 0, 3, v);
          expectEqualInts(buf.readI32(filled, 3), [e, e, e], `fill ${v}`);
        }
      });

      it('copyStrided writes a strided slab from any view (the parts of a concatenation)', () => {
        // out [3, 9, 4] gets a [3, 5, 4] part at rows 2..6 of dim 1, read from a transposed and
        // from a broadcast source; the rest of out keeps its poison
        const outShape = [3, 9, 4];
        const outStrides = contiguousStrides(outShape);
        const partShape = [3, 5, 4];
        const base = randArray(4 * 5 * 3, 21);
        for (const srcStrides of [[1, 12, 3], [0, 4, 1]]) {
          const out = buf.poisoned(3 * 9 * 4);
          native.copyStrided(out, 2 * outStrides[1], buf.f32(base), 0, partShape, outStrides, srcStrides);
          const got = buf.readF32(out, 3 * 9 * 4);
          const expected = Array.from(got, () => NaN);
          const dst = viewOffsets(partShape, outStrides);
          const srcOff = viewOffsets(partShape, srcStrides);
          dst.forEach((o, i) => (expected[2 * outStrides[1] + o] = base[srcOff[i]]));
          expectClose(got, expected, 0, 0, `copyStrided from ${JSON.stringify(srcStrides)}`);
        }
        // int32 is moved bit for bit
        const ints = [2147483647, -2147483648, 16777217, -1];
        const iout = buf.poisoned(8, I32);
        native.copyStrided(iout, 1, buf.i32(ints), 0, [4], [2], [1]);
        expectEqualInts(buf.readI32(iout, 8), [-777777, ints[0], -777777, ints[1], -777777, ints[2], -777777, ints[3]], 'i32 slab');
      });

      it('copies strided views (transposes, broadcasts, slices, scalars, empty dims)', () => {
        const base = randArray(4 * 5 * 6, 1);
        const cases: Array<{ shape: number[]; strides: number[]; off: number }> = [
          { shape: [6, 5, 4], strides: [1, 6, 30], off: 0 }, // full reverse permute of [4,5,6]
          { shape: [4, 6, 5], strides: [30, 1, 6], off: 0 }, // inner dim strided
          { shape: [4, 5, 3], strides: [30, 6, 1], off: 2 }, // inner contiguous slice
          { shape: [3, 4, 7], strides: [0, 30, 1], off: 1 }, // broadcast outer dim
          { shape: [2, 1, 3, 1, 2], strides: [60, 99, 6, 99, 1], off: 0 }, // size-1 dims
          { shape: [], strides: [], off: 17 }, // scalar
          { shape: [3, 0, 2], strides: [1, 1, 1], off: 0 }, // empty
          { shape: [7], strides: [0], off: 5 }, // expanded scalar
        ];
        // tiled-transpose fast path: 2-D, batched, edge tiles, broadcast batch
        const big = randArray(3 * 41 * 37, 4);
        const bigCases = [
          { shape: [37, 41], strides: [1, 37], off: 0 },
          { shape: [3, 37, 41], strides: [41 * 37, 1, 37], off: 0 },
          { shape: [2, 33, 40], strides: [0, 1, 37], off: 3 },
          { shape: [40, 2, 33], strides: [37, 0, 1], off: 0 },
        ];
        for (const { shape, strides, off } of bigCases) {
          const n = shape.reduce((a, b) => a * b, 1);
          const out = buf.poisoned(n);
          native.stridedCopy(out, 0, buf.f32(big), off, shape, strides);
          const expected = viewOffsets(shape, strides).map((o) => big[off + o]);
          expectClose(buf.readF32(out, n), expected, 0, 0, `transpose ${JSON.stringify(shape)}`);
        }
        const src = buf.f32(base);
        for (const { shape, strides, off } of cases) {
          const n = shape.reduce((a, b) => a * b, 1);
          const out = buf.poisoned(n);
          native.stridedCopy(out, 0, src, off, shape, strides);
          const expected = viewOffsets(shape, strides).map((o) => base[off + o]);
          expectClose(buf.readF32(out, n), expected, 0, 0, `stridedCopy ${JSON.stringify(shape)}`);
        }
        // int32 goes through the same path
        const ints = randInts(24, 2, -50, 50);
        const out = buf.poisoned(24, I32);
        native.stridedCopy(out, 0, buf.i32(ints), 0, [4, 6], [1, 4]);
        expectEqualInts(buf.readI32(out, 24), viewOffsets([4, 6], [1, 4]).map((o) => ints[o]), 'i32 transpose');
      });
    });

    describe('unary', () => {
      const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
      // [op, domain, forward, backward(g, x, y), alpha, beta]
      type Case = [string, number, [number, number], (x: number) => number, (g: number, x: number, y: number) => number, number, number];
      const cases: Case[] = [
        ['neg', U.Neg, [-3, 3], (x) => -x, (g) => -g, 0, 0],
        ['exp', U.Exp, [-5, 5], Math.exp, (g, _x, y) => g * y, 0, 0],
        ['log', U.Log, [0.01, 10], Math.log, (g, x) => g / x, 0, 0],
        ['sqrt', U.Sqrt, [0.01, 10], Math.sqrt, (g, _x, y) => (0.5 * g) / y, 0, 0],
        ['rsqrt', U.Rsqrt, [0.01, 10], (x) => 1 / Math.sqrt(x), (g, _x, y) => -0.5 * g * y * y * y, 0, 0],
        ['abs', U.Abs, [-3, 3], Math.abs, (g, x) => g * Math.sign(x), 0, 0],
        ['sign', U.Sign, [-3, 3], Math.sign, () => 0, 0, 0],
        ['relu', U.Relu, [-3, 3], (x) => Math.max(x, 0), (g, x) => (x > 0 ? g : 0), 0, 0],
        ['sigmoid', U.Sigmoid, [-30, 30], sigmoid, (g, _x, y) => g * y * (1 - y), 0, 0],
        ['tanh', U.Tanh, [-4, 4], Math.tanh, (g, _x, y) => g * (1 - y * y), 0, 0],
        ['gelu', U.Gelu, [-5, 5], (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
          (g, x) => g * (0.5 * (1 + erf(x / Math.SQRT2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI)), 0, 0],
        ['leakyRelu', U.LeakyRelu, [-3, 3], (x) => (x > 0 ? x : 0.1 * x), (g, x) => (x > 0 ? g : 0.1 * g), 0.1, 0],
        ['clamp', U.Clamp, [-3, 3], (x) => Math.min(Math.max(x, -1), 1.5), (g, x) => (x >= -1 && x <= 1.5 ? g : 0), -1, 1.5],
        ['pow 2.5', U.PowScalar, [0.1, 3], (x) => x ** 2.5, (g, x) => g * 2.5 * x ** 1.5, 2.5, 0],
        ['pow 2', U.PowScalar, [-3, 3], (x) => x * x, (g, x) => g * 2 * x, 2, 0],
        ['addScalar', U.AddScalar, [-3, 3], (x) => x + 0.75, (g) => g, 0.75, 0],
        ['mulScalar', U.MulScalar, [-3, 3], (x) => x * -1.5, (g) => g * -1.5, -1.5, 0],
        ['square', U.Square, [-3, 3], (x) => x * x, (g, x) => 2 * x * g, 0, 0],
        ['reciprocal', U.Reciprocal, [0.1, 3], (x) => 1 / x, (g, x) => -g / (x * x), 0, 0],
        ['sin', U.Sin, [-6, 6], Math.sin, (g, x) => g * Math.cos(x), 0, 0],
        ['cos', U.Cos, [-6, 6], Math.cos, (g, x) => -g * Math.sin(x), 0, 0],
        ['rsubScalar', U.RSubScalar, [-3, 3], (x) => 2 - x, (g) => -g, 2, 0],
      ];

      for (const [name, op, [lo, hi], fwd, bwd, alpha, beta] of cases) {
        it(`${name}: forward and backward match float64`, () => {
          for (const n of ODD_SIZES) {
            const xs = randArray(n, 10 + op + n, lo, hi);
            const x = buf.f32(xs);
            const y = buf.poisoned(n);
            native.unary(op, y, 0, x, 0, n, alpha, beta);
            const ys = buf.readF32(y, n);
            expectClose(ys, Array.from(xs, fwd), 2e-6, 1e-6, `${name} fwd`);
            const gs = randArray(n, 20 + op + n, -1, 1);
            const dx = buf.poisoned(n);
            native.unaryBackward(op, dx, 0, buf.f32(gs), 0, x, 0, y, 0, n, alpha, beta);
            // The reference derivative reads the float32 y the kernel produced.
            const expected = Array.from(xs, (v, i) => bwd(gs[i], v, ys[i]));
            expectClose(buf.readF32(dx, n), expected, 1e-5, 1e-6, `${name} bwd`);
          }
        });
      }

      it('handles a large odd-sized input across threads', () => {
        const xs = randArray(BIG, 5, -8, 8);
        const y = buf.poisoned(BIG);
        native.unary(U.Sigmoid, y, 0, buf.f32(xs), 0, BIG, 0, 0);
        expectClose(buf.readF32(y, BIG), Array.from(xs, sigmoid), 2e-6, 1e-7, 'sigmoid big');
      });

      it('edge values: sigmoid saturates without NaN, relu/clamp keep NaN, sign(0) = 0', () => {
        const xs = [-1000, -100, 100, 1000, 0, -0, NaN, Infinity, -Infinity];
        const x = buf.f32(xs);
        const y = buf.poisoned(xs.length);
        native.unary(U.Sigmoid, y, 0, x, 0, xs.length, 0, 0);
        expectClose(buf.readF32(y, xs.length), [0, 3.720076e-44, 1, 1, 0.5, 0.5, NaN, 1, 0], 1e-5, 1e-44, 'sigmoid');
        native.unary(U.Relu, y, 0, x, 0, xs.length, 0, 0);
        expectClose(buf.readF32(y, xs.length), [0, 0, 100, 1000, 0, 0, NaN, Infinity, 0], 0, 0, 'relu');
        native.unary(U.Sign, y, 0, x, 0, xs.length, 0, 0);
        expectClose(buf.readF32(y, xs.length), [-1, -1, 1, 1, 0, 0, NaN, 1, -1], 0, 0, 'sign');
        native.unary(U.Clamp, y, 0, x, 0, xs.length, -1, 1);
        expectClose(buf.readF32(y, xs.length), [-1, -1, 1, 1, 0, 0, NaN, 1, -1], 0, 0, 'clamp');
        // relu backward at exactly 0 gives 0; clamp backward passes at the bounds
        const dx = buf.poisoned(3);
        native.unaryBackward(U.Relu, dx, 0, buf.f32([1, 1, 1]), 0, buf.f32([0, 1, -1]), 0, null, 0, 3, 0, 0);
        expectClose(buf.readF32(dx, 3), [0, 1, 0], 0, 0, 'relu bwd');
        native.unaryBackward(U.Clamp, dx, 0, buf.f32([1, 1, 1]), 0, buf.f32([-1, 1, 1.01]), 0, null, 0, 3, -1, 1);
        expectClose(buf.readF32(dx, 3), [1, 1, 0], 0, 0, 'clamp bwd');
      });
    });

    describe('binary and where', () => {
      const fOps: Array<[string, number, (a: number, b: number) => number]> = [
        ['add', B.Add, (a, b) => a + b],
        ['sub', B.Sub, (a, b) => a - b],
        ['mul', B.Mul, (a, b) => a * b],
        ['div', B.Div, (a, b) => a / b],
        ['pow', B.Pow, (a, b) => Math.abs(a) ** b],
        ['max', B.Max, Math.max],
        ['min', B.Min, Math.min],
        ['eq', B.Eq, (a, b) => +(a === b)],
        ['ne', B.Ne, (a, b) => +(a !== b)],
        ['gt', B.Gt, (a, b) => +(a > b)],
        ['ge', B.Ge, (a, b) => +(a >= b)],
        ['lt', B.Lt, (a, b) => +(a < b)],
        ['le', B.Le, (a, b) => +(a <= b)],
      ];
      // [out shape, a shape, b shape]
      const shapes: Array<[number[], number[], number[]]> = [
        [[33], [33], [33]],
        [[5, 7], [], [5, 7]],
        [[5, 7], [5, 7], []],
        [[3, 4, 5], [3, 1, 5], [1, 4, 5]],
        [[4, 6], [4, 1], [4, 6]],
        [[4, 6], [6], [4, 1]],
        [[2, 1, 3, 1, 9], [2, 1, 3, 1, 9], [1, 1, 1, 1, 9]],
        [[0, 3], [0, 3], [3]],
        [[], [], []],
        [[2, 3, 4, 5, 2, 3], [2, 1, 4, 1, 2, 3], [1, 3, 1, 5, 1, 3]],
      ];

      const run = (op: number, dt: number, outShape: number[], aShape: number[], bShape: number[],
        as: ArrayLike<number>, bs: ArrayLike<number>, aStrides = broadcastStrides(aShape, outShape),
        bStrides = broadcastStrides(bShape, outShape)) => {
        const n = outShape.reduce((x, y) => x * y, 1);
        const compare = op >= B.Eq;
        const outDt = compare ? F32 : dt;
        const out = buf.poisoned(n, outDt);
        const mk = (d: ArrayLike<number>) => (dt === F32 ? buf.f32(d) : buf.i32(d));
        native.binary(op, out, 0, mk(as), 0, mk(bs), 0, outShape, aStrides, bStrides);
        return outDt === F32 ? buf.readF32(out, n) : buf.readI32(out, n);
      };

      for (const [name, op, f] of fOps) {
        it(`${name} (float32) broadcasts like PyTorch`, () => {
          for (const [outShape, aShape, bShape] of shapes) {
            const na = aShape.reduce((x, y) => x * y, 1);
            const nb = bShape.reduce((x, y) => x * y, 1);
            // small integer-valued data so comparisons see ties; pow uses |a| as base
            let as: Float32Array = Float32Array.from(randInts(na, 7 + op, -3, 4));
            let bs: Float32Array = Float32Array.from(randInts(nb, 8 + op, -3, 4));
            if (op === B.Pow) {
              as = as.map((v) => Math.abs(v) + 0.5);
              bs = randArray(nb, 9, -2, 2);
            }
            if (op === B.Div) bs = bs.map((v) => (v === 0 ? 0.5 : v));
            const aS = broadcastStrides(aShape, outShape);
            const bS = broadcastStrides(bShape, outShape);
            const aOff = viewOffsets(outShape, aS);
            const bOff = viewOffsets(outShape, bS);
            const expected = aOff.map((o, i) => f(as[o], bs[bOff[i]]));
            const got = run(op, F32, outShape, aShape, bShape, as, bs);
            expectClose(got, expected, 2e-6, 0, `${name} ${JSON.stringify(outShape)}`);
          }
        });
      }

      it('int32 add/sub/mul/max/min and comparisons', () => {
        const iOps: Array<[number, (a: number, b: number) => number]> = [
          [B.Add, (a, b) => (a + b) | 0], [B.Sub, (a, b) => (a - b) | 0], [B.Mul, (a, b) => Math.imul(a, b)],
          [B.Max, Math.max], [B.Min, Math.min], [B.Eq, (a, b) => +(a === b)], [B.Lt, (a, b) => +(a < b)],
          [B.Ge, (a, b) => +(a >= b)],
        ];
        for (const [op, f] of iOps) {
          for (const [outShape, aShape, bShape] of shapes) {
            const na = aShape.reduce((x, y) => x * y, 1);
            const nb = bShape.reduce((x, y) => x * y, 1);
            const as = randInts(na, 30 + op, -5, 5);
            const bs = randInts(nb, 40 + op, -5, 5);
            const aOff = viewOffsets(outShape, broadcastStrides(aShape, outShape));
            const bOff = viewOffsets(outShape, broadcastStrides(bShape, outShape));
            const expected = aOff.map((o, i) => f(as[o], bs[bOff[i]]));
            expectClose(run(op, I32, outShape, aShape, bShape, as, bs), expected, 0, 0, `i32 op ${op}`);
          }
        }
        // wrap-around like two's complement
        expectEqualInts(run(B.Add, I32, [1], [1], [1], [2147483647], [1]), [-2147483648], 'i32 wrap');
      });

      it('non-contiguous inputs (a transposed) and a large contiguous run', () => {
        const as = randArray(6 * 9, 50);
        const bs = randArray(9 * 6, 51);
        const got = run(B.Mul, F32, [9, 6], [9, 6], [9, 6], as, bs, [1, 9], [6, 1]);
        const aOff = viewOffsets([9, 6], [1, 9]);
        expectClose(got, aOff.map((o, i) => as[o] * bs[i]), 1e-7, 0, 'transposed');
        const xa = randArray(BIG, 52);
        const xb = randArray(BIG, 53);
        expectClose(run(B.Sub, F32, [BIG], [BIG], [BIG], xa, xb), Array.from(xa, (v, i) => v - xb[i]), 1e-6, 1e-7, 'big');
        expectClose(run(B.Add, F32, [BIG], [BIG], [], xa, [1.5]), Array.from(xa, (v) => v + 1.5), 1e-6, 1e-7, 'big scalar');
      });

      it('in place: out may be exactly a or b (float32 and int32), the other operand broadcast or not', () => {
        for (const n of [37, BIG]) {
          const as = randArray(n, 60);
          const bs = randArray(n, 61);
          const a = buf.f32(as);
          native.binary(B.Sub, a, 0, a, 0, buf.f32(bs), 0, [n], [1], [1]); // a -= b
          expectClose(buf.readF32(a, n), Array.from(as, (v, i) => Math.fround(v - bs[i])), 0, 0, `a -= b (${n})`);
          const b = buf.f32(bs);
          native.binary(B.Sub, b, 0, buf.f32(as), 0, b, 0, [n], [1], [1]); // b = a - b
          expectClose(buf.readF32(b, n), Array.from(as, (v, i) => Math.fround(v - bs[i])), 0, 0, `b = a - b (${n})`);
          const c = buf.f32(as);
          native.binary(B.Mul, c, 0, c, 0, c, 0, [n], [1], [1]); // c *= c
          expectClose(buf.readF32(c, n), Array.from(as, (v) => Math.fround(v * v)), 0, 0, `c *= c (${n})`);
          const d = buf.f32(as);
          native.unary(U.MulScalar, d, 0, d, 0, n, 3, 0); // d *= 3
          expectClose(buf.readF32(d, n), Array.from(as, (v) => Math.fround(v * 3)), 0, 0, `d *= 3 (${n})`);
        }
        const rows = buf.f32([1, 2, 3, 4, 5, 6]);
        native.binary(B.Add, rows, 0, rows, 0, buf.f32([10, 20, 30]), 0, [2, 3], [3, 1], [0, 1]); // += row vector
        expectClose(buf.readF32(rows, 6), [11, 22, 33, 14, 25, 36], 0, 0, 'broadcast b in place');
        const ints = buf.i32([2147483647, 5, -7]);
        native.binary(B.Add, ints, 0, ints, 0, buf.i32([1]), 0, [3], [1], [0]);
        expectEqualInts(buf.readI32(ints, 3), [-2147483648, 6, -6], 'int32 in place');
      });

      it('max/min propagate NaN', () => {
        expectClose(run(B.Max, F32, [3], [3], [3], [NaN, 1, 2], [0, NaN, 1]), [NaN, NaN, 2], 0, 0, 'max');
        expectClose(run(B.Min, F32, [3], [3], [3], [NaN, 1, 2], [0, NaN, 1]), [NaN, NaN, 1], 0, 0, 'min');
      });

      it('where broadcasts all three operands', () => {
        const cases: Array<[number[], number[], number[], number[]]> = [
          [[33], [33], [33], [33]],
          [[4, 5], [4, 1], [5], []],
          [[2, 3, 4], [1, 3, 1], [2, 3, 4], [2, 1, 4]],
          [[0, 4], [4], [0, 4], [1]],
        ];
        for (const [shape, cShape, aShape, bShape] of cases) {
          const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
          const cs = Float32Array.from(randInts(size(cShape), 60, 0, 2));
          const as = randArray(size(aShape), 61);
          const bs = randArray(size(bShape), 62);
          const cS = broadcastStrides(cShape, shape), aS = broadcastStrides(aShape, shape), bS = broadcastStrides(bShape, shape);
          const n = size(shape);
          const out = buf.poisoned(n);
          native.where(out, 0, buf.f32(cs), 0, buf.f32(as), 0, buf.f32(bs), 0, shape, cS, aS, bS);
          const cO = viewOffsets(shape, cS), aO = viewOffsets(shape, aS), bO = viewOffsets(shape, bS);
          const expected = cO.map((o, i) => (cs[o] !== 0 ? as[aO[i]] : bs[bO[i]]));
          expectClose(buf.readF32(out, n), expected, 0, 0, `where ${JSON.stringify(shape)}`);
        }
      });
    });

    describe('reduce', () => {
      const reduceRef = (op: number, xs: ArrayLike<number>, outer: number, n: number, inner: number) => {
        const out: number[] = [];
        for (let o = 0; o < outer; o++)
          for (let i = 0; i < inner; i++) {
            let s = 0, best = xs[o * n * inner + i], at = 0;
            for (let j = 0; j < n; j++) {
              const v = xs[(o * n + j) * inner + i];
              s += v;
              if (op === R.ArgMax || op === R.Max ? v > best : v < best) { best = v; at = j; }
            }
            out.push([s, s / n, best, best, at, at][op]);
          }
        return out;
      };
      const dims: Array<[number, number, number]> = [[1, 1, 1], [7, 33, 1], [3, 1, 5], [4, 17, 9], [2, 5, 300], [3, 1000, 1], [1, 7, 257]];

      for (const [name, op] of Object.entries(R)) {
        it(`${name} over [outer, n, inner]`, () => {
          for (const [outer, n, inner] of dims) {
            // integer-valued data gives ties, so first-index semantics are exercised
            const xs = Float32Array.from(randInts(outer * n * inner, 70 + op + n, -20, 20));
            const isArg = op >= R.ArgMax;
            const out = buf.poisoned(outer * inner, isArg ? I32 : F32);
            native.reduce(op, out, 0, buf.f32(xs), 0, outer, n, inner);
            const expected = reduceRef(op, xs, outer, n, inner);
            if (isArg) expectEqualInts(buf.readI32(out, outer * inner), expected, `${name} ${outer},${n},${inner}`);
            else expectClose(buf.readF32(out, outer * inner), expected, 1e-5, 1e-5, `${name} ${outer},${n},${inner}`);
          }
        });
      }

      it('sums a million values accurately (single row and split rows)', () => {
        const xs = randArray(BIG, 80, 0, 1);
        let ref = 0;
        for (const v of xs) ref += v;
        const out = buf.poisoned(1);
        native.reduce(R.Sum, out, 0, buf.f32(xs), 0, 1, BIG, 1);
        expectClose(buf.readF32(out, 1), [ref], 1e-6, 0, 'sum 1e6');
        native.reduce(R.Mean, out, 0, buf.f32(xs), 0, 1, BIG, 1);
        expectClose(buf.readF32(out, 1), [ref / BIG], 1e-6, 0, 'mean 1e6');
        // columns: [1, 100001, 10] reduces down a long strided axis
        const n = 100001, inner = 10;
        const cols = randArray(n * inner, 81, 0, 1);
        const colRef = new Array(inner).fill(0);
        for (let j = 0; j < n; j++) for (let i = 0; i < inner; i++) colRef[i] += cols[j * inner + i];
        const co = buf.poisoned(inner);
        native.reduce(R.Sum, co, 0, buf.f32(cols), 0, 1, n, inner);
        expectClose(buf.readF32(co, inner), colRef, 1e-6, 0, 'column sum');
      });

      it('long rows: max/argmax split across threads keep first index; NaN propagates', () => {
        const xs = randArray(BIG, 82, -1, 1);
        xs[123457] = 5; xs[900001] = 5; xs[5] = -5; xs[700000] = -5;
        const out = buf.poisoned(1), idx = buf.poisoned(1, I32), x = buf.f32(xs);
        native.reduce(R.Max, out, 0, x, 0, 1, BIG, 1);
        expect(buf.readF32(out, 1)[0]).toBe(5);
        native.reduce(R.ArgMax, idx, 0, x, 0, 1, BIG, 1);
        expect(buf.readI32(idx, 1)[0]).toBe(123457);
        native.reduce(R.ArgMin, idx, 0, x, 0, 1, BIG, 1);
        expect(buf.readI32(idx, 1)[0]).toBe(5);
        xs[600000] = NaN;
        const xn = buf.f32(xs);
        native.reduce(R.Max, out, 0, xn, 0, 1, BIG, 1);
        expect(Number.isNaN(buf.readF32(out, 1)[0])).toBe(true);
        native.reduce(R.Min, out, 0, xn, 0, 1, BIG, 1);
        expect(Number.isNaN(buf.readF32(out, 1)[0])).toBe(true);
        native.reduce(R.ArgMax, idx, 0, xn, 0, 1, BIG, 1);
        expect(buf.readI32(idx, 1)[0]).toBe(600000);
        // NaN in strided columns too
        const small = buf.f32([1, 2, NaN, 0, 3, 4]); // [1, 3, 2]: columns (1, NaN, 3), (2, 0, 4)
        const o2 = buf.poisoned(2);
        native.reduce(R.Max, o2, 0, small, 0, 1, 3, 2);
        expectClose(buf.readF32(o2, 2), [NaN, 4], 0, 0, 'column max NaN');
      });

      it('empty dim sums to 0', () => {
        const out = buf.poisoned(3);
        native.reduce(R.Sum, out, 0, buf.f32([]), 0, 3, 0, 1);
        expectClose(buf.readF32(out, 3), [0, 0, 0], 0, 0, 'empty sum');
      });

      it('int32: sums exact past 2^24 (wrapping only past int32), extrema and their indices exact', () => {
        // [outer 2, n 5, inner 3]
        const x = [
          16777216, 2147483647, -5, 1, 0, 7, 1, -2147483648, 9, 3, 5, 5, 1, 1, 1,
          -3, 4, 16777217, 8, 8, -1, 2, 2, 2, 0, 0, 0, 6, 9, -4,
        ];
        const ref = (o: number, i: number) => Array.from({ length: 5 }, (_, j) => x[(o * 5 + j) * 3 + i]);
        const cols = [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]].map(([o, i]) => ref(o, i));
        const wrap = (v: number) => Number(BigInt.asIntN(32, BigInt(v)));
        const cases: Array<[number, (c: number[]) => number]> = [
          [R.Sum, (c) => wrap(c.reduce((a, b) => a + b, 0))],
          [R.Max, (c) => Math.max(...c)],
          [R.Min, (c) => Math.min(...c)],
          [R.ArgMax, (c) => c.indexOf(Math.max(...c))],
          [R.ArgMin, (c) => c.indexOf(Math.min(...c))],
        ];
        for (const [op, f] of cases) {
          const out = buf.poisoned(6, I32);
          native.reduce(op, out, 0, buf.i32(x), 0, 2, 5, 3);
          expectEqualInts(buf.readI32(out, 6), cols.map(f), `int32 reduce ${op}`);
        }
        // inner == 1, a long row: 3 * 2^24 + 3 is exact in int32, not in float32
        const n = 3000;
        const row = Array.from({ length: n }, (_, i) => (i < 3 ? 16777217 : 0));
        const out = buf.poisoned(1, I32);
        native.reduce(R.Sum, out, 0, buf.i32(row), 0, 1, n, 1);
        expectEqualInts(buf.readI32(out, 1), [3 * 16777217], 'int32 long sum');
      });
    });

    describe('softmax and cross-entropy', () => {
      const softmaxRef = (xs: ArrayLike<number>, outer: number, n: number, inner: number, log: boolean) => {
        const y = new Float64Array(outer * n * inner);
        for (let o = 0; o < outer; o++)
          for (let i = 0; i < inner; i++) {
            let m = -Infinity;
            for (let j = 0; j < n; j++) m = Math.max(m, xs[(o * n + j) * inner + i]);
            let s = 0;
            for (let j = 0; j < n; j++) s += Math.exp(xs[(o * n + j) * inner + i] - m);
            for (let j = 0; j < n; j++) {
              const p = (o * n + j) * inner + i;
              y[p] = log ? xs[p] - m - Math.log(s) : Math.exp(xs[p] - m) / s;
            }
          }
        return y;
      };
      const dims: Array<[number, number, number]> = [[1, 1, 1], [4, 33, 1], [3, 7, 5], [2, 10, 300], [5, 1000, 1]];

      for (const log of [false, true]) {
        it(`${log ? 'logSoftmax' : 'softmax'} forward/backward (large logits too)`, () => {
          for (const [outer, n, inner] of dims) {
            for (const scale of [3, 1000]) {
              const total = outer * n * inner;
              const xs = randArray(total, 90 + n, -scale, scale);
              const y = buf.poisoned(total);
              native.softmax(y, 0, buf.f32(xs), 0, outer, n, inner, log);
              const yRef = softmaxRef(xs, outer, n, inner, log);
              const ys = buf.readF32(y, total);
              // log-softmax of +-1000 logits is ~1e3 in magnitude: relative error is the right measure
              expectClose(ys, yRef, 1e-5, 1e-6, `fwd ${outer},${n},${inner} x${scale}`);
              const dys = randArray(total, 91 + n);
              const dx = buf.poisoned(total);
              native.softmaxBackward(dx, 0, buf.f32(dys), 0, y, 0, outer, n, inner, log);
              const dxRef = new Float64Array(total);
              for (let o = 0; o < outer; o++)
                for (let i = 0; i < inner; i++) {
                  let s = 0;
                  for (let j = 0; j < n; j++) {
                    const p = (o * n + j) * inner + i;
                    s += log ? dys[p] : dys[p] * ys[p];
                  }
                  for (let j = 0; j < n; j++) {
                    const p = (o * n + j) * inner + i;
                    dxRef[p] = log ? dys[p] - Math.exp(ys[p]) * s : ys[p] * (dys[p] - s);
                  }
                }
              expectClose(buf.readF32(dx, total), dxRef, 1e-4, 1e-5, `bwd ${outer},${n},${inner}`);
            }
          }
        });
      }

      it('crossEntropy forward/backward with ignoreIndex and label smoothing', () => {
        for (const [Bn, C] of [[1, 1], [5, 7], [33, 10], [64, 1000]]) {
          for (const ls of [0, 0.1]) {
            const logits = randArray(Bn * C, 100 + C, -5, 5);
            const target = randInts(Bn, 101 + C, 0, C);
            const ignore = -100;
            if (Bn > 2) { target[1] = ignore; target[Bn - 1] = ignore; }
            const loss = buf.poisoned(Bn), lp = buf.poisoned(Bn * C);
            const tgt = buf.i32(target);
            native.crossEntropyForward(loss, 0, lp, 0, buf.f32(logits), 0, tgt, 0, Bn, C, ignore, ls);
            const lpRef = softmaxRef(logits, Bn, C, 1, true);
            const lossRef = Array.from({ length: Bn }, (_, b) => {
              if (target[b] === ignore) return 0;
              let s = 0;
              for (let c = 0; c < C; c++) s += lpRef[b * C + c];
              return -(1 - ls) * lpRef[b * C + target[b]] - (ls / C) * s;
            });
            expectClose(buf.readF32(lp, Bn * C), lpRef, 1e-5, 1e-6, 'logProbs');
            expectClose(buf.readF32(loss, Bn), lossRef, 1e-5, 1e-6, `loss ${Bn}x${C} ls=${ls}`);
            const dloss = randArray(Bn, 102, 0.5, 1.5);
            const dl = buf.poisoned(Bn * C);
            native.crossEntropyBackward(dl, 0, buf.f32(dloss), 0, lp, 0, tgt, 0, Bn, C, ignore, ls);
            const dRef = new Float64Array(Bn * C);
            for (let b = 0; b < Bn; b++)
              for (let c = 0; c < C; c++) {
                if (target[b] === ignore) continue;
                dRef[b * C + c] = dloss[b] * (Math.exp(lpRef[b * C + c]) - (1 - ls) * +(c === target[b]) - ls / C);
              }
            expectClose(buf.readF32(dl, Bn * C), dRef, 1e-5, 1e-6, `dlogits ${Bn}x${C} ls=${ls}`);
          }
        }
      });
    });

    describe('indexing', () => {
      const dims: Array<[number, number, number, number]> = [[1, 5, 1, 3], [3, 7, 4, 10], [2, 6, 1100, 9], [1, 1, 1, 1]];

      it('indexSelect (float32 and int32)', () => {
        for (const [outer, n, inner, k] of dims) {
          const idx = randInts(k, 110 + k, 0, n);
          const srcF = randArray(outer * n * inner, 111);
          const srcI = randInts(outer * n * inner, 112, -1000, 1000);
          const ref = (src: ArrayLike<number>) => {
            const out: number[] = [];
            for (let o = 0; o < outer; o++) for (let j = 0; j < k; j++) for (let i = 0; i < inner; i++) out.push(src[(o * n + idx[j]) * inner + i]);
            return out;
          };
          const of = buf.poisoned(outer * k * inner);
          native.indexSelect(of, 0, buf.f32(srcF), 0, buf.i32(idx), 0, outer, n, inner, k);
          expectClose(buf.readF32(of, outer * k * inner), ref(srcF), 0, 0, 'indexSelect f32');
          const oi = buf.poisoned(outer * k * inner, I32);
          native.indexSelect(oi, 0, buf.i32(srcI), 0, buf.i32(idx), 0, outer, n, inner, k);
          expectEqualInts(buf.readI32(oi, outer * k * inner), ref(srcI), 'indexSelect i32');
        }
      });

      it('indexAdd accumulates duplicates onto existing values', () => {
        for (const [outer, n, inner, k] of dims) {
          const idx = randInts(k, 120 + k, 0, Math.min(n, 3)); // few targets: many duplicates
          const dst0 = randArray(outer * n * inner, 121);
          const src = randArray(outer * k * inner, 122);
          const ref = Float64Array.from(dst0);
          for (let o = 0; o < outer; o++) for (let j = 0; j < k; j++) for (let i = 0; i < inner; i++) ref[(o * n + idx[j]) * inner + i] += src[(o * k + j) * inner + i];
          const dst = buf.f32(dst0);
          native.indexAdd(dst, 0, buf.f32(src), 0, buf.i32(idx), 0, outer, n, inner, k);
          expectClose(buf.readF32(dst, dst0.length), ref, 1e-5, 1e-6, 'indexAdd');
        }
      });

      it('gather and scatterAdd', () => {
        for (const [outer, n, inner, k] of dims) {
          const total = outer * k * inner;
          const idx = randInts(total, 130 + k, 0, n);
          const src = randArray(outer * n * inner, 131);
          const gRef: number[] = [];
          for (let o = 0; o < outer; o++) for (let j = 0; j < k; j++) for (let i = 0; i < inner; i++) gRef.push(src[(o * n + idx[(o * k + j) * inner + i]) * inner + i]);
          const out = buf.poisoned(total);
          native.gather(out, 0, buf.f32(src), 0, buf.i32(idx), 0, outer, n, inner, k);
          expectClose(buf.readF32(out, total), gRef, 0, 0, 'gather f32');
          const srcI = randInts(outer * n * inner, 133, -9, 9);
          const outI = buf.poisoned(total, I32);
          native.gather(outI, 0, buf.i32(srcI), 0, buf.i32(idx), 0, outer, n, inner, k);
          expectEqualInts(buf.readI32(outI, total), gRef.map((_, p) => {
            const o = Math.floor(p / (k * inner)), i = p % inner;
            return srcI[(o * n + idx[p]) * inner + i];
          }), 'gather i32');

          const upd = randArray(total, 132);
          const dst0 = randArray(outer * n * inner, 134);
          const sRef = Float64Array.from(dst0);
          for (let o = 0; o < outer; o++) for (let j = 0; j < k; j++) for (let i = 0; i < inner; i++) {
            const p = (o * k + j) * inner + i;
            sRef[(o * n + idx[p]) * inner + i] += upd[p];
          }
          const dst = buf.f32(dst0);
          native.scatterAdd(dst, 0, buf.f32(upd), 0, buf.i32(idx), 0, outer, n, inner, k);
          expectClose(buf.readF32(dst, dst0.length), sRef, 1e-5, 1e-6, 'scatterAdd');
        }
      });
    });

    describe('convolution helpers and pooling', () => {
      // [N, C, H, W, kH, kW, sH, sW, pH, pW, dH, dW]
      const geoms = [
        [2, 3, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1],
        [1, 2, 8, 7, 3, 2, 2, 3, 1, 0, 2, 1],
        [2, 1, 5, 5, 1, 1, 1, 1, 0, 0, 1, 1],
        [1, 2, 6, 11, 2, 4, 2, 2, 1, 2, 1, 2],
      ];
      const outSize = (size: number, k: number, s: number, p: number, d: number) => Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;

      it('im2col and col2im (stride, padding, dilation, batch)', () => {
        for (const [N, C, H, W, kH, kW, sH, sW, pH, pW, dH, dW] of geoms) {
          const OH = outSize(H, kH, sH, pH, dH), OW = outSize(W, kW, sW, pW, dW);
          const xs = randArray(N * C * H * W, 140 + H);
          const colN = N * C * kH * kW * OH * OW;
          const ref = new Float64Array(colN);
          const cols = randArray(colN, 141 + W);
          const dxRef = new Float64Array(N * C * H * W);
          for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let kh = 0; kh < kH; kh++) for (let kw = 0; kw < kW; kw++)
            for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
              const row = (c * kH + kh) * kW + kw;
              const p = (n * C * kH * kW + row) * OH * OW + oh * OW + ow;
              const ih = oh * sH - pH + kh * dH, iw = ow * sW - pW + kw * dW;
              if (ih >= 0 && ih < H && iw >= 0 && iw < W) {
                const q = ((n * C + c) * H + ih) * W + iw;
                ref[p] = xs[q];
                dxRef[q] += cols[p];
              }
            }
          const dims = [N, C, H, W], win = [kH, kW, sH, sW, pH, pW, dH, dW], os = [OH, OW];
          const col = buf.poisoned(colN);
          native.im2col(col, 0, buf.f32(xs), 0, dims, win, os);
          expectClose(buf.readF32(col, colN), ref, 0, 0, `im2col ${win}`);
          const dx = buf.poisoned(N * C * H * W);
          native.col2im(dx, 0, buf.f32(cols), 0, dims, win, os);
          expectClose(buf.readF32(dx, N * C * H * W), dxRef, 1e-5, 1e-6, `col2im ${win}`);
        }
      });

      // [N, C, H, W, kH, kW, sH, sW, pH, pW, ceil]
      const pools = [
        [2, 3, 8, 8, 2, 2, 2, 2, 0, 0, false],
        [1, 2, 7, 9, 3, 3, 2, 2, 1, 1, false],
        [1, 2, 7, 9, 3, 3, 2, 2, 1, 1, true],
        [2, 1, 5, 6, 3, 2, 3, 2, 1, 1, true],
        [1, 1, 4, 4, 4, 4, 1, 1, 2, 2, false],
      ] as const;
      const poolOut = (size: number, k: number, s: number, p: number, ceil: boolean) => {
        let o = Math.floor((size + 2 * p - k + (ceil ? s - 1 : 0)) / s) + 1;
        if (ceil && (o - 1) * s >= size + p) o--; // last window must start inside the input or left padding
        return o;
      };

      it('maxPool2d forward/backward (first max wins, padding is -inf)', () => {
        for (const [N, C, H, W, kH, kW, sH, sW, pH, pW, ceil] of pools) {
          const OH = poolOut(H, kH, sH, pH, ceil), OW = poolOut(W, kW, sW, pW, ceil);
          const xs = Float32Array.from(randInts(N * C * H * W, 150 + H, -4, 4)); // ties
          const nOut = N * C * OH * OW;
          const yRef: number[] = [], aRef: number[] = [];
          for (let p = 0; p < N * C; p++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
            let best = -Infinity, at = -1;
            for (let h = oh * sH - pH; h < oh * sH - pH + kH; h++) for (let w = ow * sW - pW; w < ow * sW - pW + kW; w++) {
              if (h < 0 || h >= H || w < 0 || w >= W) continue;
              const v = xs[p * H * W + h * W + w];
              if (at < 0 || v > best) { best = v; at = h * W + w; }
            }
            yRef.push(best); aRef.push(at);
          }
          const dims = [N, C, H, W], win = [kH, kW, sH, sW, pH, pW], os = [OH, OW];
          const y = buf.poisoned(nOut), am = buf.poisoned(nOut, I32);
          native.maxPool2d(y, 0, am, 0, buf.f32(xs), 0, dims, win, os);
          expectClose(buf.readF32(y, nOut), yRef, 0, 0, `maxPool ${win}`);
          expectEqualInts(buf.readI32(am, nOut), aRef, `argmax ${win}`);
          const dys = randArray(nOut, 151);
          const dxRef = new Float64Array(N * C * H * W);
          for (let q = 0; q < nOut; q++) dxRef[Math.floor(q / (OH * OW)) * H * W + aRef[q]] += dys[q];
          const dx = buf.poisoned(N * C * H * W);
          native.maxPool2dBackward(dx, 0, buf.f32(dys), 0, am, 0, dims, win, os);
          expectClose(buf.readF32(dx, N * C * H * W), dxRef, 1e-5, 1e-6, `maxPool bwd ${win}`);
        }
      });

      for (const includePad of [true, false]) {
        it(`avgPool2d forward/backward (countIncludePad=${includePad}, ceil-mode windows)`, () => {
          for (const [N, C, H, W, kH, kW, sH, sW, pH, pW, ceil] of pools) {
            const OH = poolOut(H, kH, sH, pH, ceil), OW = poolOut(W, kW, sW, pW, ceil);
            const xs = randArray(N * C * H * W, 160 + W);
            const nOut = N * C * OH * OW;
            const dys = randArray(nOut, 161);
            const yRef: number[] = [];
            const dxRef = new Float64Array(N * C * H * W);
            for (let p = 0; p < N * C; p++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
              // PyTorch: window cut at the padded bounds gives the include-pad divisor
              let hs = oh * sH - pH, ws = ow * sW - pW;
              let he = Math.min(hs + kH, H + pH), we = Math.min(ws + kW, W + pW);
              const padded = (he - hs) * (we - ws);
              hs = Math.max(hs, 0); ws = Math.max(ws, 0); he = Math.min(he, H); we = Math.min(we, W);
              const div = includePad ? padded : (he - hs) * (we - ws);
              let s = 0;
              for (let h = hs; h < he; h++) for (let w = ws; w < we; w++) s += xs[p * H * W + h * W + w];
              yRef.push(s / div);
              const q = (p * OH + oh) * OW + ow;
              for (let h = hs; h < he; h++) for (let w = ws; w < we; w++) dxRef[p * H * W + h * W + w] += dys[q] / div;
            }
            const dims = [N, C, H, W], win = [kH, kW, sH, sW, pH, pW], os = [OH, OW];
            const y = buf.poisoned(nOut);
            native.avgPool2d(y, 0, buf.f32(xs), 0, dims, win, os, includePad);
            expectClose(buf.readF32(y, nOut), yRef, 1e-5, 1e-6, `avgPool ${win} ceil=${ceil}`);
            const dx = buf.poisoned(N * C * H * W);
            native.avgPool2dBackward(dx, 0, buf.f32(dys), 0, dims, win, os, includePad);
            expectClose(buf.readF32(dx, N * C * H * W), dxRef, 1e-5, 1e-6, `avgPool bwd ${win} ceil=${ceil}`);
          }
        });
      }
    });

    describe('random (Philox4x32-10)', () => {
      // Reference Philox in JS, exactly as native/cpu/kernels/random.cc documents it.
      const mulhilo = (a: number, b: number): [number, number] => {
        const p = BigInt(a >>> 0) * BigInt(b >>> 0);
        return [Number(p >> 32n) >>> 0, Number(p & 0xffffffffn) >>> 0];
      };
      const philox = (ctr: number[], key: number[]): number[] => {
        let [c0, c1, c2, c3] = ctr.map((v) => v >>> 0);
        let [k0, k1] = key.map((v) => v >>> 0);
        for (let r = 0; r < 10; r++) {
          if (r > 0) { k0 = (k0 + 0x9e3779b9) >>> 0; k1 = (k1 + 0xbb67ae85) >>> 0; }
          const [hi0, lo0] = mulhilo(0xd2511f53, c0);
          const [hi1, lo1] = mulhilo(0xcd9e8d57, c2);
          [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
        }
        return [c0, c1, c2, c3];
      };
      const lanes = (seed: bigint, counter: bigint) =>
        philox([Number(counter & 0xffffffffn), Number(counter >> 32n), 0, 0], [Number(seed & 0xffffffffn), Number(seed >> 32n)]);

      it('the JS reference matches the Random123 known-answer vector', () => {
        expect(philox([0, 0, 0, 0], [0, 0])).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
        expect(philox([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff]))
          .toEqual([0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]);
      });

      it('uniform is bit-exact with the reference (odd n, 64-bit seed and offset)', () => {
        const seed = 2n ** 40n + 12345n, offset = 2n ** 33n + 7n, n = 37, low = -2, high = 3;
        const out = buf.poisoned(n);
        native.randomUniform(out, 0, n, Number(seed), Number(offset), low, high);
        const got = buf.readF32(out, n);
        for (let i = 0; i < n; i++) {
          const x = lanes(seed, offset + BigInt(i >> 2))[i & 3];
          const u = (x >>> 8) * 2 ** -24;
          const span = Math.fround(high - low);
          expect(got[i]).toBe(Math.fround(low + span * u));
        }
      });

      it('normal matches Box-Muller over the reference lanes', () => {
        const seed = 99n, offset = 5n, n = 45, mean = 1, std = 2;
        const out = buf.poisoned(n);
        native.randomNormal(out, 0, n, Number(seed), Number(offset), mean, std);
        const ref: number[] = [];
        for (let i = 0; i < n; i++) {
          const x = lanes(seed, offset + BigInt(i >> 2));
          const pair = (i & 3) >> 1;
          const u1 = ((x[2 * pair] >>> 8) + 1) * 2 ** -24;
          const u2 = (x[2 * pair + 1] >>> 8) * 2 ** -24;
          const r = Math.sqrt(-2 * Math.log(u1));
          const z = (i & 1) === 0 ? r * Math.cos(2 * Math.PI * u2) : r * Math.sin(2 * Math.PI * u2);
          ref.push(mean + std * z);
        }
        expectClose(buf.readF32(out, n), ref, 1e-5, 2e-5, 'normal');
      });

      it('is deterministic, and offset k skips exactly k counters (4k elements)', () => {
        const n = 1001;
        const a = buf.poisoned(n), b = buf.poisoned(n), c = buf.poisoned(n - 12);
        native.randomUniform(a, 0, n, 7, 0, 0, 1);
        native.randomUniform(b, 0, n, 7, 0, 0, 1);
        native.randomUniform(c, 0, n - 12, 7, 3, 0, 1);
        const av = buf.readF32(a, n);
        expectClose(buf.readF32(b, n), av, 0, 0, 'same seed');
        expectClose(buf.readF32(c, n - 12), av.subarray(12), 0, 0, 'offset 3 = skip 12 elements');
        const d = buf.poisoned(n);
        native.randomUniform(d, 0, n, 8, 0, 0, 1);
        expect(buf.readF32(d, n).some((v, i) => v !== av[i])).toBe(true);
        const na = buf.poisoned(n), nc = buf.poisoned(n - 8);
        native.randomNormal(na, 0, n, 7, 0, 0, 1);
        native.randomNormal(nc, 0, n - 8, 7, 2, 0, 1);
        expectClose(buf.readF32(nc, n - 8), buf.readF32(na, n).subarray(8), 0, 0, 'normal offset');
      });

      it('1e6 samples have the right mean and std', () => {
        const n = 1_000_000;
        const u = buf.poisoned(n);
        native.randomUniform(u, 0, n, 1234, 0, -1, 3);
        const us = buf.readF32(u, n);
        let s = 0, s2 = 0, lo = Infinity, hi = -Infinity;
        for (const v of us) { s += v; s2 += v * v; lo = Math.min(lo, v); hi = Math.max(hi, v); }
        const m = s / n, sd = Math.sqrt(s2 / n - m * m);
        expect(Math.abs(m - 1)).toBeLessThan(0.01);
        expect(Math.abs(sd - 4 / Math.sqrt(12))).toBeLessThan(0.01);
        expect(lo).toBeGreaterThanOrEqual(-1);
        expect(hi).toBeLessThan(3);
        const g = buf.poisoned(n);
        native.randomNormal(g, 0, n, 1234, 0, 0.5, 2);
        const gs = buf.readF32(g, n);
        s = 0; s2 = 0;
        let finite = true;
        for (const v of gs) { s += v; s2 += v * v; if (!Number.isFinite(v)) finite = false; }
        const gm = s / n, gsd = Math.sqrt(s2 / n - gm * gm);
        expect(finite).toBe(true);
        expect(Math.abs(gm - 0.5)).toBeLessThan(0.01);
        expect(Math.abs(gsd - 2)).toBeLessThan(0.01);
      });
    });

    describe('optimizers', () => {
      type AdamCfg = { lr: number; b1: number; b2: number; eps: number; wd: number; decoupled: boolean; amsgrad: boolean; maximize: boolean };
      // Hyperparameters reach the kernel as doubles (AdamParams), as PyTorch's Python scalars,
      // so 1 - beta2 is exact before rounding: the float64 reference uses them as given.
      const adamRef = (p: Float64Array, g: ArrayLike<number>, m: Float64Array, v: Float64Array, vmax: Float64Array, step: number, c: AdamCfg) => {
        const bc1 = 1 - c.b1 ** step, bc2 = 1 - c.b2 ** step;
        for (let i = 0; i < p.length; i++) {
          let gi = c.maximize ? -g[i] : g[i];
          if (c.wd && !c.decoupled) gi += c.wd * p[i];
          if (c.decoupled) p[i] *= 1 - c.lr * c.wd;
          m[i] = c.b1 * m[i] + (1 - c.b1) * gi;
          v[i] = c.b2 * v[i] + (1 - c.b2) * gi * gi;
          let vv = v[i];
          if (c.amsgrad) { vmax[i] = Math.max(vmax[i], v[i]); vv = vmax[i]; }
          const denom = Math.sqrt(vv) / Math.sqrt(bc2) + c.eps;
          p[i] -= (c.lr / bc1) * (m[i] / denom);
        }
      };
      const adamCfgs: AdamCfg[] = [
        { lr: 1e-2, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0, decoupled: false, amsgrad: false, maximize: false },
        { lr: 1e-2, b1: 0.9, b2: 0.99, eps: 1e-6, wd: 0.1, decoupled: false, amsgrad: true, maximize: false },
        { lr: 3e-3, b1: 0.8, b2: 0.999, eps: 1e-8, wd: 0.05, decoupled: true, amsgrad: false, maximize: true },
        { lr: 3e-3, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.01, decoupled: true, amsgrad: true, maximize: false },
      ];

      for (const c of adamCfgs) {
        it(`adam ${JSON.stringify(c)} over 5 steps`, () => {
          for (const n of [7, 40001]) {
            const p0 = randArray(n, 170), pRef = Float64Array.from(p0);
            const mRef = new Float64Array(n), vRef = new Float64Array(n), vmRef = new Float64Array(n);
            const p = buf.f32(p0), m = buf.f32(new Float32Array(n)), v = buf.f32(new Float32Array(n));
            const vm = c.amsgrad ? buf.f32(new Float32Array(n)) : null;
            for (let step = 1; step <= 5; step++) {
              const gs = randArray(n, 171 + step);
              native.adamStep(p, 0, buf.f32(gs), 0, m, 0, v, 0, vm, 0, n, c.lr, c.b1, c.b2, c.eps, c.wd, step, c.decoupled, c.amsgrad, c.maximize);
              adamRef(pRef, gs, mRef, vRef, vmRef, step, c);
            }
            expectClose(buf.readF32(p, n), pRef, 1e-5, 1e-6, 'adam p');
            expectClose(buf.readF32(m, n), mRef, 1e-5, 1e-6, 'adam m');
            expectClose(buf.readF32(v, n), vRef, 1e-5, 1e-9, 'adam v');
          }
        });
      }

      const sgdCfgs = [
        { lr: 0.1, momentum: 0, dampening: 0, wd: 0, nesterov: false, maximize: false },
        { lr: 0.05, momentum: 0.9, dampening: 0, wd: 1e-2, nesterov: false, maximize: false },
        { lr: 0.05, momentum: 0.9, dampening: 0, wd: 0, nesterov: true, maximize: true },
        { lr: 0.05, momentum: 0.5, dampening: 0.3, wd: 1e-3, nesterov: false, maximize: false },
      ];
      for (const c of sgdCfgs) {
        it(`sgd ${JSON.stringify(c)} over 4 steps`, () => {
          for (const n of [7, 40001]) {
            const p0 = randArray(n, 180), pRef = Float64Array.from(p0), bRef = new Float64Array(n);
            const p = buf.f32(p0);
            const mb = c.momentum ? buf.poisoned(n) : null; // first step must overwrite, not read
            for (let step = 1; step <= 4; step++) {
              const gs = randArray(n, 181 + step);
              native.sgdStep(p, 0, buf.f32(gs), 0, mb, 0, n, c.lr, c.momentum, c.dampening, c.wd, c.nesterov, step === 1, c.maximize);
              for (let i = 0; i < n; i++) {
                let gi = c.maximize ? -gs[i] : gs[i];
                if (c.wd) gi += c.wd * pRef[i];
                if (c.momentum) {
                  bRef[i] = step === 1 ? gi : c.momentum * bRef[i] + (1 - c.dampening) * gi;
                  gi = c.nesterov ? gi + c.momentum * bRef[i] : bRef[i];
                }
                pRef[i] -= c.lr * gi;
              }
            }
            expectClose(buf.readF32(p, n), pRef, 1e-5, 1e-6, 'sgd p');
            if (mb) expectClose(buf.readF32(mb, n), bRef, 1e-5, 1e-6, 'sgd buf');
          }
        });
      }
    });

    vectorSuite(native, buf);

    it('unwritten contiguous/strided helpers are consistent', () => {
      // sanity check on the test helpers themselves
      expect(contiguousStrides([2, 3, 4])).toEqual([12, 4, 1]);
      expect(broadcastStrides([3, 1], [2, 3, 5])).toEqual([0, 1, 0]);
      expect(rng(1)()).toBeGreaterThanOrEqual(0);
    });
  });
}
