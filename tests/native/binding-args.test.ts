// The binding's argument checks: every bad argument is a KilnError naming the op and the
// argument, raised before any kernel runs; nothing wraps, aborts or reads out of bounds.
import { createRequire } from 'node:module';

import { describe, expect, it } from 'vitest';

import { Buffers, F32, I32 } from './kernel-helpers';

class KilnError extends Error {}
const native = createRequire(import.meta.url)('../../build/Release/kiln.node');
native.setErrorClass(KilnError);
const buf = new Buffers(native);

function rejects(fn: () => void, message: RegExp): void {
  let error: unknown = null;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error, `expected a KilnError matching ${message}`).toBeInstanceOf(KilnError);
  expect((error as Error).message).toMatch(message);
}

describe('binding argument checks', () => {
  it('integers: non-integers, NaN, infinities and magnitudes past 2^53 are refused before any cast', () => {
    const x = buf.f32([1, 2, 3, 4]);
    const y = buf.poisoned(4);
    for (const n of [1.5, NaN, Infinity, -1, 2 ** 60, -(2 ** 63), '4', null]) {
      rejects(() => native.unary(0, y, 0, x, 0, n, 0, 0), /^unary: n: expected (a non-negative integer|an integer)/);
    }
    rejects(() => native.unary(0, y, 1.5, x, 0, 2, 0, 0), /^unary: y: expected an integer/);
    rejects(() => native.unary(99, y, 0, x, 0, 4, 0, 0), /^unary: op: unknown op code 99/);
    rejects(() => native.crossEntropyForward(y, 0, y, 0, x, 0, buf.i32([0]), 0, 1, 1, 2 ** 40, 0), /ignoreIndex: expected an int32/);
  });

  it('dims: negative, fractional and too many entries are refused (two negatives no longer make a positive size)', () => {
    const x = buf.f32([1, 2, 3, 4]);
    const out = buf.poisoned(4);
    rejects(() => native.stridedCopy(out, 0, x, 0, [-2, -2], [1, 1]), /^stridedCopy: shape: expected an array of non-negative integers/);
    rejects(() => native.stridedCopy(out, 0, x, 0, [2.5, 2], [1, 1]), /shape: expected an array of non-negative integers/);
    rejects(() => native.stridedCopy(out, 0, x, 0, new Array(9).fill(1), new Array(9).fill(1)), /at most 8 dims/);
    rejects(() => native.stridedCopy(out, 0, x, 0, [2, 2], [1]), /srcStrides: expected one stride per dim/);
  });

  it('size products that overflow int64 are an error, not a wrapped small range', () => {
    const x = buf.f32([1, 2, 3, 4]);
    const out = buf.poisoned(4);
    // 2^32 * 2^32 wraps to 0 in int64
    rejects(() => native.reduce(0, out, 0, x, 0, 2 ** 32, 1, 2 ** 32), /^reduce: size: the element count overflows/);
    rejects(() => native.stridedCopy(out, 0, x, 0, [2 ** 40, 2 ** 40], [1, 1]), /overflows/);
    rejects(() => native.gemm(false, false, 2 ** 40, 2 ** 40, 1, 1, x, 0, 1, 0, x, 0, 2 ** 40, 0, 0, out, 0, 2 ** 40, 0, 1), /overflows|outside its storage/);
    rejects(() => native.im2col(out, 0, x, 0, [2 ** 20, 2 ** 20, 2 ** 20, 2 ** 20], [3, 3, 1, 1, 1, 1], [1, 1]), /overflows|outside its storage/);
  });

  it('ranges: a buffer must hold its extent from its offset; disposed handles are named', () => {
    const x = buf.f32([1, 2, 3, 4]);
    const out = buf.poisoned(4);
    rejects(() => native.unary(0, out, 0, x, 1, 4, 0, 0), /^unary: x: range \[1, 5\) is outside its storage of 4 elements/);
    rejects(() => native.unary(0, out, 5, x, 0, 0, 0, 0), /y: range \[5, 5\) is outside/);
    const gone = buf.f32([1]);
    native.release(gone);
    rejects(() => native.unary(0, out, 0, gone, 0, 1, 0, 0), /^unary: x: tensor has been disposed/);
    rejects(() => native.unary(0, out, 0, 12345.5, 0, 1, 0, 0), /x: tensor has been disposed/);
  });

  it('dtypes: every buffer of every op is checked', () => {
    const f = buf.f32([1, 2, 3, 4]);
    const i = buf.i32([1, 2, 3, 4]);
    rejects(() => native.unary(0, f, 0, i, 0, 4, 0, 0), /^unary: x: expected a float32 or float64 tensor/);
    rejects(() => native.softmax(i, 0, f, 0, 1, 4, 1, false), /^softmax: x: expected a float32 or float64 tensor of the dtype of y/);
    rejects(() => native.binary(0, f, 0, f, 0, i, 0, [4], [1], [1]), /b: expected the dtype of a/);
    rejects(() => native.binary(3, i, 0, i, 0, i, 0, [4], [1], [1]), /div and pow need float tensors/);
    rejects(() => native.reduce(1, f, 0, i, 0, 1, 4, 1), /mean needs a float tensor/);
    rejects(() => native.reduce(4, f, 0, f, 0, 1, 4, 1), /out: expected int32 for argmax/);
    rejects(() => native.indexSelect(i, 0, f, 0, buf.i32([0, 1, 2, 3]), 0, 1, 4, 1, 4), /out: expected the dtype of src/);
    rejects(() => native.stridedCopy(i, 0, f, 0, [4], [1]), /src: expected the dtype of dst/);
    // float64: a typed field (float32 only) names both dtypes; mixed float dtypes are refused
    const d = native.alloc(0, 2, 4);
    native.write(d, 0, new Float64Array([1, 2, 3, 4]));
    rejects(() => native.im2col(f, 0, d, 0, [1, 1, 2, 2], [1, 1, 1, 1, 0, 0], [2, 2]), /^im2col: x: expected a float32 tensor, got float64/);
    rejects(() => native.unary(0, f, 0, d, 0, 4, 0, 0), /^unary: y: expected the dtype of x/);
    rejects(() => native.gemm(false, false, 2, 2, 2, 1, d, 0, 2, 0, f, 0, 2, 0, 0, d, 0, 2, 0, 1), /A, B, C: expected float32 or float64 matrices of one dtype/);
    rejects(() => native.write(d, 0, new Float32Array(4)), /data: expected a Float64Array/);
    rejects(() => native.read(f, 0, new Float64Array(4)), /out: expected a Float32Array or Int32Array/);
    rejects(() => native.copy(f, 0, d, 0, 4), /src: expected the dtype of dst \(float32\), got float64/);
    native.release(d);
  });

  it('indices: out-of-range values are refused before the kernel reads them (argmax too)', () => {
    const x = buf.f32([1, 2, 3, 4]);
    const out = buf.poisoned(2);
    rejects(() => native.indexSelect(out, 0, x, 0, buf.i32([0, 4]), 0, 1, 4, 1, 2), /^indexSelect: idx: index 4 is out of range \[0, 4\)/);
    rejects(() => native.gather(out, 0, x, 0, buf.i32([-1, 0]), 0, 1, 4, 1, 2), /gather: idx: index -1 is out of range/);
    const dx = buf.poisoned(4);
    rejects(() => native.maxPool2dBackward(dx, 0, buf.f32([1]), 0, buf.i32([1000000]), 0, [1, 1, 2, 2], [2, 2, 2, 2, 0, 0], [1, 1]),
      /^maxPool2dBackward: argmax: index 1000000 is out of range \[0, 4\)/);
    const loss = buf.poisoned(2);
    const lp = buf.poisoned(4);
    rejects(() => native.crossEntropyForward(loss, 0, lp, 0, x, 0, buf.i32([1, 2]), 0, 2, 2, -100, 0), /target: index 2 is out of range \[0, 2\)/);
    native.crossEntropyForward(loss, 0, lp, 0, x, 0, buf.i32([1, -100]), 0, 2, 2, -100, 0); // ignoreIndex passes
    expect(buf.readF32(loss, 2)[1]).toBe(0);
  });

  it('convolution geometry: a larger output than the window allows is refused (kernels rely on it)', () => {
    const x = buf.f32(new Array(16).fill(1));
    const y = buf.poisoned(16);
    const am = buf.poisoned(16, I32);
    rejects(() => native.maxPool2d(y, 0, am, 0, x, 0, [1, 1, 4, 4], [2, 2, 2, 2, 0, 0], [4, 4]), /outSize: \[4, 4\] is more than the window geometry gives/);
    rejects(() => native.im2col(y, 0, x, 0, [1, 1, 4, 4], [0, 3, 1, 1, 0, 0], [1, 1]), /window: sizes, strides and dilations must be in \[1, 2\^20\]/);
    rejects(() => native.avgPool2d(y, 0, x, 0, [1, 1, 4], [2, 2, 2, 2, 0, 0], [2, 2], true), /dims: expected \[N, C, H, W\]/);
    native.maxPool2d(y, 0, am, 0, x, 0, [1, 1, 4, 4], [2, 2, 2, 2, 0, 0], [2, 2]);
    expect(Array.from(buf.readF32(y, 4))).toEqual([1, 1, 1, 1]);
  });

  it('overlap: an output may be exactly an input where the op allows it, never partly over another buffer', () => {
    const a = buf.f32([1, 2, 3, 4, 5, 6]);
    rejects(() => native.unary(0, a, 1, a, 0, 4, 0, 0), /^unary: y: shares memory with x/);
    rejects(() => native.softmax(a, 0, a, 0, 1, 6, 1, false), /y: shares memory with x/);
    // out == a exactly, but b is a transposed view of the same storage: refused
    const m = buf.f32([1, 2, 3, 4]);
    rejects(() => native.binary(0, m, 0, m, 0, m, 0, [2, 2], [2, 1], [1, 2]), /out: shares memory with b/);
    // two outputs over one storage
    const s = buf.f32([0, 0, 0, 0]);
    rejects(() => native.lstmCellForward(s, 0, s, 0, buf.poisoned(1), 0, buf.f32([0]), 0, 1, 1), /gates: shares memory with h/);
    // copyStrided may not write one element twice
    rejects(() => native.copyStrided(buf.poisoned(4), 0, a, 0, [2, 2], [0, 1], [2, 1]), /dstStrides: the destination view must not reach an element twice/);
    // exact aliasing is fine and correct
    native.unary(15, a, 0, a, 0, 6, 2, 0);
    expect(Array.from(buf.readF32(a, 6))).toEqual([2, 4, 6, 8, 10, 12]);
  });

  it('devices and allocation: unknown devices, dtypes and impossible sizes are KilnErrors', () => {
    rejects(() => native.alloc(5, F32, 4), /^alloc: device: no backend is registered for device 5/);
    rejects(() => native.alloc(0, 7, 4), /dtype: expected 0 \(float32\), 1 \(int32\), 2 \(float64\) or 3 \(bfloat16\)/);
    rejects(() => native.alloc(0, F32, 2 ** 52), /^alloc: cpu: out of memory allocating/);
    rejects(() => native.alloc(0, F32, -1), /numel: expected a non-negative integer/);
  });
});
