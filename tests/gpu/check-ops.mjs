#!/usr/bin/env node
// Every Backend op on CUDA (device 1) against the CPU reference (device 0), through the raw core
// exports (argument orders: native/include/ops.def and native/binding/memory.cc). Fresh random inputs, outputs
// poisoned with NaN (int outputs with -777777) before each run, comparison by relative error:
// elementwise <= 1e-5, reductions/atomics <= 1e-4, ints exact. GEMMs against float64 within the
// rounding bound ((K + 3) 2^-24 of |A||B|; TF32 2^-9 more); attention against float64 within 1e-4 or
// twice the CPU's error.
// Plain node (no vitest): runs on the GPU machine over the built addons.
//
//   node tests/gpu/check-ops.mjs [outDir]      (outDir defaults to $OUT; JSON: check-ops.json)
// Exit status: 0 all passed, 1 a check failed, 2 CUDA not available.
// KILN_CHECK_SELFTEST=1 runs every check CPU against CPU (no CUDA): it checks this script.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const core = require(process.env.KILN_BINARY ?? join(root, 'build', 'Release', 'kiln.node'));
class KilnError extends Error {}
core.setErrorClass(KilnError);

// ---- load the CUDA addon (dist/cuda.js's loadCuda when built, else directly) ----
const SELFTEST = process.env.KILN_CHECK_SELFTEST === '1';
let status;
let addon = null;
const cudaPath = process.env.KILN_CUDA_BINARY ?? join(root, 'build-cuda', 'Release', 'kiln_cuda.node');
if (SELFTEST) {
  status = { available: true, reason: 'self-test: CPU against CPU, CUDA not used' };
} else if (existsSync(join(root, 'dist', 'cuda.js'))) {
  const { loadCuda, cudaAddon } = await import(join(root, 'dist', 'cuda.js'));
  status = loadCuda(core);
  addon = cudaAddon();
} else {
  try {
    addon = require(cudaPath);
    const r = addon.init();
    status = { available: r.ok, ...r, addonPath: cudaPath };
    if (r.ok) core.registerCudaBackend(addon.backend(0), 1);
  } catch (e) {
    status = { available: false, reason: `CUDA addon failed to load from ${cudaPath}: ${e.message}` };
  }
}
console.log('CUDA status:', JSON.stringify(status, null, 1));
const outDir = process.argv[2] ?? process.env.OUT ?? null;
function writeJson(obj) {
  if (!outDir) return;
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'check-ops.json'), JSON.stringify(obj, null, 1));
}
if (!status.available) {
  console.log(`CUDA not available: ${status.reason}`);
  writeJson({ status, results: [] });
  process.exit(2);
}

// ---- helpers ----
const F32 = 0;
const I32 = 1;
const CPU = 0;
const GPU = SELFTEST ? 0 : 1;
const TOL = { elementwise: 1e-5, reduction: 1e-4, matmul: 1e-4, tf32: 2e-3, exact: 0 };

let seedCounter = 12345;
function rng(seed = seedCounter++) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function rand(n, lo = -2, hi = 2) {
  const r = rng();
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r();
  return a;
}
function randInt(n, lo, hi) {
  const r = rng();
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + Math.floor((hi - lo) * r());
  return a;
}

let live = [];
function up(d, arr) {
  const h = core.alloc(d, arr instanceof Int32Array ? I32 : F32, arr.length);
  if (arr.length) core.write(h, 0, arr);
  live.push(h);
  return h;
}
function blank(d, dtype, n) {
  const h = core.alloc(d, dtype, n);
  if (n) core.fill(h, 0, n, dtype === F32 ? NaN : -777777);
  live.push(h);
  return h;
}
function down(h, dtype, n) {
  const a = dtype === F32 ? new Float32Array(n) : new Int32Array(n);
  if (n) core.read(h, 0, a);
  return a;
}
function freeAll() {
  for (const h of live) core.release(h);
  live = [];
}

// Relative error: per element against max(|ref|, 1e-3 * max|ref|, 1e-30). The inputs are chosen so
// that no op makes a NaN: a NaN on either side is a poisoned (unwritten) output or a wrong result.
function relErr(got, ref) {
  if (got.length !== ref.length) return Infinity;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) if (Number.isFinite(ref[i])) scale = Math.max(scale, Math.abs(ref[i]));
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    const a = got[i];
    const b = ref[i];
    if (Number.isNaN(b) || Number.isNaN(a)) return Infinity;
    if (!Number.isFinite(b) || !Number.isFinite(a)) {
      if (a !== b) return Infinity;
      continue;
    }
    const e = Math.abs(a - b) / Math.max(Math.abs(b), 1e-3 * scale, 1e-30);
    if (e > worst) worst = e;
  }
  return worst;
}
// Elements of got outside ref64's per-element bound, and the largest |got - value| / bound.
function beyondBound(got, { values, bound }) {
  let n = 0;
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i] - values[i]);
    worst = Math.max(worst, e / Math.max(bound[i], 1e-300));
    if (!(e <= bound[i])) n++;
  }
  return [n, worst];
}
function mismatches(got, ref) {
  let n = 0;
  for (let i = 0; i < ref.length; i++) if (got[i] !== ref[i] || (ref instanceof Int32Array && ref[i] === -777777)) n++;
  return n;
}

const results = [];
// ref64 (optional): float64 references by output key, { values, bound? }. With a bound (absolute,
// per element), every element of both devices must lie within it. Without one, the device's
// relErr against float64 must be within the kind's tolerance or twice the CPU's own error: the
// GPU is held to the CPU backend's accuracy, not to its rounding.
function check(name, kind, run, ref64 = null) {
  const t0 = performance.now();
  let row;
  try {
    const ref = run(CPU);
    freeAll();
    const got = run(GPU);
    freeAll();
    let worst = 0;
    let bad = 0;
    const detail = [];
    for (const key of Object.keys(ref)) {
      const r = ref[key];
      const g = got[key];
      const r64 = ref64?.[key];
      if (r64?.bound) {
        const [ng, qg] = beyondBound(g, r64);
        const [nc, qc] = beyondBound(r, r64);
        worst = Math.max(worst, qg);
        if (ng || nc) detail.push(`${key}: beyond the float64 bound at ${ng} (GPU, worst ${qg.toFixed(2)}x) and ${nc} (CPU, worst ${qc.toFixed(2)}x) of ${r.length}`);
      } else if (r64) {
        const eg = relErr(g, r64.values);
        const ec = relErr(r, r64.values);
        worst = Math.max(worst, eg);
        if (!(eg <= Math.max(TOL[kind], 2 * ec))) detail.push(`${key}: rel err against float64 ${eg.toExponential(2)} (CPU ${ec.toExponential(2)})`);
      } else if (kind === 'exact' || r instanceof Int32Array) {
        const m = mismatches(g, r) + (r instanceof Float32Array ? r.filter(Number.isNaN).length : 0);
        bad += m;
        if (m) detail.push(`${key}: ${m} of ${r.length} differ`);
      } else {
        const e = relErr(g, r);
        worst = Math.max(worst, e);
        if (!(e <= TOL[kind])) detail.push(`${key}: rel err ${e.toExponential(2)}`);
      }
    }
    const pass = detail.length === 0;
    row = { name, kind, tol: TOL[kind], relErr: worst, intMismatches: bad, pass, detail: detail.join('; ') };
  } catch (e) {
    freeAll();
    row = { name, kind, tol: TOL[kind], relErr: NaN, intMismatches: 0, pass: false, detail: `threw: ${e.message}` };
  }
  row.ms = +(performance.now() - t0).toFixed(1);
  results.push(row);
}
// A check of behaviour on the GPU alone (errors that must be raised).
function expectThrow(name, pattern, fn) {
  let row;
  try {
    fn();
    row = { name, kind: 'error', pass: false, detail: 'did not throw' };
  } catch (e) {
    row = { name, kind: 'error', pass: pattern.test(e.message), detail: e.message.slice(0, 160) };
  }
  freeAll();
  results.push(row);
}

// ---- fill, cast, stridedCopy ----
check('fill f32', 'exact', (d) => {
  const h = blank(d, F32, 1001);
  core.fill(h, 0, 1001, -3.25);
  return { out: down(h, F32, 1001) };
});
check('fill i32 (offset)', 'exact', (d) => {
  const h = blank(d, I32, 1001);
  core.fill(h, 0, 1001, -5);
  core.fill(h, 3, 990, 42);
  return { out: down(h, I32, 1001) };
});
{
  const x = rand(1003, -100, 100);
  const xi = randInt(1003, -100000, 100000);
  check('cast f32->i32', 'exact', (d) => {
    const o = blank(d, I32, 1003);
    core.cast(o, 0, up(d, x), 0, 1003);
    return { out: down(o, I32, 1003) };
  });
  check('cast i32->f32', 'exact', (d) => {
    const o = blank(d, F32, 1003);
    core.cast(o, 0, up(d, xi), 0, 1003);
    return { out: down(o, F32, 1003) };
  });
}
{
  const x = rand(4 * 5 * 6);
  check('stridedCopy transpose+broadcast', 'exact', (d) => {
    const src = up(d, x);
    const o = blank(d, F32, 6 * 3 * 4 * 5);
    core.stridedCopy(o, 0, src, 0, [6, 3, 4, 5], [1, 0, 30, 6]);
    return { out: down(o, F32, 360) };
  });
  check('stridedCopy i32 offset', 'exact', (d) => {
    const src = up(d, Int32Array.from(x, (v) => Math.round(v * 1000)));
    const o = blank(d, I32, 2 * 5);
    core.stridedCopy(o, 0, src, 7, [2, 5], [60, 6]);
    return { out: down(o, I32, 10) };
  });
  // dense views (a size-1 dim with any stride) take the memcpy path on CUDA
  check('stridedCopy dense from offset 3, size-1 dim strided', 'exact', (d) => {
    const o = blank(d, F32, 4 * 1 * 29);
    core.stridedCopy(o, 0, up(d, x), 3, [4, 1, 29], [29, 1000, 1]);
    return { out: down(o, F32, 116) };
  });
  check('copyStrided dense into offset 5', 'exact', (d) => {
    const o = up(d, new Float32Array(130).fill(-1));
    core.copyStrided(o, 5, up(d, x), 2, [5, 23], [23, 1], [23, 1]);
    return { out: down(o, F32, 130) };
  });
}

check('cast f32->i32 edges (the one cast rule: NaN 0, saturation)', 'exact', (d) => {
  const o = blank(d, I32, 8);
  core.cast(o, 0, up(d, Float32Array.from([NaN, Infinity, -Infinity, 3e9, -3e9, 2147483520, -0.5, 7.9])), 0, 8);
  return { out: down(o, I32, 8) };
});
{
  const x = rand(4 * 5 * 3);
  check('copyStrided slab from a transposed source', 'exact', (d) => {
    const o = up(d, new Float32Array(3 * 9 * 4).fill(-1)); // the slab's surroundings stay -1
    core.copyStrided(o, 8, up(d, x), 0, [3, 5, 4], [36, 4, 1], [1, 12, 3]);
    return { out: down(o, F32, 108) };
  });
  check('copyStrided i32 into every other element', 'exact', (d) => {
    const o = up(d, new Int32Array(10).fill(3));
    core.copyStrided(o, 1, up(d, Int32Array.from([2147483647, -2147483648, 16777217, -1, 5])), 0, [5], [2], [1]);
    return { out: down(o, I32, 10) };
  });
}

// ---- unary / unaryBackward ----
const U = ['Neg', 'Exp', 'Log', 'Sqrt', 'Rsqrt', 'Abs', 'Sign', 'Relu', 'Sigmoid', 'Tanh', 'Gelu', 'LeakyRelu', 'Clamp',
  'PowScalar', 'AddScalar', 'MulScalar', 'Square', 'Reciprocal', 'Sin', 'Cos', 'RSubScalar'];
const positive = new Set(['Log', 'Sqrt', 'Rsqrt', 'PowScalar', 'Reciprocal']);
const params = { LeakyRelu: [0.1, 0], Clamp: [-0.5, 0.7], PowScalar: [2.5, 0], AddScalar: [1.5, 0], MulScalar: [-2, 0], RSubScalar: [3, 0] };
U.forEach((name, op) => {
  const n = 4099;
  const x = positive.has(name) ? rand(n, 0.1, 4) : rand(n, -4, 4);
  const dy = rand(n);
  const [a, b] = params[name] ?? [0, 0];
  check(`unary ${name}`, 'elementwise', (d) => {
    const xh = up(d, x);
    const y = blank(d, F32, n);
    core.unary(op, y, 0, xh, 0, n, a, b);
    return { y: down(y, F32, n) };
  });
  // both devices get the CPU's y: tanh's 1 - y^2 at |x| = 4 turns y's last bit into 1e-4
  // relative, so each device's own forward would be compared through that conditioning
  const y = (() => {
    const o = blank(CPU, F32, n);
    core.unary(op, o, 0, up(CPU, x), 0, n, a, b);
    const v = down(o, F32, n);
    freeAll();
    return v;
  })();
  check(`unaryBackward ${name}`, 'elementwise', (d) => {
    const xh = up(d, x);
    const dx = blank(d, F32, n);
    core.unaryBackward(op, dx, 0, up(d, dy), 0, xh, 0, up(d, y), 0, n, a, b);
    return { dx: down(dx, F32, n) };
  });
});

// ---- binary / where ----
const B = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Eq', 'Ne', 'Gt', 'Ge', 'Lt', 'Le'];
B.forEach((name, op) => {
  const shape = [4, 5, 6];
  const a = name === 'Pow' ? rand(120, 0.1, 3) : rand(120);
  const bb = name === 'Div' ? rand(5, 0.5, 2) : rand(5);
  // comparisons need equal values somewhere: copy some of b into a
  if (op >= 7) for (let i = 0; i < 120; i += 7) a[i] = bb[Math.floor(i / 6) % 5];
  const compare = op >= 7;
  check(`binary ${name} f32 broadcast`, 'elementwise', (d) => {
    const o = blank(d, F32, 120);
    core.binary(op, o, 0, up(d, a), 0, up(d, bb), 0, shape, [30, 6, 1], [0, 1, 0]);
    return { out: down(o, F32, 120) };
  });
  if (name !== 'Div' && name !== 'Pow') {
    const ai = Int32Array.from(a, (v) => Math.round(v * 10));
    const bi = Int32Array.from(bb, (v) => Math.round(v * 10));
    check(`binary ${name} i32 broadcast`, 'exact', (d) => {
      const o = blank(d, compare ? F32 : I32, 120);
      core.binary(op, o, 0, up(d, ai), 0, up(d, bi), 0, shape, [30, 6, 1], [0, 1, 0]);
      return { out: down(o, compare ? F32 : I32, 120) };
    });
  }
});
{
  const c = Float32Array.from(rand(6), (v) => (v > 0 ? 1 : 0));
  const a = rand(120);
  const bb = rand(20);
  check('where broadcast', 'exact', (d) => {
    const o = blank(d, F32, 120);
    core.where(o, 0, up(d, c), 0, up(d, a), 0, up(d, bb), 0, [4, 5, 6], [0, 0, 1], [30, 6, 1], [5, 1, 0]);
    return { out: down(o, F32, 120) };
  });
}

{
  const a = rand(4099);
  const bb = rand(4099);
  check('binary in place (out is a; then out is b, broadcast)', 'exact', (d) => {
    const ah = up(d, a);
    core.binary(1, ah, 0, ah, 0, up(d, bb), 0, [4099], [1], [1]);
    const bh = up(d, bb);
    core.binary(0, bh, 0, up(d, Float32Array.from([0.25])), 0, bh, 0, [4099], [0], [1]);
    core.unary(15, bh, 0, bh, 0, 4099, 3, 0);
    return { a: down(ah, F32, 4099), b: down(bh, F32, 4099) };
  });
}

// ---- reductions ----
const R = ['Sum', 'Mean', 'Max', 'Min', 'ArgMax', 'ArgMin'];
// [1, 4096, 100] and [3, 1000, 70]: the column sums' tiled kernel (a bias gradient's shape), tiles cut at the edge
for (const [outer, n, inner] of [[64, 1000, 1], [8, 300, 17], [2, 200003, 1], [1, 1, 1], [3, 5, 4096], [1, 4096, 100], [3, 1000, 70]]) {
  const x = rand(outer * n * inner);
  R.forEach((name, op) => {
    const arg = op >= 4;
    check(`reduce ${name} [${outer},${n},${inner}]`, arg ? 'exact' : 'reduction', (d) => {
      const o = blank(d, arg ? I32 : F32, outer * inner);
      core.reduce(op, o, 0, up(d, x), 0, outer, n, inner);
      return { out: down(o, arg ? I32 : F32, outer * inner) };
    });
  });
}

for (const [outer, n, inner] of [[3, 1000, 1], [2, 7, 300]]) {
  const x = randInt(outer * n * inner, -2147483647, 2147483647);
  for (let i = 0; i < 10; i++) x[i] = 16777217; // sums past 2^24 stay exact
  ['Sum', 'Max', 'Min', 'ArgMax', 'ArgMin'].forEach((name) => {
    const op = R.indexOf(name);
    check(`reduce int32 ${name} [${outer},${n},${inner}]`, 'exact', (d) => {
      const o = blank(d, I32, outer * inner);
      core.reduce(op, o, 0, up(d, x), 0, outer, n, inner);
      return { out: down(o, I32, outer * inner) };
    });
  });
}

// ---- softmax ----
for (const [outer, n, inner] of [[64, 1000, 1], [8, 33, 17], [1, 50000, 1]]) {
  const total = outer * n * inner;
  const x = rand(total, -8, 8);
  const dy = rand(total);
  for (const log of [false, true]) {
    check(`${log ? 'logSoftmax' : 'softmax'} [${outer},${n},${inner}] fwd+bwd`, 'reduction', (d) => {
      const y = blank(d, F32, total);
      core.softmax(y, 0, up(d, x), 0, outer, n, inner, log);
      const dx = blank(d, F32, total);
      core.softmaxBackward(dx, 0, up(d, dy), 0, y, 0, outer, n, inner, log);
      return { y: down(y, F32, total), dx: down(dx, F32, total) };
    });
  }
}

// ---- cross-entropy ----
for (const ls of [0, 0.1]) {
  const Bn = 64;
  const C = 1000;
  const logits = rand(Bn * C, -6, 6);
  const target = randInt(Bn, 0, C);
  target[3] = -100;
  target[17] = -100;
  const dloss = rand(Bn, 0.1, 1);
  check(`crossEntropy B=${Bn} C=${C} ls=${ls} fwd+bwd`, 'reduction', (d) => {
    const loss = blank(d, F32, Bn);
    const lp = blank(d, F32, Bn * C);
    const t = up(d, target);
    core.crossEntropyForward(loss, 0, lp, 0, up(d, logits), 0, t, 0, Bn, C, -100, ls);
    const dl = blank(d, F32, Bn * C);
    core.crossEntropyBackward(dl, 0, up(d, dloss), 0, lp, 0, t, 0, Bn, C, -100, ls);
    return { loss: down(loss, F32, Bn), logProbs: down(lp, F32, Bn * C), dlogits: down(dl, F32, Bn * C) };
  });
}

// ---- the RNN, LSTM and GRU recurrences (native/composite/rnn.cc, lstm.cc, gru.cc) ----
for (const [T, B, H, bias] of [[5, 3, 20, true], [1, 4, 33, false]]) {
  const G4 = 4 * H;
  const proj = rand(T * B * G4, -1.5, 1.5), w = rand(G4 * H, -0.3, 0.3), b = rand(G4, -0.3, 0.3);
  const h0 = rand(B * H, -1, 1), c0 = rand(B * H, -1, 1), dhc = rand(2 * T * B * H, -1, 1);
  check(`lstm T=${T} B=${B} H=${H} bias=${bias} fwd+bwd`, 'matmul', (d) => {
    const gates = blank(d, F32, T * B * G4), hc = blank(d, F32, 2 * T * B * H);
    const [wd, h0d, c0d] = [up(d, w), up(d, h0), up(d, c0)];
    core.lstmForward(gates, 0, hc, 0, up(d, proj), 0, wd, 0, bias ? up(d, b) : null, 0, h0d, 0, c0d, 0, T, B, H);
    const dg = blank(d, F32, T * B * G4), dw = blank(d, F32, G4 * H), db = blank(d, F32, G4);
    const dh0 = blank(d, F32, B * H), dc0 = blank(d, F32, B * H);
    core.lstmBackward(dg, 0, dw, 0, db, 0, dh0, 0, dc0, 0, up(d, dhc), 0, gates, 0, hc, 0, h0d, 0, c0d, 0, wd, 0, T, B, H);
    return { hc: down(hc, F32, 2 * T * B * H), dgates: down(dg, F32, T * B * G4), dw: down(dw, F32, G4 * H),
      db: down(db, F32, G4), dh0: down(dh0, F32, B * H), dc0: down(dc0, F32, B * H) };
  });
  for (const relu of [false, true]) {
    const rproj = rand(T * B * H, -1.5, 1.5), rw = rand(H * H, -0.3, 0.3), rb = rand(H, -0.3, 0.3);
    const dhs = rand(T * B * H, -1, 1);
    check(`rnn ${relu ? 'relu' : 'tanh'} T=${T} B=${B} H=${H} bias=${bias} fwd+bwd`, 'matmul', (d) => {
      const hs = blank(d, F32, T * B * H);
      const [wd, h0d] = [up(d, rw), up(d, h0)];
      core.rnnForward(hs, 0, up(d, rproj), 0, wd, 0, bias ? up(d, rb) : null, 0, h0d, 0, T, B, H, relu);
      const dp = blank(d, F32, T * B * H), dw = blank(d, F32, H * H), db = blank(d, F32, H), dh0 = blank(d, F32, B * H);
      core.rnnBackward(dp, 0, dw, 0, db, 0, dh0, 0, up(d, dhs), 0, hs, 0, h0d, 0, wd, 0, T, B, H, relu);
      return { hs: down(hs, F32, T * B * H), dproj: down(dp, F32, T * B * H), dw: down(dw, F32, H * H),
        db: down(db, F32, H), dh0: down(dh0, F32, B * H) };
    });
  }
  const G3 = 3 * H;
  const gproj = rand(T * B * G3, -1.5, 1.5), gw = rand(G3 * H, -0.3, 0.3), gb = rand(G3, -0.3, 0.3);
  const dhs = rand(T * B * H, -1, 1);
  check(`gru T=${T} B=${B} H=${H} bias=${bias} fwd+bwd`, 'matmul', (d) => {
    const gates = blank(d, F32, T * B * G3), hh = blank(d, F32, T * B * G3), hs = blank(d, F32, T * B * H);
    const [wd, h0d] = [up(d, gw), up(d, h0)];
    core.gruForward(gates, 0, hh, 0, hs, 0, up(d, gproj), 0, wd, 0, bias ? up(d, gb) : null, 0, h0d, 0, T, B, H);
    const dp = blank(d, F32, T * B * G3), dw = blank(d, F32, G3 * H), db = blank(d, F32, G3), dh0 = blank(d, F32, B * H);
    core.gruBackward(dp, 0, dw, 0, db, 0, dh0, 0, up(d, dhs), 0, gates, 0, hh, 0, hs, 0, h0d, 0, wd, 0, T, B, H);
    return { hs: down(hs, F32, T * B * H), dproj: down(dp, F32, T * B * G3), dw: down(dw, F32, G3 * H),
      db: down(db, F32, G3), dh0: down(dh0, F32, B * H) };
  });
}

// ---- gemm ----
// float32 values rounded to bfloat16 and back by the CPU's cast (nearest, ties to even; its tests
// hold it to a float64 rounding reference): gemmBf16's operands as the reference sees them
const BF16 = 3;
function roundedToBf16(a) {
  const h = core.alloc(CPU, BF16, a.length);
  const back = blank(CPU, F32, a.length);
  core.cast(h, 0, up(CPU, a), 0, a.length);
  core.cast(back, 0, h, 0, a.length);
  core.release(h);
  const out = down(back, F32, a.length);
  freeAll();
  return out;
}
// op 'gemmBf16': the operands are rounded to bfloat16 in the reference too; their products are
// exact in float32, so the float32 bound holds.
function gemmCase(label, kind, { ta, tb, M, N, K, alpha = 1, beta = 0, batch = 1, padA = 0, padB = 0, padC = 0,
  offA = 0, offB = 0, offC = 0, broadcastA = false, op = 'gemm' }) {
  const aRows = ta ? K : M;
  const aCols = ta ? M : K;
  const bRows = tb ? N : K;
  const bCols = tb ? K : N;
  const lda = aCols + padA;
  const ldb = bCols + padB;
  const ldc = N + padC;
  const sA = broadcastA ? 0 : aRows * lda;
  const sB = bRows * ldb;
  const sC = M * ldc;
  const A = rand(offA + (broadcastA ? 1 : batch) * aRows * lda);
  const Bm = rand(offB + batch * sB);
  const C0 = rand(offC + batch * sC);
  const Ar = op === 'gemmBf16' ? roundedToBf16(A) : A;
  const Br = op === 'gemmBf16' ? roundedToBf16(Bm) : Bm;
  // float64 reference and |alpha| |A||B| + |beta| |C0| per element. Any summation order in float32
  // stays within (K + 3) u of that magnitude (u = 2^-24; K products, alpha, beta); TF32 rounds
  // each operand to 10 bits first (2^-10 each, truncation included: 2^-9 for the product).
  const u = 2 ** -24;
  const rel = (kind === 'tf32' ? 2 ** -9 : 0) + (K + 3) * u;
  const values = Float64Array.from(C0);
  const bound = new Float64Array(C0.length);
  const row = new Float64Array(N);
  const mag = new Float64Array(N);
  for (let q = 0; q < batch; q++) {
    const a0 = offA + q * sA, b0 = offB + q * sB, c0 = offC + q * sC;
    for (let i = 0; i < M; i++) {
      row.fill(0);
      mag.fill(0);
      for (let k = 0; k < K; k++) {
        const av = ta ? Ar[a0 + k * lda + i] : Ar[a0 + i * lda + k];
        for (let j = 0; j < N; j++) {
          const p = av * (tb ? Br[b0 + j * ldb + k] : Br[b0 + k * ldb + j]);
          row[j] += p;
          mag[j] += Math.abs(p);
        }
      }
      for (let j = 0; j < N; j++) {
        const c = C0[c0 + i * ldc + j];
        values[c0 + i * ldc + j] = alpha * row[j] + (beta === 0 ? 0 : beta * c);
        bound[c0 + i * ldc + j] = rel * (Math.abs(alpha) * mag[j] + (beta === 0 ? 0 : Math.abs(beta * c)));
      }
    }
  }
  check(`${op} ${label}`, kind, (d) => {
    const c = up(d, C0);
    core[op](ta, tb, M, N, K, alpha, up(d, A), offA, lda, sA, up(d, Bm), offB, ldb, sB, beta, c, offC, ldc, sC, batch);
    return { C: down(c, F32, C0.length) };
  }, { C: { values, bound } });
}
for (const ta of [false, true]) {
  for (const tb of [false, true]) {
    gemmCase(`ta=${ta} tb=${tb} 128x96x64`, 'matmul', { ta, tb, M: 128, N: 96, K: 64 });
  }
}
gemmCase('batched 3x(33x17x65) alpha=1.5 beta=0.5 padded lds', 'matmul',
  { ta: false, tb: true, M: 33, N: 17, K: 65, alpha: 1.5, beta: 0.5, batch: 3, padA: 3, padB: 1, padC: 2 });
gemmCase('batched, A broadcast (strideA 0)', 'matmul', { ta: false, tb: false, M: 20, N: 30, K: 40, batch: 4, broadcastA: true });
gemmCase('misaligned pointers (offset 1 element)', 'matmul',
  { ta: true, tb: false, M: 64, N: 64, K: 64, offA: 1, offB: 3, offC: 1 });
gemmCase('K=0 beta=0.5', 'matmul', { ta: false, tb: false, M: 5, N: 7, K: 0, beta: 0.5 });
gemmCase('K=0 beta=0', 'matmul', { ta: false, tb: false, M: 5, N: 7, K: 0, beta: 0 });
gemmCase('1024x1024x1024', 'matmul', { ta: false, tb: false, M: 1024, N: 1024, K: 1024 });
// gemmBf16 (autocast): packed to bfloat16 and cuBLASLt's bf16 GEMM on CUDA
for (const ta of [false, true]) {
  for (const tb of [false, true]) {
    gemmCase(`ta=${ta} tb=${tb} 128x96x64`, 'matmul', { ta, tb, M: 128, N: 96, K: 64, op: 'gemmBf16' });
  }
}
gemmCase('batched 3x(33x17x65) alpha=1.5 beta=0.5 padded lds', 'matmul',
  { ta: false, tb: true, M: 33, N: 17, K: 65, alpha: 1.5, beta: 0.5, batch: 3, padA: 3, padB: 1, padC: 2, op: 'gemmBf16' });
gemmCase('batched, A broadcast (strideA 0)', 'matmul', { ta: false, tb: false, M: 20, N: 30, K: 40, batch: 4, broadcastA: true, op: 'gemmBf16' });
gemmCase('odd sizes at offsets 1, 3, 1', 'matmul',
  { ta: true, tb: false, M: 63, N: 65, K: 67, offA: 1, offB: 3, offC: 1, op: 'gemmBf16' });
gemmCase('K=0 beta=0.5', 'matmul', { ta: false, tb: false, M: 5, N: 7, K: 0, beta: 0.5, op: 'gemmBf16' });
gemmCase('5x7x3 (operands of 15 and 21: packed by fours and a tail)', 'matmul', { ta: false, tb: false, M: 5, N: 7, K: 3, op: 'gemmBf16' });
gemmCase('512x512x512', 'matmul', { ta: false, tb: false, M: 512, N: 512, K: 512, op: 'gemmBf16' });
if (addon?.setMatmulPrecision) {
  addon.setMatmulPrecision('high');
  gemmCase('TF32 512x512x512 (precision high)', 'tf32', { ta: false, tb: true, M: 512, N: 512, K: 512 });
  addon.setMatmulPrecision('highest');
}

// ---- indexing ----
{
  const outer = 3;
  const n = 50;
  const inner = 7;
  const src = rand(outer * n * inner);
  const idx = randInt(20, 0, n);
  check('indexSelect f32', 'exact', (d) => {
    const o = blank(d, F32, outer * 20 * inner);
    core.indexSelect(o, 0, up(d, src), 0, up(d, idx), 0, outer, n, inner, 20);
    return { out: down(o, F32, outer * 20 * inner) };
  });
  const srcI = Int32Array.from(src, (v) => Math.round(v * 1e4));
  check('indexSelect i32', 'exact', (d) => {
    const o = blank(d, I32, outer * 20 * inner);
    core.indexSelect(o, 0, up(d, srcI), 0, up(d, idx), 0, outer, n, inner, 20);
    return { out: down(o, I32, outer * 20 * inner) };
  });
  const add = rand(outer * 20 * inner);
  check('indexAdd (repeated indices)', 'reduction', (d) => {
    const dst = up(d, src);
    core.indexAdd(dst, 0, up(d, add), 0, up(d, idx), 0, outer, n, inner, 20);
    return { dst: down(dst, F32, src.length) };
  });
  const k = 9;
  const gidx = randInt(outer * k * inner, 0, n);
  check('gather', 'exact', (d) => {
    const o = blank(d, F32, outer * k * inner);
    core.gather(o, 0, up(d, src), 0, up(d, gidx), 0, outer, n, inner, k);
    return { out: down(o, F32, outer * k * inner) };
  });
  const sadd = rand(outer * k * inner);
  check('scatterAdd', 'reduction', (d) => {
    const dst = up(d, src);
    core.scatterAdd(dst, 0, up(d, sadd), 0, up(d, gidx), 0, outer, n, inner, k);
    return { dst: down(dst, F32, src.length) };
  });
}

// ---- conv helpers, pooling ----
{
  const [N, C, H, W] = [2, 3, 11, 9];
  const win = [3, 2, 2, 1, 1, 1, 2, 1]; // kH kW sH sW pH pW dH dW
  const OH = Math.floor((H + 2 * 1 - 2 * (3 - 1) - 1) / 2) + 1;
  const OW = Math.floor((W + 2 * 1 - 1 * (2 - 1) - 1) / 1) + 1;
  const x = rand(N * C * H * W);
  const colN = N * C * 3 * 2 * OH * OW;
  const col = rand(colN);
  check('im2col (stride, pad, dilation)', 'exact', (d) => {
    const o = blank(d, F32, colN);
    core.im2col(o, 0, up(d, x), 0, [N, C, H, W], win, [OH, OW]);
    return { col: down(o, F32, colN) };
  });
  check('col2im (stride, pad, dilation)', 'reduction', (d) => {
    const o = blank(d, F32, N * C * H * W);
    core.col2im(o, 0, up(d, col), 0, [N, C, H, W], win, [OH, OW]);
    return { dx: down(o, F32, N * C * H * W) };
  });
  const pwin = [3, 3, 2, 2, 1, 1];
  const POH = Math.floor((H + 2 - 3) / 2) + 1;
  const POW = Math.floor((W + 2 - 3) / 2) + 1;
  const nOut = N * C * POH * POW;
  const dy = rand(nOut);
  check('maxPool2d fwd+bwd', 'exact', (d) => {
    const y = blank(d, F32, nOut);
    const am = blank(d, I32, nOut);
    core.maxPool2d(y, 0, am, 0, up(d, x), 0, [N, C, H, W], pwin, [POH, POW]);
    const dx = blank(d, F32, N * C * H * W);
    core.maxPool2dBackward(dx, 0, up(d, dy), 0, am, 0, [N, C, H, W], pwin, [POH, POW]);
    return { y: down(y, F32, nOut), argmax: down(am, I32, nOut), dx: down(dx, F32, N * C * H * W) };
  });
  for (const cip of [true, false]) {
    check(`avgPool2d countIncludePad=${cip} fwd+bwd`, 'elementwise', (d) => {
      const y = blank(d, F32, nOut);
      core.avgPool2d(y, 0, up(d, x), 0, [N, C, H, W], pwin, [POH, POW], cip);
      const dx = blank(d, F32, N * C * H * W);
      core.avgPool2dBackward(dx, 0, up(d, dy), 0, [N, C, H, W], pwin, [POH, POW], cip);
      return { y: down(y, F32, nOut), dx: down(dx, F32, N * C * H * W) };
    });
  }
}

// ---- random ----
{
  const n = 100003;
  const seed = 2 ** 40 + 5;
  check('randomUniform (bit-exact expected)', 'exact', (d) => {
    const o = blank(d, F32, n);
    core.randomUniform(o, 0, n, seed, 7, -1.5, 2.5);
    return { out: down(o, F32, n) };
  });
  check('randomNormal', 'elementwise', (d) => {
    const o = blank(d, F32, n);
    core.randomNormal(o, 0, n, seed, 2 ** 33 - 3, 0.5, 2);
    return { out: down(o, F32, n) };
  });
}

// ---- optimizers ----
{
  const n = 10007;
  const p = rand(n);
  const g = rand(n);
  const m = rand(n, -0.1, 0.1);
  const v = rand(n, 0, 0.01);
  const vmax = rand(n, 0, 0.02);
  const variants = [
    ['Adam', { wd: 0, decoupled: false, amsgrad: false, maximize: false }],
    ['Adam wd', { wd: 0.01, decoupled: false, amsgrad: false, maximize: false }],
    ['AdamW', { wd: 0.05, decoupled: true, amsgrad: false, maximize: false }],
    ['Adam amsgrad maximize', { wd: 0.01, decoupled: false, amsgrad: true, maximize: true }],
    // offset 1: not 16-byte aligned, so the CUDA step takes its one-element path throughout
    ['Adam amsgrad, buffers at offset 1', { wd: 0, decoupled: false, amsgrad: true, maximize: false, off: 1 }],
  ];
  for (const [label, o] of variants) {
    const off = o.off ?? 0;
    const at = (a) => { const b = new Float32Array(a.length + off); b.set(a, off); return b; };
    check(`adamStep ${label}`, 'elementwise', (d) => {
      const hp = up(d, at(p));
      const hm = up(d, at(m));
      const hv = up(d, at(v));
      const hvm = o.amsgrad ? up(d, at(vmax)) : null;
      core.adamStep(hp, off, up(d, at(g)), off, hm, off, hv, off, hvm, off, n, 1e-3, 0.9, 0.999, 1e-8, o.wd, 3, o.decoupled,
        o.amsgrad, o.maximize);
      const r = { p: down(hp, F32, n + off), m: down(hm, F32, n + off), v: down(hv, F32, n + off) };
      if (hvm) r.vMax = down(hvm, F32, n + off);
      return r;
    });
  }
  const sgdVariants = [
    ['plain', [0, 0, 0, false, false, false]],
    ['momentum first step', [0.9, 0, 0, false, true, false]],
    ['momentum dampening wd', [0.9, 0.1, 0.01, false, false, false]],
    ['nesterov maximize', [0.9, 0, 0.01, true, false, true]],
  ];
  for (const [label, [mom, damp, wd, nesterov, first, maximize]] of sgdVariants) {
    check(`sgdStep ${label}`, 'elementwise', (d) => {
      const hp = up(d, p);
      const hb = mom ? up(d, m) : null;
      core.sgdStep(hp, 0, up(d, g), 0, hb, 0, n, 0.01, mom, damp, wd, nesterov, first, maximize);
      const r = { p: down(hp, F32, n) };
      if (hb) r.buf = down(hb, F32, n);
      return r;
    });
  }
}

// ---- scans, sort, fused attention (issue 13) ----
for (const [outer, n, inner] of [[16, 300, 1], [3, 50, 7]]) {
  const total = outer * n * inner;
  const x = rand(total, -1.2, 1.2);
  const dy = rand(total);
  ['Sum', 'Prod', 'LogSumExp'].forEach((name, op) => {
    for (const reverse of [false, true]) {
      check(`scan ${name}${reverse ? ' reverse' : ''} [${outer},${n},${inner}]`, 'reduction', (d) => {
        const y = blank(d, F32, total);
        core.scan(op, y, 0, up(d, x), 0, outer, n, inner, reverse);
        return { y: down(y, F32, total) };
      });
    }
  });
  const xz = Float32Array.from(x);
  for (let i = 0; i < total; i += 37) xz[i] = 0; // zeros: the recurrence must not divide
  check(`cumprodBackward with zeros [${outer},${n},${inner}]`, 'reduction', (d) => {
    const dx = blank(d, F32, total);
    core.cumprodBackward(dx, 0, up(d, dy), 0, up(d, xz), 0, outer, n, inner);
    return { dx: down(dx, F32, total) };
  });
  for (const descending of [false, true]) {
    const xs = Float32Array.from(x);
    for (let i = 0; i < total; i += 11) xs[i] = 0.5; // ties: stable order by index
    xs[5] = NaN;
    check(`sort ${descending ? 'descending' : 'ascending'} (ties, NaN) [${outer},${n},${inner}]`, 'exact', (d) => {
      const v = blank(d, F32, total);
      const ix = blank(d, I32, total);
      core.sort(v, 0, ix, 0, up(d, xs), 0, outer, n, inner, descending);
      const vals = down(v, F32, total);
      return { values: vals.map((e) => (Number.isNaN(e) ? 1e30 : e)), indices: down(ix, I32, total) };
    });
  }
}
// Attention forward and backward in float64 (outputs contiguous [B, H, T, D]); causal masks j > i.
function attention64({ B, H, Tq, Tk, D, Dv, causal, qx, kx, vx, bias, qS, kS, vS, bS, dout }) {
  const scale = 1 / Math.sqrt(D);
  const out = new Float64Array(B * H * Tq * Dv), lse = new Float64Array(B * H * Tq);
  const dq = new Float64Array(B * H * Tq * D), dk = new Float64Array(B * H * Tk * D), dv = new Float64Array(B * H * Tk * Dv);
  const p = new Float64Array(Tk);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    const bh = b * H + h;
    const q = (t, d) => qx[b * qS[0] + h * qS[1] + t * qS[2] + d * qS[3]];
    const k = (t, d) => kx[b * kS[0] + h * kS[1] + t * kS[2] + d * kS[3]];
    const v = (t, d) => vx[b * vS[0] + h * vS[1] + t * vS[2] + d * vS[3]];
    for (let i = 0; i < Tq; i++) {
      let m = -Infinity;
      for (let j = 0; j < Tk; j++) {
        let sc = -Infinity;
        if (!(causal && j > i)) {
          sc = 0;
          for (let d = 0; d < D; d++) sc += q(i, d) * k(j, d);
          sc = sc * scale + (bias ? bias[b * bS[0] + h * bS[1] + i * bS[2] + j * bS[3]] : 0);
        }
        p[j] = sc;
        m = Math.max(m, sc);
      }
      let sum = 0;
      for (let j = 0; j < Tk; j++) sum += Math.exp(p[j] - m);
      const l = m + Math.log(sum);
      lse[bh * Tq + i] = l;
      for (let j = 0; j < Tk; j++) p[j] = Math.exp(p[j] - l);
      const o = (bh * Tq + i) * Dv;
      for (let j = 0; j < Tk; j++) for (let d = 0; d < Dv; d++) out[o + d] += p[j] * v(j, d);
      let Di = 0;
      for (let d = 0; d < Dv; d++) Di += dout[o + d] * out[o + d];
      for (let j = 0; j < Tk; j++) {
        if (p[j] === 0) continue;
        let dp = 0;
        for (let d = 0; d < Dv; d++) {
          dp += dout[o + d] * v(j, d);
          dv[(bh * Tk + j) * Dv + d] += p[j] * dout[o + d];
        }
        const ds = p[j] * (dp - Di) * scale;
        for (let d = 0; d < D; d++) {
          dq[(bh * Tq + i) * D + d] += ds * k(j, d);
          dk[(bh * Tk + j) * D + d] += ds * q(i, d);
        }
      }
    }
  }
  const wrap = (values) => ({ values });
  return { out: wrap(out), lse: wrap(lse), dq: wrap(dq), dk: wrap(dk), dv: wrap(dv) };
}
// attention: contiguous and strided q/k/v, causal and not, a broadcast bias, tiles crossed,
// Tq != Tk; forward (out, lse) and backward (dq, dk, dv)
for (const [B, H, Tq, Tk, D, Dv, causal, withBias, strided] of [
  [2, 3, 70, 70, 16, 16, true, false, false], [1, 2, 33, 130, 8, 12, false, true, false],
  [2, 2, 100, 100, 64, 64, true, false, true], [1, 1, 5, 3, 4, 4, false, true, false]]) {
  // strided: q, k, v are slices of one [B, T, 3, H, D] buffer (heads split by strides)
  const qS = strided ? [Tq * 3 * H * D, D, 3 * H * D, 1] : [H * Tq * D, Tq * D, D, 1];
  const kS = strided ? [Tk * 3 * H * D, D, 3 * H * D, 1] : [H * Tk * D, Tk * D, D, 1];
  const vS = strided ? [Tk * 3 * H * Dv, Dv, 3 * H * Dv, 1] : [H * Tk * Dv, Tk * Dv, Dv, 1];
  const qn = strided ? B * Tq * 3 * H * D : B * H * Tq * D;
  const kn = strided ? B * Tk * 3 * H * D : B * H * Tk * D;
  const vn = strided ? B * Tk * 3 * H * Dv : B * H * Tk * Dv;
  const qx = rand(qn), kx = rand(kn), vx = rand(vn);
  const bias = rand(Tq * Tk, -1, 1);
  for (let i = 0; i < Tq * Tk; i += 7) bias[i] = -Infinity; // masked keys (no row fully masked)
  for (let i = 0; i < Tq; i++) bias[i * Tk] = 0;
  const bS = withBias ? [0, 0, Tk, 1] : [0, 0, 0, 0];
  const no = B * H * Tq * Dv;
  const dout = rand(no);
  const label = `attention B=${B} H=${H} Tq=${Tq} Tk=${Tk} D=${D} Dv=${Dv}${causal ? ' causal' : ''}${withBias ? ' bias' : ''}${strided ? ' strided' : ''}`;
  const ref64 = attention64({ B, H, Tq, Tk, D, Dv, causal, qx, kx, vx, bias: withBias ? bias : null, qS, kS, vS, bS, dout });
  check(`${label} fwd+bwd`, 'reduction', (d) => {
    const [qh, kh, vh] = [up(d, qx), up(d, kx), up(d, vx)];
    const bh = withBias ? up(d, bias) : null;
    const out = blank(d, F32, no);
    const lse = blank(d, F32, B * H * Tq);
    core.attentionForward(out, 0, lse, 0, qh, 0, kh, 0, vh, 0, bh, 0, B, H, Tq, Tk, D, Dv, qS, kS, vS, bS, 1 / Math.sqrt(D), causal);
    const dq = blank(d, F32, B * H * Tq * D), dk = blank(d, F32, B * H * Tk * D), dv = blank(d, F32, B * H * Tk * Dv);
    core.attentionBackward(dq, 0, dk, 0, dv, 0, up(d, dout), 0, out, 0, lse, 0, qh, 0, kh, 0, vh, 0, bh, 0,
      B, H, Tq, Tk, D, Dv, qS, kS, vS, bS, 1 / Math.sqrt(D), causal);
    return { out: down(out, F32, no), lse: down(lse, F32, B * H * Tq), dq: down(dq, F32, B * H * Tq * D),
      dk: down(dk, F32, B * H * Tk * D), dv: down(dv, F32, B * H * Tk * Dv) };
  }, ref64);
}

// kmeansAssign: values on a 1/8 grid, so every distance is exact in float32 on both sides (equal
// values, ties included, must give the same labels); 30 centers, a few left empty
for (const [n, d, k, withSums] of [[700, 7, 30, true], [257, 3, 5, false], [0, 4, 3, true]]) {
  const grid = (m) => Float32Array.from(randInt(m, -16, 17), (v) => v / 8);
  const xv = grid(n * d);
  const cv = grid(k * d);
  check(`kmeansAssign n=${n} d=${d} k=${k}${withSums ? ' sums' : ''}`, 'reduction', (dev) => {
    const x = up(dev, xv);
    const c = up(dev, cv);
    const F64 = 2;
    const labels = blank(dev, I32, n);
    const minDist = blank(dev, F64, n);
    const sums = withSums ? blank(dev, F64, k * d) : null;
    const counts = withSums ? blank(dev, F64, k) : null;
    const inertia = blank(dev, F64, 1);
    core.kmeansAssign(labels, 0, minDist, 0, sums, 0, counts, 0, inertia, 0, x, 0, c, 0, n, d, k);
    const d64 = (h, m) => { const a = new Float64Array(m); if (m) core.read(h, 0, a); return a; };
    return { labels: down(labels, I32, n), minDist: d64(minDist, n), inertia: d64(inertia, 1),
      ...(withSums ? { sums: d64(sums, k * d), counts: d64(counts, k) } : {}) };
  });
}

// outerTriangle: each row's x_i x_j for i <= j (one product per element: exact on both sides)
for (const [n, d] of [[300, 32], [7, 1], [0, 5]]) {
  const xv = rand(n * d);
  check(`outerTriangle n=${n} d=${d}`, 'exact', (dev) => {
    const m = (d * (d + 1)) / 2;
    const out = blank(dev, F32, n * m);
    core.outerTriangle(out, 0, up(dev, xv), 0, n, d);
    return { out: down(out, F32, n * m) };
  });
}

// ---- errors the CUDA backend must raise ----
expectThrow('out-of-range index reported at the next read', /out of range/, () => {
  const src = up(GPU, rand(10));
  const o = blank(GPU, F32, 3);
  core.indexSelect(o, 0, src, 0, up(GPU, Int32Array.from([1, 99, 2])), 0, 1, 10, 1, 3);
  down(o, F32, 3);
});
if (!SELFTEST) {
  expectThrow('out of device memory names the bytes', /out of memory.*bytes/, () => {
    core.alloc(GPU, F32, 2 ** 40); // 4 TiB
  });
}
check('released blocks are cached, counted, and emptyCache returns them', 'exact', (d) => {
  const cached = () => core.memoryStats().find((m) => m.device === d)?.cachedBytes ?? 0;
  core.emptyCache();
  const h = core.alloc(d, F32, 1 << 20);
  core.release(h);
  const held = cached();
  core.emptyCache();
  return { heldSome: [held >= 4 << 20 ? 1 : 0], after: [cached()] };
});
check('device usable after the errors above', 'exact', (d) => {
  const h = blank(d, F32, 10);
  core.fill(h, 0, 10, 1);
  return { out: down(h, F32, 10) };
});

// ---- report ----
const failed = results.filter((r) => !r.pass);
const pad = (s, n) => String(s).padEnd(n);
console.log(`\n${pad('check', 58)} ${pad('kind', 11)} ${pad('rel err', 10)} result`);
for (const r of results) {
  const err = r.relErr === undefined || Number.isNaN(r.relErr) ? '-' : r.relErr.toExponential(2);
  console.log(`${pad(r.name, 58)} ${pad(r.kind, 11)} ${pad(err, 10)} ${r.pass ? 'ok' : `FAIL ${r.detail}`}`);
}
console.log(`\n${results.length - failed.length}/${results.length} passed on ${status.devices?.[0]?.name ?? 'cuda:0'}`);
writeJson({ status, results, passed: results.length - failed.length, total: results.length });
process.exit(failed.length === 0 ? 0 : 1);
