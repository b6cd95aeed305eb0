// A character-level GPT on Tiny Shakespeare (data/tinyshakespeare, public domain): token +
// position embeddings, pre-norm blocks with causal self-attention (the fused kernel), weight tying.
// Prints train and validation loss, training tokens/s, and a sample (temperature + top-k).
//
//   npm run build:ts && node examples/char-gpt.mjs [--steps 2000] [--batch 32] [--block 128]
//       [--layers 4] [--heads 4] [--embd 128] [--lr 1e-3] [--eval-every 250] [--eval-batches 20]
//       [--seed 1337] [--save-init FILE] [--json FILE] [--sample 400] [--temperature 0.8] [--top-k 10]
//
// The data order is fixed by --seed (mulberry32 draws the window offsets), as in
// bench/peers/torch_gpt.py, which trains the same model in PyTorch; --save-init writes the initial
// weights (safetensors, PyTorch's names) so that the peer starts from exactly the same ones.
import { writeFileSync } from 'node:fs';
import * as kiln from '../dist/index.js';
// the model is shared with the benchmark (bench/models.mjs, W8)
const { gpt } = await import(new URL('../bench/models.mjs', import.meta.url).href);

const { data, optim, nn } = kiln;
const args = process.argv.slice(2);
/** @param {string} name @param {string} dflt */
const arg = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const cfg = {
  steps: Number(arg('--steps', '2000')), batch: Number(arg('--batch', '32')), block: Number(arg('--block', '128')),
  layers: Number(arg('--layers', '4')), heads: Number(arg('--heads', '4')), embd: Number(arg('--embd', '128')),
  lr: Number(arg('--lr', '1e-3')), evalEvery: Number(arg('--eval-every', '250')), evalBatches: Number(arg('--eval-batches', '20')),
  seed: Number(arg('--seed', '1337')), sample: Number(arg('--sample', '400')), temperature: Number(arg('--temperature', '0.8')),
  topK: Number(arg('--top-k', '10')),
};

const text = data.text.loadTinyShakespeare();
const tok = data.text.CharTokenizer.fromText(text);
const ids = tok.encode(text);
const nTrain = Math.floor(0.9 * ids.length);
const train = new data.text.TokenWindowDataset(ids.subarray(0, nTrain), cfg.block);
const val = new data.text.TokenWindowDataset(ids.subarray(nTrain), cfg.block);
console.log(`Tiny Shakespeare: ${ids.length} characters, vocabulary ${tok.vocabSize}; ${nTrain} train, ${ids.length - nTrain} validation`);

kiln.manualSeed(cfg.seed);
const model = gpt(kiln, { vocabSize: tok.vocabSize, blockSize: cfg.block, nLayer: cfg.layers, nHead: cfg.heads, nEmbd: cfg.embd });
console.log(`GPT: ${cfg.layers} layers, ${cfg.heads} heads, ${cfg.embd} wide, context ${cfg.block}: ${model.numParameters()} parameters`);
const saveInit = arg('--save-init', '');
if (saveInit) {
  await kiln.save(model.stateDict(), saveInit);
  console.log(`initial weights: ${saveInit}`);
}

// the same offsets as the peer: mulberry32(seed) for training, mulberry32(seed + 1) for validation
const trainRng = data.mulberry32(cfg.seed);
/** @param {() => number} rng @param {number} n @param {{ tokens: Int32Array }} ds */
const offsets = (rng, n, ds) => Array.from({ length: n }, () => Math.floor(rng() * (ds.tokens.length - cfg.block - 1)));
const valOffsets = offsets(data.mulberry32(cfg.seed + 1), cfg.evalBatches * cfg.batch, val);

function evaluate() {
  return kiln.noGrad(() => kiln.scope(() => {
    model.eval();
    let sum = 0;
    for (let b = 0; b < cfg.evalBatches; b++) {
      const [x, y] = val.batchAt(valOffsets.slice(b * cfg.batch, (b + 1) * cfg.batch));
      sum += model.loss(x, y).item();
    }
    model.train();
    return sum / cfg.evalBatches;
  }));
}

const opt = new optim.Adam(model.parameters(), { lr: cfg.lr });
const history = [];
let trainTime = 0;
let lossAcc = 0;
let lossN = 0;
for (let step = 1; step <= cfg.steps; step++) {
  const t0 = performance.now();
  const loss = kiln.scope(() => {
    const [x, y] = train.batchAt(offsets(trainRng, cfg.batch, train));
    const l = model.loss(x, y);
    opt.zeroGrad();
    l.backward();
    nn.utils.clipGradNorm(model.parameters(), 1.0);
    opt.step();
    return l.item();
  });
  trainTime += performance.now() - t0;
  lossAcc += loss;
  lossN++;
  if (step % cfg.evalEvery === 0 || step === cfg.steps) {
    const v = evaluate();
    const tps = (step * cfg.batch * cfg.block) / (trainTime / 1e3);
    history.push({ step, train: lossAcc / lossN, val: v, tokensPerSecond: tps });
    console.log(`step ${step}: train loss ${(lossAcc / lossN).toFixed(4)}, val loss ${v.toFixed(4)}, ${tps.toFixed(0)} tokens/s, live tensors ${kiln.memory().tensors}`);
    lossAcc = 0;
    lossN = 0;
  }
}

// sampling: temperature, then the top-k logits, drawn with a seeded generator
const sampleRng = data.mulberry32(cfg.seed + 2);
let context = Array.from(tok.encode('\n'));
kiln.noGrad(() => {
  model.eval();
  for (let i = 0; i < cfg.sample; i++) {
    kiln.scope(() => {
      const window = context.slice(-cfg.block);
      const logits = model.forward(kiln.tensor(Int32Array.from(window), { dtype: 'int32', shape: [1, window.length] }));
      const last = logits.select(1, window.length - 1).reshape([tok.vocabSize]).div(cfg.temperature);
      const { values, indices } = last.topk(cfg.topK);
      const p = values.softmax(0).toTypedArray();
      const idx = indices.toTypedArray();
      let u = sampleRng();
      let k = 0;
      while (k < p.length - 1 && u >= p[k]) u -= p[k++];
      context.push(idx[k]);
    });
  }
});
console.log(`--- sample (temperature ${cfg.temperature}, top-k ${cfg.topK}) ---\n${tok.decode(context.slice(1))}\n---`);
const jsonPath = arg('--json', '');
if (jsonPath) writeFileSync(jsonPath, JSON.stringify({ config: cfg, history }, null, 1));
