// Kiln against PyTorch 1.13 (float64) for one op per family: outputs and input gradients of
// sum(out * weight). Fixture and generator: tests/fixtures/ops/{torch_ops.json,make_fixtures.py}.
// Tolerances: forward 1e-5 relative (to max(1, max|expected|)), gradients 1e-4 relative.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { crossEntropyRows } from '../../src/ops/nn.js';
import { expectClose, toKiln } from '../helpers/gradcheck.js';
import { type R, arr } from '../helpers/reference.js';

interface Enc { shape: number[]; data: number[]; dtype?: 'float32' | 'int32' }
interface Case { name: string; inputs: Record<string, Enc>; output: Enc; weight: Enc; grads: Record<string, Enc>; cond?: Enc }

const fixture = JSON.parse(readFileSync(new URL('../fixtures/ops/torch_ops.json', import.meta.url), 'utf8')) as { cases: Case[] };
const dec = (e: Enc): R => arr(e.shape, e.data);

const ops: Record<string, (x: Record<string, Tensor>, c: Case) => Tensor> = {
  gelu: ({ x }) => x.gelu(),
  sigmoid: ({ x }) => kiln.sigmoid(x),
  'softmax dim 1': ({ x }) => x.softmax(1),
  'logsumexp dim -1': ({ x }) => x.logsumexp(-1),
  'matmul batched, broadcast batch': ({ a, b }) => a.matmul(b),
  'conv2d stride 2 padding 1 dilation (1,2) bias': ({ x, w, b }) => kiln.F.conv2d(x, w, b, { stride: 2, padding: 1, dilation: [1, 2] }),
  'maxPool2d k3 s2 p1': ({ x }) => kiln.F.maxPool2d(x, 3, { stride: 2, padding: 1 }),
  'avgPool2d k3 s2 p1 countIncludePad false': ({ x }) => kiln.F.avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false }),
  'crossEntropy rows, smoothing 0.1, ignoreIndex -100': ({ logits, target }) => crossEntropyRows(logits, target, -100, 0.1),
  'var dim 1 unbiased': ({ x }) => x.var(1),
  'pow tensor^tensor': ({ a, b }) => a.pow(b),
  'where broadcast': ({ a, b }, c) => kiln.where(toKiln(dec(c.cond!)), a, b),
  'layerNorm [5] affine': ({ x, w, b }) => kiln.F.layerNorm(x, [5], w, b),
};

describe('ops vs PyTorch fixtures', () => {
  it('covers every case in the fixture, and the fixture every op family listed here', () => {
    expect(fixture.cases.map((c) => c.name).sort()).toEqual(Object.keys(ops).sort());
  });

  for (const c of fixture.cases) {
    it(c.name, () => {
      kiln.scope(() => {
        const xs: Record<string, Tensor> = {};
        for (const [k, e] of Object.entries(c.inputs)) {
          xs[k] = toKiln(dec(e), { dtype: e.dtype, requiresGrad: e.dtype === 'float32' });
        }
        const out = ops[c.name](xs, c);
        expect([...out.shape]).toEqual(c.output.shape);
        expectClose(out.toTypedArray(), c.output.data, { rtol: 1e-5 }, `${c.name} forward`);
        out.mul(toKiln(dec(c.weight))).sum().backward();
        for (const [k, g] of Object.entries(c.grads)) {
          expect([...xs[k].grad!.shape]).toEqual(g.shape);
          expectClose(xs[k].grad!.toTypedArray(), g.data, { rtol: 1e-4 }, `${c.name} gradient of ${k}`);
          xs[k].grad!.dispose();
        }
      });
    });
  }
});
