// TensorFlow.js peer for bench/run.mjs: the same workloads on its WASM backend, median ms as JSON.
//
//   node bench/peers/tfjs_workloads.mjs --quick|--full W1-256,W2,... [warmIters,warmSec,minIters,minSec]
//   (prints one JSON line last)
//
// Build: the SIMD one, 1 thread. The threaded build is off in Node (tfjs-backend-wasm sets
// WASM_HAS_MULTITHREAD_SUPPORT false there, tensorflow/tfjs#3830). Forced on, its pthread
// workers are Blob URLs that worker_threads refuses; patched around, it starts but XNNPACK
// reports 1 thread and runs no faster. Needs the devDependencies @tensorflow/tfjs (the union
// package: the gradients are registered by it, not by tfjs-core's Node bundle) and
// @tensorflow/tfjs-backend-wasm; the .wasm files are read from that package's dist/.
//
// Written the fastest way TF.js offers here, not the shortest: the WASM backend runs
// matMul through XNNPACK only without transpose flags (with them: a scalar loop, 30x slower),
// and tf.matMul's gradient uses them, so `mm` below transposes explicitly in its gradient.
// The backend has no Conv2DBackpropFilter, so the CNN's convolutions are im2col + mm.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
let tf, wasm;
try {
  tf = require('@tensorflow/tfjs');
  wasm = require('@tensorflow/tfjs-backend-wasm');
} catch {
  console.error('@tensorflow/tfjs and @tensorflow/tfjs-backend-wasm are not installed (devDependencies)');
  process.exit(1);
}
wasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
if (!(await tf.setBackend('wasm'))) throw new Error('the TF.js WASM backend did not initialise');

const quick = process.argv[2] === '--quick';
const ids = (process.argv[3] ?? '').split(',').filter(Boolean);
const timing = process.argv[4]?.split(',').map(Number);

/** Median ms of fn: warm up, then time at least minIters runs and minSec (as bench/run.mjs). */
function measure(fn) {
  const [warmIters, warmSec, minIters, minSec] = timing ?? (quick ? [2, 0.05, 5, 0.2] : [5, 0.3, 30, 1]);
  for (let i = 0, t0 = performance.now(); i < warmIters || performance.now() - t0 < warmSec * 1e3; i++) fn();
  const times = [];
  for (const t0 = performance.now(); times.length < minIters || performance.now() - t0 < minSec * 1e3;) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** a @ b whose gradient multiplies by explicit transposes, keeping every GEMM on XNNPACK. */
const mm = tf.customGrad((a, b, save) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy, [sa, sb]) => [tf.matMul(dy, tf.transpose(sb)), tf.matMul(tf.transpose(sa), dy)],
  };
});

const param = (shape, fanIn) => tf.variable(tf.randomUniform(shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn)));
const labels = (n, classes) => tf.oneHot(tf.randomUniform([n], 0, classes, 'int32'), classes);
const linear = (x, [w, b]) => tf.add(mm(x, w), b);
const linearParams = (nIn, nOut) => [param([nIn, nOut], nIn), param([nOut], nIn)];

/** One training step: forward, softmax cross-entropy, backward, Adam (lr 1e-3). */
function stepper(forward, x, y) {
  const opt = tf.train.adam(1e-3);
  return () => tf.tidy(() => {
    opt.minimize(() => tf.losses.softmaxCrossEntropy(y, forward(x)));
  });
}

function mlp(sizes, batch) {
  const layers = [];
  for (let i = 0; i + 1 < sizes.length; i++) layers.push(linearParams(sizes[i], sizes[i + 1]));
  const forward = (x) => layers.reduce((h, wb, i) => {
    const z = linear(h, wb);
    return i + 1 < layers.length ? tf.relu(z) : z;
  }, x);
  return stepper(forward, tf.randomNormal([batch, sizes[0]]), labels(batch, sizes.at(-1)));
}

/** 3x3 'same' convolution, NHWC, as im2col (the 9 shifted views side by side) times [9*cin, cout]. */
function conv3x3(x, [w, b]) {
  const [n, h, wd, c] = x.shape;
  const p = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]);
  const cols = [];
  for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) cols.push(tf.slice(p, [0, dy, dx, 0], [n, h, wd, c]));
  const out = linear(tf.reshape(tf.concat(cols, 3), [n * h * wd, 9 * c]), [w, b]);
  return tf.reshape(out, [n, h, wd, -1]);
}

function cnn() {
  // NHWC, TF.js's native layout: the same layers as Kiln's NCHW CNN
  const c1 = linearParams(9 * 1, 32), c2 = linearParams(9 * 32, 64), fc = linearParams(7 * 7 * 64, 10);
  const forward = (x) => {
    let h = tf.maxPool(tf.relu(conv3x3(x, c1)), 2, 2, 'valid');
    h = tf.maxPool(tf.relu(conv3x3(h, c2)), 2, 2, 'valid');
    return linear(tf.reshape(h, [h.shape[0], -1]), fc);
  };
  return stepper(forward, tf.randomNormal([64, 28, 28, 1]), labels(64, 10));
}

function lstm() {
  const I = 64, H = 128, T = 35, B = 32;
  // gates i, f, g, o as PyTorch; the input projection of all steps is one GEMM
  const wIh = param([I, 4 * H], H), wHh = param([H, 4 * H], H), bias = param([4 * H], H);
  const head = linearParams(H, 10);
  const forward = (x) => {
    const xProj = tf.reshape(linear(tf.reshape(x, [B * T, I]), [wIh, bias]), [B, T, 4 * H]);
    let c = tf.zeros([B, H]);
    let h = tf.zeros([B, H]);
    for (const xt of tf.unstack(xProj, 1)) {
      const [i, f, g, o] = tf.split(tf.add(xt, mm(h, wHh)), 4, 1);
      c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
      h = tf.mul(tf.sigmoid(o), tf.tanh(c));
    }
    return linear(h, head);
  };
  return stepper(forward, tf.randomNormal([B, T, I]), labels(B, 10));
}

function adam(n) {
  const p = tf.variable(tf.randomNormal([n]));
  const g = tf.randomNormal([n]);
  const opt = tf.train.adam(1e-3);
  return () => tf.tidy(() => opt.applyGradients({ [p.name]: g }));
}

function make(id) {
  if (id.startsWith('W1-')) {
    const n = Number(id.slice(3));
    const a = tf.randomNormal([n, n]), b = tf.randomNormal([n, n]);
    return () => tf.matMul(a, b).dispose(); // the WASM backend computes eagerly
  }
  switch (id) {
    case 'W2': return mlp([784, 512, 256, 10], 128);
    case 'W3': return mlp([784, 2048, 2048, 10], 256);
    case 'W4': return mlp([4, 32, 32, 2], 32);
    case 'W5': return cnn();
    case 'W6': return lstm();
    case 'W7': return adam((quick ? 1 : 10) * 1_000_000);
    default: return null;
  }
}

const out = {};
const skipped = {};
for (const id of ids) {
  try {
    const fn = make(id);
    if (fn === null) skipped[id] = 'no such workload';
    else out[id] = measure(fn);
  } catch (e) {
    skipped[id] = e.message;
  }
}
for (const [id, why] of Object.entries(skipped)) console.error(`tfjs peer: ${id}: ${why}`);
console.log(JSON.stringify({ ...out, skipped }));
