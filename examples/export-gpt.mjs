// Train a small character GPT (the model of examples/char-gpt.mjs) on Tiny Shakespeare, export it
// to ONNX with a dynamic batch and sequence length, and generate text with onnxruntime-node:
// greedy decoding from the same prompt in Kiln and in onnxruntime, comparing the logits of every
// step (the context grows by one token per step, so each step runs the file at a new length).
//
//   npm run build:ts && node examples/export-gpt.mjs [--steps 300] [--block 64] [--tokens 120] [--out gpt.onnx]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import * as kiln from '../dist/index.js';

const { gpt } = await import(new URL('../bench/models.mjs', import.meta.url).href);
const { data, optim, nn } = kiln;
const args = process.argv.slice(2);
/** @param {string} name @param {string} dflt */
const arg = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const steps = Number(arg('--steps', '300'));
const block = Number(arg('--block', '64'));
const tokens = Number(arg('--tokens', '120'));
const out = arg('--out', join(mkdtempSync(join(tmpdir(), 'kiln-onnx-')), 'char-gpt.onnx'));

const text = data.text.loadTinyShakespeare();
const tok = data.text.CharTokenizer.fromText(text);
const ids = tok.encode(text);
const train = new data.text.TokenWindowDataset(ids, block);
kiln.manualSeed(0);
const model = gpt(kiln, { vocabSize: tok.vocabSize, blockSize: block, nLayer: 2, nHead: 4, nEmbd: 64 });
const opt = new optim.Adam(model.parameters(), { lr: 2e-3 });
const rng = data.mulberry32(0);
for (let step = 1; step <= steps; step++) {
  const loss = kiln.scope(() => {
    const offsets = Array.from({ length: 16 }, () => Math.floor(rng() * (ids.length - block - 1)));
    const [x, y] = train.batchAt(offsets);
    const l = model.loss(x, y);
    opt.zeroGrad();
    l.backward();
    nn.utils.clipGradNorm(model.parameters(), 1.0);
    opt.step();
    return l.item();
  });
  if (step % 100 === 0 || step === steps) console.log(`step ${step}: train loss ${loss.toFixed(4)}`);
}

// export at a sample of 2 x 8 tokens; batch and sequence length are dynamic (up to the block size)
const sample = kiln.tensor(Int32Array.from(ids.subarray(0, 16)), { dtype: 'int32', shape: [2, 8] });
await kiln.onnx.export(model, sample, out, { inputNames: ['idx'], outputNames: ['logits'], dynamicAxes: { idx: { 0: 'batch', 1: 'seq' } } });
console.log(`exported ${out}`);

const session = await ort.InferenceSession.create(out);
const V = tok.vocabSize;
/** Index of the largest of the V logits of the last position. @param {Float32Array} logits @param {number} T */
const argmaxLast = (logits, T) => {
  let best = 0;
  for (let k = 1; k < V; k++) if (logits[(T - 1) * V + k] > logits[(T - 1) * V + best]) best = k;
  return best;
};
model.eval();
const prompt = Array.from(tok.encode('ROMEO:\n'));
const ctxOrt = [...prompt];
let agree = 0;
let worst = 0;
for (let i = 0; i < tokens; i++) {
  const window = ctxOrt.slice(-block);
  const T = window.length;
  const feed = Int32Array.from(window);
  const result = await session.run({ idx: new ort.Tensor('int32', feed, [1, T]) });
  const served = /** @type {Float32Array} */ (result.logits.data);
  const ref = /** @type {Float32Array} */ (kiln.noGrad(() => kiln.scope(() => model.forward(kiln.tensor(feed, { dtype: 'int32', shape: [1, T] })).toTypedArray())));
  let diff = 0;
  let scale = 0;
  for (let k = 0; k < served.length; k++) {
    diff = Math.max(diff, Math.abs(served[k] - ref[k]));
    scale = Math.max(scale, Math.abs(ref[k]));
  }
  worst = Math.max(worst, diff / scale);
  const next = argmaxLast(served, T);
  if (next === argmaxLast(ref, T)) agree++;
  ctxOrt.push(next);
}
await session.release();
console.log(`--- greedy text from onnxruntime-node ---\n${tok.decode(ctxOrt)}\n---`);
console.log(`${tokens} steps at lengths ${prompt.length}..${Math.min(block, prompt.length + tokens - 1)}: largest logit difference ` +
  `${worst.toExponential(2)} of the largest logit; Kiln picks the same next token at ${agree}/${tokens} steps`);
