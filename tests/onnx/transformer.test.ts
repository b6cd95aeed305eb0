// kiln.onnx.export of attention and the transformer layers: scaledDotProductAttention (masks,
// causal), MultiheadAttention (weights, causal, padding masks, cross-attention), the encoder and
// decoder layers and stacks, and the GPT of examples/char-gpt.mjs, each run in onnxruntime-node
// on random inputs (several sizes when the axes are dynamic) and compared with Kiln's forward
// within 1e-5 relative to each output's scale. Also bidirectional recurrent layers with lengths.
// Skipped when onnxruntime-node is absent; the error cases and the python3-onnx checker run without it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { gpt } from '../../bench/models.mjs';
import { hasPythonOnnx, loadOrt, pythonCheck, roundTrip } from './helpers.js';

const { nn, F } = kiln;
const ort = await loadOrt();
const withOrt = describe.skipIf(ort === null);
const errors: Record<string, number> = {};

/** An additive padding mask [N, S]: -inf on about a third of the keys, never on key 0 (no empty row). */
function paddingMask(N: number, S: number): kiln.Tensor {
  return kiln.noGrad(() => kiln.scope(() => {
    const drop = kiln.rand([N, S]).lt(0.35).mul(kiln.arange(0, S).gt(0).float());
    return kiln.where(drop, -Infinity, 0);
  }));
}

class Sdpa extends nn.Module {
  constructor(private readonly opts: { isCausal?: boolean; mask?: kiln.Tensor; scale?: number } = {}) { super(); }
  forward(q: kiln.Tensor, k: kiln.Tensor, v: kiln.Tensor, mask?: kiln.Tensor): kiln.Tensor {
    const { isCausal = false, scale } = this.opts;
    return F.scaledDotProductAttention(q, k, v, { isCausal, attnMask: mask ?? this.opts.mask ?? null, scale });
  }
}

/** Self-attention through MultiheadAttention (forward options fixed, an optional padding mask input). */
class SelfAttention extends nn.Module {
  mha: kiln.nn.MultiheadAttention;
  constructor(E: number, H: number, mopts: kiln.nn.MultiheadAttentionOptions,
    private readonly fopts: kiln.nn.MultiheadAttentionForwardOptions = {}) {
    super();
    this.mha = new nn.MultiheadAttention(E, H, mopts);
  }
  forward(x: kiln.Tensor, keyPaddingMask?: kiln.Tensor) {
    return this.mha.forward(x, x, x, { ...this.fopts, keyPaddingMask: keyPaddingMask ?? null });
  }
}

class CrossAttention extends nn.Module {
  mha = new nn.MultiheadAttention(8, 2, { kdim: 5, vdim: 3 });
  constructor(private readonly fopts: kiln.nn.MultiheadAttentionForwardOptions) { super(); }
  forward(q: kiln.Tensor, k: kiln.Tensor, v: kiln.Tensor, attnMask?: kiln.Tensor) {
    return this.mha.forward(q, k, v, { ...this.fopts, attnMask: attnMask ?? this.fopts.attnMask ?? null });
  }
}

class Encoder extends nn.Module {
  constructor(readonly enc: kiln.nn.Module, private readonly fopts: Record<string, unknown> = {}) { super(); }
  forward(x: kiln.Tensor, padding?: kiln.Tensor) {
    return this.enc.forward(x, padding === undefined ? this.fopts : { ...this.fopts, srcKeyPaddingMask: padding });
  }
}

class Decoder extends nn.Module {
  constructor(readonly dec: kiln.nn.Module, private readonly fopts: Record<string, unknown> = {}) { super(); }
  forward(tgt: kiln.Tensor, memory: kiln.Tensor, memoryPadding?: kiln.Tensor) {
    return this.dec.forward(tgt, memory, memoryPadding === undefined ? this.fopts : { ...this.fopts, memoryKeyPaddingMask: memoryPadding });
  }
}

withOrt('onnx.export of attention and transformers in onnxruntime-node', () => {
  it('scaledDotProductAttention: plain, causal (L < S, L > S), float mask input, bool mask constant, 3-d, dynamic sizes', async () => {
    kiln.manualSeed(21);
    const qkv = (B: number, H: number, L: number, S: number, E: number) => [kiln.randn([B, H, L, E]), kiln.randn([B, H, S, E]), kiln.randn([B, H, S, E + 1])];
    const names = { inputNames: ['q', 'k', 'v'] };
    const dyn = { ...names, dynamicAxes: { q: { 0: 'batch', 2: 'L' }, k: { 0: 'batch', 2: 'S' }, v: { 0: 'batch', 2: 'S' } } };
    errors.sdpa = await roundTrip(ort!, new Sdpa(), [qkv(2, 3, 5, 7, 4), qkv(1, 3, 9, 4, 4)], dyn);
    errors.sdpaCausal = await roundTrip(ort!, new Sdpa({ isCausal: true }), [qkv(2, 2, 4, 6, 8), qkv(3, 2, 7, 5, 8), qkv(1, 2, 6, 6, 8)], dyn);
    errors.sdpaScale = await roundTrip(ort!, new Sdpa({ isCausal: true, scale: 0.9 }), [qkv(2, 2, 5, 5, 3)]);
    // a float mask as a graph input, broadcast over heads: [B, 1, L, S]
    const withMask = (B: number, L: number, S: number) => [...qkv(B, 2, L, S, 4), paddingMask(B * L, S).reshape([B, 1, L, S])];
    errors.sdpaFloatMask = await roundTrip(ort!, new Sdpa(), [withMask(2, 3, 6), withMask(3, 5, 4)],
      { inputNames: ['q', 'k', 'v', 'mask'], dynamicAxes: { q: [0, 2], k: [0, 2], v: [0, 2], mask: [0, 2, 3] } });
    // a bool mask made with the model (true: take part), broadcast over batch and heads
    const boolMask = kiln.noGrad(() => kiln.rand([5, 6]).gt(0.4).add(kiln.arange(0, 6).eq(0)).gt(0).bool());
    errors.sdpaBoolMask = await roundTrip(ort!, new Sdpa({ mask: boolMask }), [qkv(2, 3, 5, 6, 4), qkv(4, 3, 5, 6, 4)],
      { ...names, dynamicAxes: { q: [0], k: [0], v: [0] } });
    // 3-d [B, L, E] (one head): the op reshapes to 4-d and back
    const three = (B: number, L: number) => [kiln.randn([B, L, 4]), kiln.randn([B, L, 4]), kiln.randn([B, L, 4])];
    errors.sdpa3d = await roundTrip(ort!, new Sdpa({ isCausal: true }), [three(2, 5), three(3, 8)], { ...names, dynamicAxes: { q: [0, 1], k: [0, 1], v: [0, 1] } });
  });

  it('MultiheadAttention: weights (averaged and per head), causal, key padding mask input, batchFirst, dynamic batch and length', async () => {
    kiln.manualSeed(22);
    // sequence first [L, N, E], returns [y, weights [N, L, S]]; the causal mask is built from the scores' shape
    const causal = new SelfAttention(8, 2, {}, { isCausal: true });
    errors.mhaCausalWeights = await roundTrip(ort!, causal, [[kiln.randn([5, 2, 8])], [kiln.randn([9, 3, 8])]],
      { outputNames: ['y', 'weights'], dynamicAxes: { input: { 0: 'seq', 1: 'batch' } } });
    // batch first, the fused path (no weights), a float key padding mask as a second input
    const padded = new SelfAttention(12, 3, { batchFirst: true }, { needWeights: false });
    const args = (N: number, L: number) => [kiln.randn([N, L, 12]), paddingMask(N, L)];
    errors.mhaPadding = await roundTrip(ort!, padded, [args(2, 6), args(3, 4), args(1, 9)],
      { inputNames: ['x', 'padding'], dynamicAxes: { x: [0, 1], padding: [0, 1] } });
    // weights per head [N, H, L, S], unbatched [L, E] input
    const perHead = new SelfAttention(8, 4, {}, { averageAttnWeights: false });
    errors.mhaPerHead = await roundTrip(ort!, perHead, [[kiln.randn([6, 8])], [kiln.randn([3, 8])]], { dynamicAxes: { input: [0] } });
  });

  it('MultiheadAttention: cross-attention (kdim, vdim), a bool [L, S] mask constant and a float [N*H, L, S] mask input', async () => {
    kiln.manualSeed(23);
    const L = 4;
    const S = 6;
    const qkv = (N: number, l: number, s: number) => [kiln.randn([l, N, 8]), kiln.randn([s, N, 5]), kiln.randn([s, N, 3])];
    // bool: true where attention is NOT allowed (nn.MultiheadAttention's convention); key 0 always allowed
    const notAllowed = kiln.noGrad(() => kiln.rand([L, S]).lt(0.4).mul(kiln.arange(0, S).gt(0).float()).bool());
    const boolMasked = new CrossAttention({ attnMask: notAllowed, needWeights: false });
    errors.mhaCrossBool = await roundTrip(ort!, boolMasked, [qkv(2, L, S), qkv(5, L, S)],
      { inputNames: ['q', 'k', 'v'], dynamicAxes: { q: [1], k: [1], v: [1] } });
    const floatMasked = new CrossAttention({});
    errors.mhaCross3d = await roundTrip(ort!, floatMasked, [[...qkv(2, L, S), paddingMask(2 * 2 * L, S).reshape([4, L, S])]]);
  });

  it('TransformerEncoderLayer (post-norm relu; pre-norm gelu batch-first causal) and a 2-layer encoder with a norm and padding', async () => {
    kiln.manualSeed(24);
    const post = new nn.TransformerEncoderLayer(16, 4, { dimFeedforward: 32 });
    errors.encoderPost = await roundTrip(ort!, new Encoder(post), [[kiln.randn([5, 2, 16])], [kiln.randn([3, 4, 16])]],
      { dynamicAxes: { input: [0, 1] } });
    const pre = new nn.TransformerEncoderLayer(16, 2, { dimFeedforward: 24, activation: 'gelu', normFirst: true, batchFirst: true });
    errors.encoderPreCausal = await roundTrip(ort!, new Encoder(pre, { isCausal: true }), [[kiln.randn([2, 6, 16])], [kiln.randn([3, 11, 16])]],
      { dynamicAxes: { input: [0, 1] } });
    const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true });
    const stack = new nn.TransformerEncoder(layer, 2, { norm: new nn.LayerNorm(8) });
    const args = (N: number, L: number) => [kiln.randn([N, L, 8]), paddingMask(N, L)];
    errors.encoderStack = await roundTrip(ort!, new Encoder(stack), [args(2, 5), args(3, 7)],
      { inputNames: ['src', 'padding'], dynamicAxes: { src: [0, 1], padding: [0, 1] } });
  });

  it('TransformerDecoderLayer (causal target, memory padding input) and a 2-layer decoder, dynamic lengths', async () => {
    kiln.manualSeed(25);
    const layer = new nn.TransformerDecoderLayer(12, 3, { dimFeedforward: 20 });
    const args = (N: number, T: number, S: number) => [kiln.randn([T, N, 12]), kiln.randn([S, N, 12]), paddingMask(N, S)];
    errors.decoderLayer = await roundTrip(ort!, new Decoder(layer, { tgtIsCausal: true }), [args(2, 4, 6), args(3, 7, 3)],
      { inputNames: ['tgt', 'memory', 'padding'], dynamicAxes: { tgt: [0, 1], memory: [0, 1], padding: [0, 1] } });
    const pre = new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 16, normFirst: true, activation: 'gelu', batchFirst: true });
    const dec = new nn.TransformerDecoder(pre, 2, { norm: new nn.LayerNorm(8) });
    const pair = (N: number, T: number, S: number) => [kiln.randn([N, T, 8]), kiln.randn([N, S, 8])];
    errors.decoderStack = await roundTrip(ort!, new Decoder(dec, { tgtIsCausal: true }), [pair(2, 5, 3), pair(1, 8, 6)],
      { inputNames: ['tgt', 'memory'], dynamicAxes: { tgt: [0, 1], memory: [0, 1] } });
  });

  it('the GPT of examples/char-gpt.mjs (token + position embeddings, causal blocks, tied head), dynamic batch and length', async () => {
    kiln.manualSeed(26);
    const model = gpt(kiln, { vocabSize: 13, blockSize: 24, nLayer: 2, nHead: 2, nEmbd: 16 });
    const idx = (B: number, T: number) => [kiln.randint(0, 13, [B, T])];
    errors.gpt = await roundTrip(ort!, model, [idx(2, 5), idx(3, 11), idx(1, 24), idx(4, 1)],
      { inputNames: ['idx'], outputNames: ['logits'], dynamicAxes: { idx: { 0: 'batch', 1: 'seq' } } });
  });

  it('bidirectional LSTM, GRU and RNN (2 layers, given states), and lengths (packed sequences)', async () => {
    kiln.manualSeed(27);
    class Bi extends nn.Module {
      constructor(readonly rnn: kiln.nn.Module, private readonly lengths: number[] | null = null) { super(); }
      forward(x: kiln.Tensor, h0: kiln.Tensor, c0?: kiln.Tensor) {
        const state = c0 === undefined ? h0 : [h0, c0];
        return this.rnn.forward(x, state, { lengths: this.lengths });
      }
    }
    const state = (B: number) => kiln.randn([4, B, 6]);
    const lstm = new nn.LSTM(5, 6, { numLayers: 2, bidirectional: true, batchFirst: true });
    errors.lstmBi = await roundTrip(ort!, new Bi(lstm), [[kiln.randn([3, 4, 5]), state(3), state(3)], [kiln.randn([2, 7, 5]), state(2), state(2)]],
      { inputNames: ['x', 'h0', 'c0'], dynamicAxes: { x: [0, 1], h0: [1], c0: [1] } });
    const gru = new nn.GRU(5, 6, { numLayers: 2, bidirectional: true });
    errors.gruBi = await roundTrip(ort!, new Bi(gru), [[kiln.randn([4, 3, 5]), state(3)], [kiln.randn([6, 2, 5]), state(2)]],
      { inputNames: ['x', 'h0'], dynamicAxes: { x: [0, 1], h0: [1] } });
    const rnn = new nn.RNN(5, 6, { numLayers: 2, bidirectional: true, nonlinearity: 'relu' });
    errors.rnnBi = await roundTrip(ort!, new Bi(rnn), [[kiln.randn([4, 3, 5]), state(3)]]);
    // lengths: outputs past each length are 0, the finals are the last valid step's
    const packed = new nn.LSTM(5, 6, { numLayers: 2, bidirectional: true });
    errors.lstmLengths = await roundTrip(ort!, new Bi(packed, [4, 2, 3]), [[kiln.randn([4, 3, 5]), state(3), state(3)], [kiln.randn([6, 3, 5]), state(3), state(3)]],
      { inputNames: ['x', 'h0', 'c0'], dynamicAxes: { x: [0] } });
    const packedGru = new nn.GRU(5, 6, { numLayers: 2, bidirectional: true, batchFirst: true });
    errors.gruLengths = await roundTrip(ort!, new Bi(packedGru, [1, 3]), [[kiln.randn([2, 3, 5]), state(2)]]);
  });

  it('reports the largest relative error per case', () => {
    console.log('onnx transformer round-trip relative errors:', JSON.stringify(errors));
    expect(Object.keys(errors).length).toBeGreaterThanOrEqual(21);
  });
});

describe('onnx.export errors (attention)', () => {
  it('names what cannot be exported: random draws in forward, positions not sized from an input', () => {
    kiln.manualSeed(28);
    class DropoutAttention extends nn.Module {
      forward(x: kiln.Tensor) { return F.scaledDotProductAttention(x, x, x, { dropoutP: 0.1 }); }
    }
    expect(() => kiln.onnx.exportBytes(new DropoutAttention(), kiln.randn([1, 2, 3, 4]))).toThrow(/op 'random' cannot be exported.*dropoutP/);
    class TrainingDropout extends nn.Module {
      forward(x: kiln.Tensor) { return F.dropout(x, 0.5, true); }
    }
    expect(() => kiln.onnx.exportBytes(new TrainingDropout(), kiln.randn([2, 3]))).toThrow(/op 'random'/);
    class DoubledPositions extends nn.Module {
      emb = new nn.Embedding(40, 4);
      forward(idx: kiln.Tensor) { return this.emb.forward(kiln.arange(0, 2 * idx.shape[1])); }
    }
    expect(() => kiln.onnx.exportBytes(new DoubledPositions(), kiln.randint(0, 5, [2, 3]), { dynamicAxes: { input: [1] } }))
      .toThrow(/arange\(0, 6\) ends at a size that moves with the dynamic axes/);
    // the same model without dynamic axes exports (the positions are a constant)
    expect(kiln.onnx.exportBytes(new DoubledPositions(), kiln.randint(0, 5, [2, 3])).length).toBeGreaterThan(0);
  });

  it('MultiheadAttention weights that are null (needWeights false) are left out of the outputs', () => {
    const m = new SelfAttention(8, 2, {}, { needWeights: false });
    const bytes = kiln.onnx.exportBytes(m, kiln.randn([3, 2, 8]));
    expect(bytes.length).toBeGreaterThan(0);
  });
});

describe.skipIf(!hasPythonOnnx())('python3-onnx checker (attention)', () => {
  it('accepts the exported attention, transformer and GPT files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-onnx-attn-'));
    kiln.manualSeed(29);
    const qkv = [kiln.randn([2, 2, 4, 8]), kiln.randn([2, 2, 6, 8]), kiln.randn([2, 2, 6, 8])];
    const cases: [string, kiln.nn.Module, kiln.Tensor[], kiln.onnx.ExportOptions][] = [
      ['sdpa', new Sdpa({ isCausal: true }), qkv, { dynamicAxes: { input_0: [0, 2], input_1: [0, 2], input_2: [0, 2] } }],
      ['mha', new SelfAttention(8, 2, {}, { isCausal: true }), [kiln.randn([5, 2, 8])], { dynamicAxes: { input: [0, 1] } }],
      ['encoder', new Encoder(new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true })),
        [kiln.randn([2, 5, 8]), paddingMask(2, 5)], { dynamicAxes: { input_0: [0, 1], input_1: [0, 1] } }],
      ['decoder', new Decoder(new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 16 }), { tgtIsCausal: true }),
        [kiln.randn([4, 2, 8]), kiln.randn([3, 2, 8])], {}],
      ['gpt', gpt(kiln, { vocabSize: 11, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 8 }), [kiln.randint(0, 11, [2, 6])],
        { dynamicAxes: { input: [0, 1] } }],
      ['bilstm', new nn.LSTM(3, 4, { bidirectional: true, numLayers: 2 }), [kiln.randn([5, 2, 3])], { dynamicAxes: { input: [0, 1] } }],
    ];
    const paths = [];
    for (const [name, model, inputs, opts] of cases) {
      const path = join(dir, `${name}.onnx`);
      await kiln.onnx.export(model, inputs, path, opts);
      paths.push(path);
    }
    expect(pythonCheck(paths)).toEqual(cases.map(() => 'ok'));
  });
});
