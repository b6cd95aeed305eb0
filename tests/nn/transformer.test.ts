// Attention and transformer layers against PyTorch 1.13 (tests/fixtures/transformer/make_fixtures.py):
// each module's state_dict is a safetensors file with PyTorch's key names, loaded with kiln.load and
// loadStateDict; outputs and gradients of sum(out * W) (inputs and every parameter) are compared.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { expectClose } from '../helpers/gradcheck.js';

const { nn } = kiln;
const dir = join(__dirname, '..', 'fixtures', 'transformer');
const cases = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8'));

type Json = { shape: number[]; data: number[] };
const fromJson = (j: Json, requiresGrad = false) => kiln.tensor(Float32Array.from(j.data), { shape: j.shape, requiresGrad });
function maskOf(j: any): kiln.Tensor | null {
  if (j === null || j === undefined) return null;
  return j.dtype === 'bool' ? kiln.tensor(j.data, { shape: j.shape, dtype: 'bool' }) : fromJson(j);
}

async function check(name: string, module: kiln.nn.Module, run: (m: any, xs: kiln.Tensor[], masks: Record<string, kiln.Tensor | null>) => kiln.Tensor) {
  const c = cases[name];
  const state = await kiln.load(join(dir, `${name}.safetensors`));
  module.loadStateDict(state as Record<string, kiln.Tensor>);
  expect(Object.keys(module.stateDict()).sort()).toEqual(Object.keys(state).sort());
  await kiln.scope(async () => {
    const xs = c.inputs.map((j: Json) => fromJson(j, true));
    const masks: Record<string, kiln.Tensor | null> = {};
    for (const [k, v] of Object.entries(c.masks)) masks[k] = maskOf(v);
    const out = run(module, xs, masks);
    expect(out.shape).toEqual(c.out.shape);
    expectClose(out.toTypedArray(), c.out.data, { rtol: 1e-4, atol: 1e-5 }, `${name}: output`);
    out.mul(fromJson(c.w)).sum().backward();
    xs.forEach((x: kiln.Tensor, i: number) => {
      const g = c.gradInputs[i];
      if (g === null) return;
      expectClose(x.grad!.toTypedArray(), g.data, { rtol: 1e-3, atol: 1e-5 }, `${name}: gradient of input ${i}`);
    });
    for (const [k, p] of module.namedParameters()) {
      const g = c.gradParams[k];
      if (g === null) {
        expect(p.grad, `${name}: ${k} gets no gradient`).toBeNull();
        continue;
      }
      expectClose(p.grad!.toTypedArray(), g.data, { rtol: 1e-3, atol: 1e-5 }, `${name}: gradient of ${k}`);
    }
    module.zeroGrad();
  });
}

describe('attention and transformer layers against PyTorch, loaded from its state dicts', () => {
  it('MultiheadAttention: self-attention (packed projection, fused kernel)', async () => {
    await check('mhaSelf', new nn.MultiheadAttention(8, 2), (m, [x]) => m.forward(x, x, x, { needWeights: false })[0]);
  });
  it('MultiheadAttention: cross-attention with a key padding mask and a float attention mask', async () => {
    await check('mhaCross', new nn.MultiheadAttention(8, 2), (m, [q, k, v], masks) =>
      m.forward(q, k, v, { keyPaddingMask: masks.keyPaddingMask, attnMask: masks.attnMask })[0]);
  });
  it('MultiheadAttention: the averaged attention weights (needWeights)', async () => {
    await check('mhaWeights', new nn.MultiheadAttention(8, 2), (m, [q, k, v], masks) =>
      m.forward(q, k, v, { keyPaddingMask: masks.keyPaddingMask })[1]);
  });
  it('MultiheadAttention: kdim/vdim (separate projection weights), batchFirst, a bool attention mask', async () => {
    await check('mhaKdimBatchFirst', new nn.MultiheadAttention(8, 2, { kdim: 5, vdim: 3, batchFirst: true }), (m, [q, k, v], masks) =>
      m.forward(q, k, v, { attnMask: masks.attnMask, needWeights: false })[0]);
  });
  it('TransformerEncoderLayer (post-norm, relu) with a causal mask', async () => {
    await check('encoderLayer', new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0 }), (m, [x], masks) =>
      m.forward(x, { srcMask: masks.srcMask }));
  });
  it('TransformerEncoderLayer (normFirst, gelu, batchFirst) with a key padding mask', async () => {
    await check('encoderLayerNormFirstGelu', new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0, activation: 'gelu', normFirst: true, batchFirst: true }),
      (m, [x], masks) => m.forward(x, { srcKeyPaddingMask: masks.srcKeyPaddingMask }));
  });
  it('TransformerDecoderLayer with a target mask and a memory key padding mask', async () => {
    await check('decoderLayer', new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 16, dropout: 0 }), (m, [x, mem], masks) =>
      m.forward(x, mem, { tgtMask: masks.tgtMask, memoryKeyPaddingMask: masks.memoryKeyPaddingMask }));
  });
  it('TransformerEncoder (2 layers and a final norm) and TransformerDecoder (2 normFirst layers)', async () => {
    await check('encoder', new nn.TransformerEncoder(new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0 }), 2, { norm: new nn.LayerNorm(8) }),
      (m, [x], masks) => m.forward(x, { mask: masks.mask }));
    await check('decoder', new nn.TransformerDecoder(new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 16, dropout: 0, normFirst: true }), 2),
      (m, [x, mem], masks) => m.forward(x, mem, { tgtMask: masks.tgtMask }));
  });
  it('isCausal takes the fused causal path and equals an explicit causal mask', () => {
    kiln.manualSeed(1);
    const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0, batchFirst: true });
    const x = kiln.randn([2, 70, 8]);
    const mask = kiln.triu(kiln.ones([70, 70]), 1).bool();
    const a = layer.forward(x, { isCausal: true });
    const b = layer.forward(x, { srcMask: mask });
    expectClose(a.toTypedArray(), b.toTypedArray(), { rtol: 1e-5, atol: 1e-5 }, 'causal');
  });
  it('copies in TransformerEncoder start equal and train apart; bad options are refused', () => {
    const enc = new nn.TransformerEncoder(new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16 }), 3);
    const sd = enc.stateDict();
    expect(Object.keys(sd).filter((k) => k.startsWith('layers.2.')).length).toBe(12);
    expect(Array.from(sd['layers.0.linear1.weight'].toTypedArray())).toEqual(Array.from(sd['layers.2.linear1.weight'].toTypedArray()));
    expect(sd['layers.0.linear1.weight'].storage).not.toBe(sd['layers.2.linear1.weight'].storage);
    expect(() => new nn.MultiheadAttention(8, 3)).toThrow(/not divisible by numHeads/);
    expect(() => new nn.TransformerEncoderLayer(8, 2, { dimFeedForward: 4 } as any)).toThrow(/unknown option 'dimFeedForward'/);
    const m = new nn.MultiheadAttention(8, 2);
    const x = kiln.zeros([3, 1, 8]);
    expect(() => m.forward(x, x, x, { keyPaddingMask: kiln.zeros([1, 4], { dtype: 'bool' }) })).toThrow(/keyPaddingMask: expected \[1, 3\]/);
    expect(() => m.forward(x, x, x, { need_weights: false } as any)).toThrow(/unknown option 'need_weights'/);
  });
});
