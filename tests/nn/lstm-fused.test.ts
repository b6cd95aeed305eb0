// nn.LSTM on the fused native recurrence (src/ops/rnn.ts, native/binding/lstm.cc) against a
// float64 step-by-step LSTM written here: output, final states and the gradients of the input,
// every parameter and both initial states (central differences of the float64 reference), with
// the loss reading out, hN and cN at once. Hidden 3 runs only the scalar tail of the cell
// kernel, hidden 20 the 16-wide AVX-512 body plus the tail; run under KILN_CPU=portable/avx2 too.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { lstmSequence } from '../../src/ops/rnn.js';
import { expectClose, gradcheck, toKiln } from '../helpers/gradcheck.js';
import { type R, arr, randArr } from '../helpers/reference.js';
import { lstmCellRow } from '../helpers/rnn-reference.js';
import { trackedTensors } from '../helpers/memory.js';

const { nn } = kiln;

interface LayerRef { wIh: R; wHh: R; bIh: R | null; bHh: R | null }

/**
 * A time-major float64 LSTM stack: x [T, B, I], h0/c0 [L, B, H]. zeroBetween: the input of
 * every layer after the first is zeros (what dropout p = 1 between layers does).
 */
function refLstm(x: R, layers: LayerRef[], h0: R, c0: R, zeroBetween = false): { out: R; cs: R; hN: R; cN: R } {
  const [T, B] = x.shape;
  const H = layers[0].wHh.shape[1];
  let seq = x;
  const cs = new Float64Array(T * B * H);  // c of every step of the last layer
  const hN = new Float64Array(layers.length * B * H);
  const cN = new Float64Array(layers.length * B * H);
  layers.forEach((p, l) => {
    const I = seq.shape[2];
    const out = new Float64Array(T * B * H);
    let h = h0.data.slice(l * B * H, (l + 1) * B * H);
    let c = c0.data.slice(l * B * H, (l + 1) * B * H);
    for (let t = 0; t < T; t++) {
      const hNext = new Float64Array(B * H);
      const cNext = new Float64Array(B * H);
      for (let b = 0; b < B; b++) {
        const gate = (k: number, j: number) => {
          const row = k * H + j;
          let s = (p.bIh ? p.bIh.data[row] : 0) + (p.bHh ? p.bHh.data[row] : 0);
          for (let m = 0; m < I; m++) s += seq.data[(t * B + b) * I + m] * p.wIh.data[row * I + m];
          for (let m = 0; m < H; m++) s += h[b * H + m] * p.wHh.data[row * H + m];
          return s;
        };
        lstmCellRow(gate, c, b, H, hNext, cNext);
      }
      out.set(hNext, t * B * H);
      cs.set(cNext, t * B * H);
      h = hNext;
      c = cNext;
    }
    hN.set(h, l * B * H);
    cN.set(c, l * B * H);
    seq = zeroBetween ? arr([T, B, H], () => 0) : arr([T, B, H], out);
    if (l === layers.length - 1) seq = arr([T, B, H], out);
  });
  const L = layers.length;
  return { out: seq, cs: arr([T, B, H], cs), hN: arr([L, B, H], hN), cN: arr([L, B, H], cN) };
}

/** [B, T, ...] <-> [T, B, ...] */
function swap01(r: R): R {
  const [A, Bd, ...rest] = r.shape;
  const inner = rest.reduce((a, b) => a * b, 1);
  const out = new Float64Array(r.data.length);
  for (let a = 0; a < A; a++) for (let b = 0; b < Bd; b++) {
    out.set(r.data.subarray((a * Bd + b) * inner, (a * Bd + b + 1) * inner), (b * A + a) * inner);
  }
  return { shape: [Bd, A, ...rest], data: out };
}

function dot(a: R, w: R): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += a.data[i] * w.data[i];
  return s;
}

/** PyTorch-named parameters of an LSTM with random float32-exact values. */
function randomParams(I: number, H: number, L: number, bias: boolean, seed: number): Record<string, R> {
  const k = 1 / Math.sqrt(H);
  const ps: Record<string, R> = {};
  for (let l = 0; l < L; l++) {
    ps[`weight_ih_l${l}`] = randArr([4 * H, l === 0 ? I : H], seed + 10 * l, -k, k, []);
    ps[`weight_hh_l${l}`] = randArr([4 * H, H], seed + 10 * l + 1, -k, k, []);
    if (bias) {
      ps[`bias_ih_l${l}`] = randArr([4 * H], seed + 10 * l + 2, -k, k, []);
      ps[`bias_hh_l${l}`] = randArr([4 * H], seed + 10 * l + 3, -k, k, []);
    }
  }
  return ps;
}

function layersOf(ps: Record<string, R>, L: number): LayerRef[] {
  return Array.from({ length: L }, (_, l) => ({
    wIh: ps[`weight_ih_l${l}`], wHh: ps[`weight_hh_l${l}`], bIh: ps[`bias_ih_l${l}`] ?? null, bHh: ps[`bias_hh_l${l}`] ?? null,
  }));
}

/** Central differences (float64) of f at every element of xs[k], for every k. */
function numericGrads(xs: R[], f: (xs: R[]) => number, h = 1e-6): Float64Array[] {
  return xs.map((x, k) => {
    const g = new Float64Array(x.data.length);
    for (let j = 0; j < x.data.length; j++) {
      const at = (d: number) => {
        const copy = { shape: x.shape, data: x.data.slice() };
        copy.data[j] += d;
        return f(xs.map((r, m) => (m === k ? copy : r)));
      };
      g[j] = (at(h) - at(-h)) / (2 * h);
    }
    return g;
  });
}

interface Case {
  T: number; B: number; I: number; H: number; L: number; bias: boolean; batchFirst: boolean; givenState: boolean; seed: number;
}

/**
 * Runs nn.LSTM and the reference on one case with loss sum(out W1) + sum(hN W2) + sum(cN W3)
 * and compares values and every gradient.
 */
function checkAgainstReference(cs: Case): void {
  const { T, B, I, H, L, bias, batchFirst, givenState, seed } = cs;
  const ps = randomParams(I, H, L, bias, seed);
  const names = Object.keys(ps);
  const xShape = batchFirst ? [B, T, I] : [T, B, I];
  const x = randArr(xShape, seed + 100, -1, 1, []);
  const zerosR = arr([L, B, H], () => 0);
  const h0 = givenState ? randArr([L, B, H], seed + 101, -1, 1, []) : zerosR;
  const c0 = givenState ? randArr([L, B, H], seed + 102, -1, 1, []) : zerosR;
  const outShape = batchFirst ? [B, T, H] : [T, B, H];
  const w1 = randArr(outShape, seed + 103, -1, 1, []);
  const w2 = randArr([L, B, H], seed + 104, -1, 1, []);
  const w3 = randArr([L, B, H], seed + 105, -1, 1, []);

  // xs = [x, h0, c0, ...params]
  const ref = (xs: R[]) => {
    const r = refLstm(batchFirst ? swap01(xs[0]) : xs[0], layersOf(Object.fromEntries(names.map((n, i) => [n, xs[3 + i]])), L), xs[1], xs[2]);
    return { ...r, out: batchFirst ? swap01(r.out) : r.out };
  };
  const loss = (xs: R[]) => {
    const r = ref(xs);
    return dot(r.out, w1) + dot(r.hN, w2) + dot(r.cN, w3);
  };
  const inputs = [x, h0, c0, ...names.map((n) => ps[n])];
  const expected = ref(inputs);
  const numeric = numericGrads(givenState ? inputs : [x, ...inputs.slice(3)], (xs) => loss(givenState ? xs : [xs[0], h0, c0, ...xs.slice(1)]));

  kiln.scope(() => {
    const lstm = new nn.LSTM(I, H, { numLayers: L, bias, batchFirst });
    lstm.loadStateDict(Object.fromEntries(names.map((n) => [n, toKiln(ps[n])])));
    const xt = toKiln(x, { requiresGrad: true });
    const h0t = toKiln(h0, { requiresGrad: true });
    const c0t = toKiln(c0, { requiresGrad: true });
    const [out, [hN, cN]] = givenState ? lstm.forward(xt, [h0t, c0t]) : lstm.forward(xt);
    expect([...out.shape]).toEqual(outShape);
    expectClose(out.toTypedArray(), expected.out.data, { rtol: 2e-5 }, 'output');
    expectClose(hN.toTypedArray(), expected.hN.data, { rtol: 2e-5 }, 'hN');
    expectClose(cN.toTypedArray(), expected.cN.data, { rtol: 2e-5 }, 'cN');
    out.mul(toKiln(w1)).sum().add(hN.mul(toKiln(w2)).sum()).add(cN.mul(toKiln(w3)).sum()).backward();
    const params = Object.fromEntries(lstm.namedParameters());
    const grads = [xt.grad, ...(givenState ? [h0t.grad, c0t.grad] : []), ...names.map((n) => params[n].grad)];
    const gradNames = ['input', ...(givenState ? ['h0', 'c0'] : []), ...names];
    grads.forEach((g, k) => {
      expect(g, `${gradNames[k]}.grad`).not.toBeNull();
      expectClose(g!.toTypedArray(), numeric[k], { rtol: 1e-4 }, `gradient of ${gradNames[k]}`);
    });
  });
}

describe('nn.LSTM (fused recurrence) against a float64 LSTM', () => {
  it('T=3, B=2, H=3, two layers, given h0/c0: out, hN, cN and the gradients of x, h0, c0 and all 8 parameters', () => {
    checkAgainstReference({ T: 3, B: 2, I: 2, H: 3, L: 2, bias: true, batchFirst: false, givenState: true, seed: 1 });
  });

  it('H=20 (vector body and tail), batchFirst, no bias, absent state', () => {
    checkAgainstReference({ T: 4, B: 3, I: 5, H: 20, L: 1, bias: false, batchFirst: true, givenState: false, seed: 2 });
  });

  it('H=33, T=1 (dW_hh from h0 alone), given state', () => {
    checkAgainstReference({ T: 1, B: 2, I: 3, H: 33, L: 1, bias: true, batchFirst: false, givenState: true, seed: 3 });
  });

  it('dropout between layers: p = 1 zeroes the second layer\'s input in training only', () => {
    const ps = randomParams(2, 3, 2, true, 4);
    const x = randArr([3, 2, 2], 5, -1, 1, []);
    const z = arr([2, 2, 3], () => 0);
    kiln.scope(() => {
      const lstm = new nn.LSTM(2, 3, { numLayers: 2, dropout: 1 });
      lstm.loadStateDict(Object.fromEntries(Object.entries(ps).map(([n, r]) => [n, toKiln(r)])));
      const train = refLstm(x, layersOf(ps, 2), z, z, true);
      const [out, [hN]] = lstm.forward(toKiln(x));
      expectClose(out.toTypedArray(), train.out.data, { rtol: 2e-5 }, 'training output');
      expectClose(hN.toTypedArray(), train.hN.data, { rtol: 2e-5 }, 'training hN');
      lstm.eval();
      const evalRef = refLstm(x, layersOf(ps, 2), z, z, false);
      expectClose(lstm.forward(toKiln(x))[0].toTypedArray(), evalRef.out.data, { rtol: 2e-5 }, 'eval output');
    });
  });
});

describe('lstmSequence on a tiny case', () => {
  it('T=3, B=2, H=3: hc and the gradients of proj, W_hh, b_hh, h0 and c0 by central differences', () => {
    const H = 3;
    const xs = [
      randArr([3, 2, 4 * H], 60, -1.5, 1.5, []),
      randArr([4 * H, H], 61, -0.6, 0.6, []),
      randArr([4 * H], 62, -0.6, 0.6, []),
      randArr([2, H], 63, -1, 1, []),
      randArr([2, H], 64, -1, 1, []),
    ];
    // the single-layer reference with proj as the input and W_ih = identity, b_ih = 0
    const refHc = (p: R, w: R, b: R, h0: R, c0: R): R => {
      const [T, B, G] = p.shape;
      const eye = arr([G, G], (i) => (Math.floor(i / G) === i % G ? 1 : 0));
      const r = refLstm(p, [{ wIh: eye, wHh: w, bIh: null, bHh: b }], { shape: [1, B, H], data: h0.data }, { shape: [1, B, H], data: c0.data });
      const out = new Float64Array(2 * T * B * H);
      out.set(r.out.data, 0);
      out.set(r.cs.data, T * B * H);
      return arr([2, T, B, H], out);
    };
    gradcheck((p, w, b, h0, c0) => lstmSequence(p, w, b, h0, c0), refHc, xs, { fwd: { rtol: 2e-5 } });
  });
});

describe('nn.LSTM errors and memory', () => {
  it('names the bad argument and the expected shape', () => {
    const lstm = new nn.LSTM(3, 4, { numLayers: 2 });
    const x = kiln.zeros([5, 2, 3]);
    expect(() => lstm.forward(kiln.zeros([5, 2, 2]))).toThrow(/input: expected \[seq, batch, 3\], got \[5, 2, 2\]/);
    expect(() => lstm.forward(kiln.zeros([5, 3]))).toThrow(/input: expected/);
    expect(() => lstm.forward(x, [kiln.zeros([1, 2, 4]), kiln.zeros([2, 2, 4])])).toThrow(/h0: expected shape \[2, 2, 4\], got \[1, 2, 4\]/);
    expect(() => lstm.forward(x, [kiln.zeros([2, 2, 4]), kiln.zeros([2, 3, 4])])).toThrow(/c0: expected shape \[2, 2, 4\], got \[2, 3, 4\]/);
    expect(() => lstm.forward(x, [kiln.zeros([2, 2, 4], { dtype: 'int32' }), kiln.zeros([2, 2, 4])])).toThrow(/h0: expected a float32 tensor/);
  });

  it('training steps (Adam) and eval forwards in a scope keep the live tensor count flat', () => {
    kiln.manualSeed(7);
    const lstm = new nn.LSTM(6, 20, { numLayers: 2, batchFirst: true, dropout: 0.3 });
    const head = new nn.Linear(20, 4);
    const opt = new kiln.optim.Adam([...lstm.parameters(), ...head.parameters()], { lr: 1e-3 });
    const x = kiln.randn([3, 7, 6]);
    const y = kiln.randint(0, 4, [3]);
    const h0 = kiln.zeros([2, 3, 20]);
    const c0 = kiln.zeros([2, 3, 20]);
    const step = (withState: boolean) => kiln.scope(() => {
      const [out, [hN, cN]] = withState ? lstm.forward(x, [h0, c0]) : lstm.forward(x);
      const loss = kiln.F.crossEntropy(head.forward(out.select(1, 6)), y).add(hN.sum().mul(0.01)).add(cN.mean());
      opt.zeroGrad();
      loss.backward();
      opt.step();
    });
    step(false);
    step(true);
    const live = trackedTensors();
    const bytes = kiln.memory().bytes;
    for (let i = 0; i < 30; i++) step(i % 2 === 0);
    lstm.eval();
    for (let i = 0; i < 5; i++) kiln.noGrad(() => kiln.scope(() => { lstm.forward(x); }));
    expect(trackedTensors()).toBe(live);
    expect(kiln.memory().bytes).toBe(bytes);
  });
});
