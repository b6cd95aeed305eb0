// kiln.autocast({ dtype: 'bfloat16' }): matmul, linear and conv2d multiply bfloat16-rounded
// operands with float32 accumulation, forward and backward. Reference: the same op at full
// precision on operands rounded to bfloat16 here in JS (products of bf16 values are exact in
// float32, so only the summation order differs: 1e-5 relative to the output's scale).
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';

const { F } = kiln;
const bits = new Uint32Array(1);
const f = new Float32Array(bits.buffer);
function bf16(x: number): number {
  f[0] = x;
  const u = bits[0];
  if ((u & 0x7fffffff) > 0x7f800000) return NaN;
  bits[0] = ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) << 16;
  return f[0];
}
/** A copy of t with every value rounded to bfloat16. */
const rounded = (t: kiln.Tensor) => kiln.tensor(Float32Array.from(t.toTypedArray(), bf16), { shape: [...t.shape] });

function relErr(a: kiln.Tensor, b: kiln.Tensor): number {
  const x = a.toTypedArray(), y = b.toTypedArray();
  let d = 0, s = 0;
  for (let i = 0; i < y.length; i++) { d = Math.max(d, Math.abs(x[i] - y[i])); s = Math.max(s, Math.abs(y[i])); }
  return d / Math.max(s, 1e-30);
}

describe('autocast bfloat16', () => {
  it('linear, matmul (batched, broadcast, 1-D) and conv2d multiply rounded operands', () => {
    kiln.manualSeed(1);
    const x = kiln.randn([33, 70]), w = kiln.randn([45, 70]), b = kiln.randn([45]);
    const y = kiln.autocast({ dtype: 'bfloat16' }, () => F.linear(x, w, b));
    const ref = F.linear(rounded(x), rounded(w), b);
    expect(relErr(y, ref)).toBeLessThan(1e-5);
    // and it is not the float32 result
    expect(relErr(y, F.linear(x, w, b))).toBeGreaterThan(1e-4);
    // the unfused path (3-D input: matmul with the transposed weight)
    const x3 = kiln.randn([2, 5, 70]);
    expect(relErr(kiln.autocast({}, () => F.linear(x3, w, b)), F.linear(rounded(x3), rounded(w), b))).toBeLessThan(1e-5);
    const a = kiln.randn([3, 1, 9, 31]), c = kiln.randn([4, 31, 6]);
    expect(relErr(kiln.autocast({}, () => a.matmul(c)), rounded(a).matmul(rounded(c)))).toBeLessThan(1e-5);
    const v = kiln.randn([6]);
    expect(relErr(kiln.autocast({}, () => c.matmul(v)), rounded(c).matmul(rounded(v)))).toBeLessThan(1e-5);
    const img = kiln.randn([2, 3, 9, 8]), k = kiln.randn([5, 3, 3, 2]), kb = kiln.randn([5]);
    const opts = { stride: [2, 1] as [number, number], padding: 1, dilation: [1, 2] as [number, number] };
    expect(relErr(kiln.autocast({}, () => F.conv2d(img, k, kb, opts)), F.conv2d(rounded(img), rounded(k), kb, opts))).toBeLessThan(1e-5);
    // elementwise ops are untouched
    expect(Array.from(kiln.autocast({}, () => x.exp()).toTypedArray())).toEqual(Array.from(x.exp().toTypedArray()));
  });

  it('gradients: the backward GEMMs round their operands too, even when backward runs outside autocast', () => {
    kiln.manualSeed(2);
    const x = kiln.randn([17, 40]).requiresGrad_(), w = kiln.randn([23, 40]).requiresGrad_(), b = kiln.randn([23]).requiresGrad_();
    const g = kiln.randn([17, 23]);
    const y = kiln.autocast({}, () => F.linear(x, w, b));
    y.mul(g).sum().backward(); // outside autocast
    // dx = bf16(g) @ bf16(W), dW = bf16(g)^T @ bf16(x), db = sum(g)
    expect(relErr(x.grad!, rounded(g).matmul(rounded(w)))).toBeLessThan(1e-5);
    expect(relErr(w.grad!, rounded(g).t().matmul(rounded(x)))).toBeLessThan(1e-5);
    expect(relErr(b.grad!, g.sum(0))).toBeLessThan(1e-6);

    const a = kiln.randn([3, 7, 11]).requiresGrad_(), m = kiln.randn([11, 5]).requiresGrad_();
    const ga = kiln.randn([3, 7, 5]);
    kiln.autocast({}, () => a.matmul(m).mul(ga).sum().backward());
    expect(relErr(a.grad!, rounded(ga).matmul(rounded(m).t()))).toBeLessThan(1e-5);
    expect(relErr(m.grad!, rounded(a).transpose(1, 2).matmul(rounded(ga)).sum(0))).toBeLessThan(1e-5);

    const img = kiln.randn([2, 3, 7, 7]).requiresGrad_(), k = kiln.randn([4, 3, 3, 3]).requiresGrad_();
    const out = kiln.autocast({}, () => F.conv2d(img, k, null, { padding: 1 }));
    const gc = kiln.randn(out.shape as number[]);
    out.mul(gc).sum().backward();
    // reference: the float32 conv's gradients on rounded image, kernel and output gradient
    const ri = rounded(img).requiresGrad_(), rk = rounded(k).requiresGrad_();
    F.conv2d(ri, rk, null, { padding: 1 }).mul(rounded(gc)).sum().backward();
    expect(relErr(img.grad!, ri.grad!)).toBeLessThan(1e-5);
    expect(relErr(k.grad!, rk.grad!)).toBeLessThan(1e-5);
  });

  it('second derivatives through an autocast linear (createGraph) match the first-order kernels', () => {
    kiln.manualSeed(3);
    const x = kiln.randn([6, 10]).requiresGrad_(), w = kiln.randn([4, 10]);
    const y = kiln.autocast({}, () => F.linear(x, w).tanh().sum());
    const [gx] = kiln.autograd.grad(y, x, { createGraph: true });
    const first = kiln.autocast({}, () => F.linear(x, w).tanh().sum());
    first.backward();
    expect(relErr(gx, x.grad!)).toBeLessThan(1e-5);
    gx.square().sum().backward(); // differentiable
    expect(x.grad!.shape).toEqual([6, 10]);
  });

  it('nests, can be switched off, follows await, and checks its options', async () => {
    kiln.manualSeed(4);
    const x = kiln.randn([8, 64]), w = kiln.randn([16, 64]);
    const full = F.linear(x, w);
    const inner = kiln.autocast({}, () => kiln.autocast({ enabled: false }, () => F.linear(x, w)));
    expect(Array.from(inner.toTypedArray())).toEqual(Array.from(full.toTypedArray()));
    const later = await kiln.autocast({}, async () => {
      await new Promise((r) => setTimeout(r, 1));
      return F.linear(x, w);
    });
    expect(relErr(later, F.linear(rounded(x), rounded(w)))).toBeLessThan(1e-5);
    expect(() => kiln.autocast({ dtype: 'float16' as any }, () => 0)).toThrow(/dtype: autocast supports 'bfloat16'/);
    expect(() => kiln.autocast({ device: 'cpu' } as any, () => 0)).toThrow(/unknown option 'device'/);
  });

  it('reports the kernel path', () => {
    expect(['avx512_bf16', 'emulated']).toContain(kiln.backendInfo().cpu.bf16);
  });
});
