// TensorFlow.js peer for bench/run.mjs: the same workloads on its WASM backend (SIMD build;
// Node gets no threaded build: WASM_HAS_MULTITHREAD_SUPPORT is false there), median ms as JSON.
//
//   node bench/peers/tfjs_workloads.mjs --quick|--full W1-256,W2,...   (prints one JSON line last)
//
// TF.js here is 10-100x slower than Kiln (its WASM matMul runs at ~3 GFLOP/s on this machine),
// so it is timed for at least 5 runs and 1 s after 2 warm-ups, and W1-2048 is left out
// (6 s a call). Needs the devDependencies @tensorflow/tfjs and @tensorflow/tfjs-backend-wasm.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const tf = await import('@tensorflow/tfjs'); // the union package: tfjs-core alone registers no gradients
const wasm = await import('@tensorflow/tfjs-backend-wasm');
wasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
if (!(await tf.setBackend('wasm'))) throw new Error('the TF.js WASM backend did not initialise');

const quick = process.argv[2] === '--quick';
const ids = (process.argv[3] ?? '').split(',').filter(Boolean);
tf.setSeed?.(0);

function measure(fn) {
  const [warmIters, minIters, minSec] = quick ? [1, 3, 0.2] : [2, 5, 1];
  for (let i = 0; i < warmIters; i++) fn();
  const times = [];
  for (const t0 = performance.now(); times.length < minIters || performance.now() - t0 < minSec * 1e3;) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const param = (shape) => tf.variable(tf.mul(tf.randomNormal(shape), 0.05));
const labels = (n, classes) => tf.oneHot(tf.randomUniform([n], 0, classes, 'int32'), classes);

/** One training step: forward, softmax cross-entropy, backward, Adam (lr 1e-3). */
function stepper(forward, x, y) {
  const opt = tf.train.adam(1e-3);
  return () => tf.tidy(() => {
    opt.minimize(() => tf.losses.softmaxCrossEntropy(y, forward(x)));
  });
}

function mlp(sizes, batch) {
  const layers = [];
  for (let i = 0; i + 1 < sizes.length; i++) layers.push([param([sizes[i], sizes[i + 1]]), param([sizes[i + 1]])]);
  const forward = (x) => layers.reduce((h, [w, b], i) => {
    const z = tf.add(tf.matMul(h, w), b);
    return i + 1 < layers.length ? tf.relu(z) : z;
  }, x);
  return stepper(forward, tf.randomNormal([batch, sizes[0]]), labels(batch, sizes.at(-1)));
}

function cnn() {
  // NHWC, TF.js's native layout: the same layers as Kiln's NCHW CNN
  const c1 = param([3, 3, 1, 32]), b1 = param([32]), c2 = param([3, 3, 32, 64]), b2 = param([64]);
  const fw = param([7 * 7 * 64, 10]), fb = param([10]);
  const forward = (x) => {
    let h = tf.maxPool(tf.relu(tf.add(tf.conv2d(x, c1, 1, 'same'), b1)), 2, 2, 'valid');
    h = tf.maxPool(tf.relu(tf.add(tf.conv2d(h, c2, 1, 'same'), b2)), 2, 2, 'valid');
    return tf.add(tf.matMul(tf.reshape(h, [h.shape[0], -1]), fw), fb);
  };
  return stepper(forward, tf.randomNormal([64, 28, 28, 1]), labels(64, 10));
}

function lstm() {
  const I = 64, H = 128, T = 35, B = 32;
  const kernel = param([I + H, 4 * H]), bias = param([4 * H]), fw = param([H, 10]), fb = param([10]);
  const forget = tf.scalar(0);
  const forward = (x) => {
    let c = tf.zeros([B, H]);
    let h = tf.zeros([B, H]);
    for (const xt of tf.unstack(x, 1)) [c, h] = tf.basicLSTMCell(forget, kernel, bias, xt, c, h);
    return tf.add(tf.matMul(h, fw), fb);
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
    if (n > 1024) return null;
    const a = tf.randomNormal([n, n]), b = tf.randomNormal([n, n]);
    return () => tf.tidy(() => {
      tf.matMul(a, b); // the WASM backend computes eagerly
    });
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
  const fn = make(id);
  if (fn === null) {
    skipped[id] = 'not run: W1-2048 takes ~6 s a call on TF.js WASM';
    continue;
  }
  try {
    out[id] = measure(fn);
  } catch (e) {
    skipped[id] = e.message; // e.g. W5: the WASM backend has no Conv2DBackpropFilter kernel
  }
}
for (const [id, why] of Object.entries(skipped)) console.error(`tfjs peer: ${id}: ${why}`);
console.log(JSON.stringify({ ...out, skipped }));
