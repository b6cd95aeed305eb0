// The native RNN, LSTM and GRU recurrences (src/ops/rnn.ts, native/binding/rnn.cc, lstm.cc and gru.cc): the
// outputs and the gradients of every input against a float64 step-by-step cell and its central
// differences. Hidden sizes 20 and 17 run the 16-wide AVX-512 body and the scalar tail; the
// layers against PyTorch are in tests/nn/layers.test.ts.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { gruSequence, lstmSequence, rnnSequence } from '../../src/ops/rnn.js';
import { gradcheck, toKiln } from '../helpers/gradcheck.js';
import { type R, arr, randArr } from '../helpers/reference.js';
import { lstmCellRow, sigmoid } from '../helpers/rnn-reference.js';
import { trackedTensors } from '../helpers/memory.js';


/** hc [2, T, B, H] of the LSTM over proj [T, B, 4H] (gate order i, f, g, o), in float64. */
function refLstm(proj: R, wHh: R, bHh: R | null, h0: R, c0: R): R {
  const [T, B, G] = proj.shape;
  const H = G / 4;
  const out = new Float64Array(2 * T * B * H);
  let h = Float64Array.from(h0.data);
  let c = Float64Array.from(c0.data);
  for (let t = 0; t < T; t++) {
    const hNext = new Float64Array(B * H);
    const cNext = new Float64Array(B * H);
    for (let b = 0; b < B; b++) {
      const gate = (k: number, j: number) => {
        const row = k * H + j;
        let s = proj.data[(t * B + b) * G + row] + (bHh ? bHh.data[row] : 0);
        for (let m = 0; m < H; m++) s += h[b * H + m] * wHh.data[row * H + m];
        return s;
      };
      lstmCellRow(gate, c, b, H, hNext, cNext);
    }
    out.set(hNext, t * B * H);
    out.set(cNext, (T + t) * B * H);
    h = hNext;
    c = cNext;
  }
  return arr([2, T, B, H], out);
}

function inputs(T: number, B: number, H: number, seed: number, bias: boolean): R[] {
  const scale = 1 / Math.sqrt(H);
  const xs = [
    randArr([T, B, 4 * H], seed, -1.5, 1.5, []),
    randArr([4 * H, H], seed + 1, -scale, scale, []),
    randArr([B, H], seed + 3, -1, 1, []),
    randArr([B, H], seed + 4, -1, 1, []),
  ];
  if (bias) xs.splice(2, 0, randArr([4 * H], seed + 2, -scale, scale, []));
  return xs;
}

/**
 * Runs op forward and backward 50 times in scopes (grads freed each time), then once without
 * grad recording: the live tensor count must end where it started, so every saved buffer is freed.
 */
function expectFlatMemory(xs: R[], op: (ts: kiln.Tensor[]) => kiln.Tensor): void {
  const ts = xs.map((r) => toKiln(r, { requiresGrad: true }));
  const step = () => kiln.scope(() => {
    op(ts).square().sum().backward();
    for (const t of ts) {
      t.grad!.dispose();
      t.grad = null;
    }
  });
  step();
  const live = trackedTensors();
  for (let i = 0; i < 50; i++) step();
  kiln.noGrad(() => kiln.scope(() => {
    op(ts);
  }));
  expect(trackedTensors()).toBe(live);
}

describe('lstmSequence', () => {
  it('T=3, B=2, H=20 with b_hh: hc and the gradients of proj, W_hh, b_hh, h0 and c0', () => {
    gradcheck((p, w, b, h0, c0) => lstmSequence(p, w, b, h0, c0), (p, w, b, h0, c0) => refLstm(p, w, b, h0, c0),
      inputs(3, 2, 20, 10, true), { fwd: { rtol: 2e-5 } });
  });

  it('T=1, B=3, H=17 without bias (dW_hh from h0 alone)', () => {
    gradcheck((p, w, h0, c0) => lstmSequence(p, w, null, h0, c0), (p, w, h0, c0) => refLstm(p, w, null, h0, c0),
      inputs(1, 3, 17, 20, false), { fwd: { rtol: 2e-5 } });
  });

  it('T=4, B=3, H=32 (two full vectors per gate): only some inputs need a gradient', () => {
    gradcheck((p, w, b, h0, c0) => lstmSequence(p, w, b, h0, c0), (p, w, b, h0, c0) => refLstm(p, w, b, h0, c0),
      inputs(4, 3, 32, 30, true), { fwd: { rtol: 2e-5 }, grad: [true, false, false, false, true] });
  });

  it('names the argument and the expected shape', () => {
    const p = kiln.zeros([3, 2, 8]);
    const w = kiln.zeros([8, 2]);
    const s = kiln.zeros([2, 2]);
    expect(() => lstmSequence(kiln.zeros([3, 2, 7]), w, null, s, s)).toThrow(/proj: expected \[seqLen, batch, 4 \* hidden\]/);
    expect(() => lstmSequence(p, kiln.zeros([8, 3]), null, s, s)).toThrow(/weightHh: expected shape \[8, 2\], got \[8, 3\]/);
    expect(() => lstmSequence(p, w, kiln.zeros([4]), s, s)).toThrow(/biasHh: expected shape \[8\]/);
    expect(() => lstmSequence(p, w, null, kiln.zeros([3, 2]), s)).toThrow(/h0: expected shape \[2, 2\], got \[3, 2\]/);
    expect(() => lstmSequence(p, w, null, s, kiln.zeros([2, 2], { dtype: 'int32' }))).toThrow(/c0: expected a float32 tensor/);
    expect(() => lstmSequence(kiln.zeros([0, 2, 8]), w, null, s, s)).toThrow(/proj: .*no empty dim/);
  });

  it('frees what it saves: many training steps keep the live tensor count flat', () => {
    expectFlatMemory(inputs(4, 3, 20, 40, true), (ts) => lstmSequence(ts[0], ts[1], ts[2], ts[3], ts[4]));
  });

  it('without grad recording it gives the same values', () => {
    const xs = inputs(3, 2, 20, 50, true);
    const ts = xs.map((r) => toKiln(r, { requiresGrad: true }));
    const [p, w, b, h0, c0] = ts;
    const withGrad = lstmSequence(p, w, b, h0, c0);
    const without = kiln.noGrad(() => lstmSequence(p, w, b, h0, c0));
    expect(without.requiresGrad).toBe(false);
    expect(Array.from(without.toTypedArray())).toEqual(Array.from(withGrad.toTypedArray()));
  });
});

/** h of every step [T, B, H] of the GRU over proj [T, B, 3H] (gate order r, z, n), in float64. */
function refGru(proj: R, wHh: R, bHh: R | null, h0: R): R {
  const [T, B, G] = proj.shape;
  const H = G / 3;
  const out = new Float64Array(T * B * H);
  let h = Float64Array.from(h0.data);
  for (let t = 0; t < T; t++) {
    const next = new Float64Array(B * H);
    for (let b = 0; b < B; b++) {
      const hidden = (k: number, j: number) => {
        const row = k * H + j;
        let s = bHh ? bHh.data[row] : 0;
        for (let m = 0; m < H; m++) s += h[b * H + m] * wHh.data[row * H + m];
        return s;
      };
      const x = (k: number, j: number) => proj.data[(t * B + b) * G + k * H + j];
      for (let j = 0; j < H; j++) {
        const r = sigmoid(x(0, j) + hidden(0, j));
        const z = sigmoid(x(1, j) + hidden(1, j));
        const n = Math.tanh(x(2, j) + r * hidden(2, j));
        next[b * H + j] = (1 - z) * n + z * h[b * H + j];
      }
    }
    out.set(next, t * B * H);
    h = next;
  }
  return arr([T, B, H], out);
}

function gruInputs(T: number, B: number, H: number, seed: number, bias: boolean): R[] {
  const scale = 1 / Math.sqrt(H);
  const xs = [
    randArr([T, B, 3 * H], seed, -1.5, 1.5, []),
    randArr([3 * H, H], seed + 1, -scale, scale, []),
    randArr([B, H], seed + 3, -1, 1, []),
  ];
  if (bias) xs.splice(2, 0, randArr([3 * H], seed + 2, -scale, scale, []));
  return xs;
}

describe('gruSequence', () => {
  it('T=3, B=2, H=20 with b_hh: every h and the gradients of proj, W_hh, b_hh and h0', () => {
    gradcheck((p, w, b, h0) => gruSequence(p, w, b, h0), (p, w, b, h0) => refGru(p, w, b, h0),
      gruInputs(3, 2, 20, 60, true), { fwd: { rtol: 2e-5 } });
  });

  it('T=1, B=3, H=17 without bias (dW_hh from h0 alone)', () => {
    gradcheck((p, w, h0) => gruSequence(p, w, null, h0), (p, w, h0) => refGru(p, w, null, h0),
      gruInputs(1, 3, 17, 70, false), { fwd: { rtol: 2e-5 } });
  });

  it('T=4, B=3, H=32: only some inputs need a gradient', () => {
    gradcheck((p, w, b, h0) => gruSequence(p, w, b, h0), (p, w, b, h0) => refGru(p, w, b, h0),
      gruInputs(4, 3, 32, 80, true), { fwd: { rtol: 2e-5 }, grad: [true, false, false, true] });
  });

  it('names the argument and the expected shape', () => {
    const p = kiln.zeros([3, 2, 6]);
    const w = kiln.zeros([6, 2]);
    const s = kiln.zeros([2, 2]);
    expect(() => gruSequence(kiln.zeros([3, 2, 7]), w, null, s)).toThrow(/proj: expected \[seqLen, batch, 3 \* hidden\]/);
    expect(() => gruSequence(p, kiln.zeros([6, 3]), null, s)).toThrow(/weightHh: expected shape \[6, 2\], got \[6, 3\]/);
    expect(() => gruSequence(p, w, kiln.zeros([4]), s)).toThrow(/biasHh: expected shape \[6\]/);
    expect(() => gruSequence(p, w, null, kiln.zeros([2, 3]))).toThrow(/h0: expected shape \[2, 2\], got \[2, 3\]/);
  });

  it('frees what it saves: many training steps keep the live tensor count flat', () => {
    expectFlatMemory(gruInputs(4, 3, 20, 90, true), (ts) => gruSequence(ts[0], ts[1], ts[2], ts[3]));
  });
});

/** h of every step [T, B, H] of act(proj_t + b_hh + h_{t-1} W_hh^T), in float64. */
function refRnn(proj: R, wHh: R, bHh: R | null, h0: R, act: (v: number) => number, pre: number[] = []): R {
  const [T, B, H] = proj.shape;
  const out = new Float64Array(T * B * H);
  let h = Float64Array.from(h0.data);
  for (let t = 0; t < T; t++) {
    const next = new Float64Array(B * H);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < H; j++) {
        let s = proj.data[(t * B + b) * H + j] + (bHh ? bHh.data[j] : 0);
        for (let m = 0; m < H; m++) s += h[b * H + m] * wHh.data[j * H + m];
        pre.push(s);
        next[b * H + j] = act(s);
      }
    }
    out.set(next, t * B * H);
    h = next;
  }
  return arr([T, B, H], out);
}

describe('rnnSequence', () => {
  const rnnInputs = (T: number, B: number, H: number, seed: number, bias: boolean): R[] => {
    const scale = 1 / Math.sqrt(H);
    const xs = [randArr([T, B, H], seed, -1.5, 1.5), randArr([H, H], seed + 1, -scale, scale, []), randArr([B, H], seed + 3, -1, 1, [])];
    if (bias) xs.splice(2, 0, randArr([H], seed + 2, -scale, scale, []));
    return xs;
  };

  it('tanh, T=4, B=3, H=20 with b_hh: every h and the gradients of proj, W_hh, b_hh and h0', () => {
    gradcheck((p, w, b, h0) => rnnSequence(p, w, b, h0, 'tanh'), (p, w, b, h0) => refRnn(p, w, b, h0, Math.tanh),
      rnnInputs(4, 3, 20, 100, true), { fwd: { rtol: 2e-5 } });
  });

  it('relu, T=3, B=2, H=6 without bias', () => {
    // pre-activations stay away from relu's kink at 0, so central differences are valid
    const xs = rnnInputs(3, 2, 6, 110, false);
    const pre: number[] = [];
    refRnn(xs[0], xs[1], null, xs[2], (v) => Math.max(v, 0), pre);
    expect(Math.min(...pre.map(Math.abs))).toBeGreaterThan(1e-3);
    expect(pre.some((v) => v < 0) && pre.some((v) => v > 0)).toBe(true);
    gradcheck((p, w, h0) => rnnSequence(p, w, null, h0, 'relu'), (p, w, h0) => refRnn(p, w, null, h0, (v) => Math.max(v, 0)),
      xs, { fwd: { rtol: 2e-5 } });
  });

  it('T=1: dW_hh from h0 alone', () => {
    gradcheck((p, w, b, h0) => rnnSequence(p, w, b, h0, 'tanh'), (p, w, b, h0) => refRnn(p, w, b, h0, Math.tanh),
      rnnInputs(1, 2, 5, 120, true), { fwd: { rtol: 2e-5 } });
  });

  it('frees what it saves: many training steps keep the live tensor count flat', () => {
    expectFlatMemory(rnnInputs(4, 3, 20, 130, true), (ts) => rnnSequence(ts[0], ts[1], ts[2], ts[3], 'tanh'));
  });

  it('names the argument', () => {
    const s = kiln.zeros([2, 4]);
    expect(() => rnnSequence(kiln.zeros([3, 2, 4]), kiln.zeros([4, 3]), null, s, 'tanh')).toThrow(/weightHh: expected shape \[4, 4\], got \[4, 3\]/);
    expect(() => rnnSequence(kiln.zeros([3, 2, 4]), kiln.zeros([4, 4]), null, s, 'sigmoid' as 'tanh')).toThrow(/nonlinearity: expected 'tanh' or 'relu'/);
  });
});
