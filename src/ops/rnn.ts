/**
 * The RNN, LSTM and GRU recurrences over a whole sequence, each as one recorded op: one native
 * call forward and one backward (native/binding/rnn.cc, lstm.cc and gru.cc: the backend's GEMM
 * and activation or fused cell per step, and dW_hh as one GEMM over all steps) instead of a
 * handful of recorded ops per time step.
 * The autograd engine gives an op one output, so the LSTM's h and c come packed: hc [2, T, B, H],
 * hc[0] = h_t and hc[1] = c_t for every step.
 */
import { record } from '../autograd/engine.js';
import { check, shapeStr } from '../errors.js';
import { native } from '../native.js';
import type { Tensor } from '../tensor.js';
import { checkFloat, checkSameDevice, contiguous, disposeTemp, empty } from './util.js';

/** The contiguous copies among [copy, original] pairs: buffers the node owns. */
function copies(...pairs: [Tensor, Tensor][]): Tensor[] {
  return pairs.filter(([c, t]) => c !== t).map(([c]) => c);
}

function checkShape(t: Tensor, name: string, expected: readonly number[]): void {
  checkFloat(t, name);
  check(t.shape.length === expected.length && t.shape.every((d, i) => d === expected[i]),
    () => `${name}: expected shape ${shapeStr(expected)}, got ${shapeStr(t.shape)}`);
}

/**
 * Checks a recurrence's arguments: proj [T, B, gates * H] with no empty dim, wHh [gates * H, H],
 * bHh [gates * H] or null, each state [B, H], all float32 on proj's device. Returns [T, B, H].
 */
function checkRecurrence(op: string, gates: number, proj: Tensor, wHh: Tensor, bHh: Tensor | null,
  states: Record<string, Tensor>): [number, number, number] {
  checkFloat(proj, `${op}: proj`);
  const layout = gates === 1 ? 'hidden' : `${gates} * hidden`;
  check(proj.ndim === 3 && proj.shape[2] % gates === 0 && proj.numel > 0,
    () => `proj: expected [seqLen, batch, ${layout}] with no empty dim, got ${shapeStr(proj.shape)}`);
  const [T, B, G] = proj.shape;
  const H = G / gates;
  checkShape(wHh, 'weightHh', [G, H]);
  if (bHh !== null) checkShape(bHh, 'biasHh', [G]);
  for (const [name, t] of Object.entries(states)) checkShape(t, name, [B, H]);
  const named: [string, Tensor | null][] = [['weightHh', wHh], ['biasHh', bHh], ...Object.entries(states)];
  for (const [name, t] of named) if (t !== null) checkSameDevice(proj, t, `${op} ${name}`);
  return [T, B, H];
}

/**
 * proj [T, B, H]: x_t W_ih^T + b_ih of every step; wHh [H, H]; bHh [H] or null; h0 [B, H].
 * Returns h_t = act(proj_t + b_hh + h_{t-1} W_hh^T) of every step, [T, B, H].
 */
export function rnnSequence(proj: Tensor, wHh: Tensor, bHh: Tensor | null, h0: Tensor, nonlinearity: 'tanh' | 'relu'): Tensor {
  check(nonlinearity === 'tanh' || nonlinearity === 'relu', () => `nonlinearity: expected 'tanh' or 'relu', got ${String(nonlinearity)}`);
  const [T, B, H] = checkRecurrence('rnn', 1, proj, wHh, bHh, { h0 });
  const pc = contiguous(proj);
  const wc = contiguous(wHh);
  const bc = bHh === null ? null : contiguous(bHh);
  const h0c = contiguous(h0);
  const hs = empty([T, B, H], 'float32', proj.device);
  const relu = nonlinearity === 'relu';
  native.rnnForward(hs.storage.handle, 0, pc.storage.handle, pc.offset, wc.storage.handle, wc.offset,
    bc?.storage.handle ?? null, bc?.offset ?? 0, h0c.storage.handle, h0c.offset, T, B, H, relu);
  disposeTemp(pc, proj);
  if (bc !== null) disposeTemp(bc, bHh!);
  const inputs = bHh === null ? [proj, wHh, h0] : [proj, wHh, bHh, h0];
  const out = record(hs, 'rnnSequence', inputs, { hs, wHh: wc, h0: h0c, hasBias: bHh !== null, relu }, 0,
    copies([wc, wHh], [h0c, h0]), [hs, wc, h0c]);
  if (out.gradFn === null) {
    disposeTemp(wc, wHh);
    disposeTemp(h0c, h0);
  }
  return out;
}

/** Gradients of [proj, wHh, (bHh,) h0] for dhs, the gradient of rnnSequence's output. */
export function rnnSequenceBackward(inputs: Tensor[], saved: Record<string, any>, dhs: Tensor): (Tensor | null)[] {
  const { hs, wHh, h0, hasBias, relu } = saved as { hs: Tensor; wHh: Tensor; h0: Tensor; hasBias: boolean; relu: boolean };
  const [T, B, H] = hs.shape;
  const device = hs.device;
  const bias = hasBias ? inputs[2] : null;
  const dyc = contiguous(dhs);
  const dproj = empty([T, B, H], 'float32', device);
  const dw = inputs[1].requiresGrad ? empty([H, H], 'float32', device) : null;
  const db = bias?.requiresGrad ? empty([H], 'float32', device) : null;
  const dh0 = empty([B, H], 'float32', device);
  native.rnnBackward(dproj.storage.handle, 0, dw?.storage.handle ?? null, 0, db?.storage.handle ?? null, 0,
    dh0.storage.handle, 0, dyc.storage.handle, dyc.offset, hs.storage.handle, 0, h0.storage.handle, h0.offset,
    wHh.storage.handle, wHh.offset, T, B, H, relu);
  disposeTemp(dyc, dhs);
  return hasBias ? [dproj, dw, db, dh0] : [dproj, dw, dh0];
}

/**
 * proj [T, B, 4H]: the input projections x_t W_ih^T + b_ih of every step (gate order i, f, g, o);
 * wHh [4H, H]; bHh [4H] or null; h0, c0 [B, H]. Returns hc [2, T, B, H].
 */
export function lstmSequence(proj: Tensor, wHh: Tensor, bHh: Tensor | null, h0: Tensor, c0: Tensor): Tensor {
  const [T, B, H] = checkRecurrence('lstm', 4, proj, wHh, bHh, { h0, c0 });
  const G = 4 * H;
  const pc = contiguous(proj);
  const wc = contiguous(wHh);
  const bc = bHh === null ? null : contiguous(bHh);
  const h0c = contiguous(h0);
  const c0c = contiguous(c0);
  const gates = empty([T, B, G], 'float32', proj.device);
  const hc = empty([2, T, B, H], 'float32', proj.device);
  native.lstmForward(gates.storage.handle, 0, hc.storage.handle, 0, pc.storage.handle, pc.offset, wc.storage.handle,
    wc.offset, bc?.storage.handle ?? null, bc?.offset ?? 0, h0c.storage.handle, h0c.offset, c0c.storage.handle, c0c.offset,
    T, B, H);
  disposeTemp(pc, proj);
  if (bc !== null) disposeTemp(bc, bHh!);
  const inputs = bHh === null ? [proj, wHh, h0, c0] : [proj, wHh, bHh, h0, c0];
  const out = record(hc, 'lstmSequence', inputs, { gates, hc, wHh: wc, h0: h0c, c0: c0c, hasBias: bHh !== null }, 0,
    [gates, ...copies([wc, wHh], [h0c, h0], [c0c, c0])], [hc, wc, h0c, c0c]);
  if (out.gradFn === null) {
    gates.dispose();
    disposeTemp(wc, wHh);
    disposeTemp(h0c, h0);
    disposeTemp(c0c, c0);
  }
  return out;
}

/** Gradients of [proj, wHh, (bHh,) h0, c0] for dhc, the gradient of lstmSequence's output. */
export function lstmSequenceBackward(inputs: Tensor[], saved: Record<string, any>, dhc: Tensor): (Tensor | null)[] {
  const { gates, hc, wHh, h0, c0, hasBias } = saved as {
    gates: Tensor; hc: Tensor; wHh: Tensor; h0: Tensor; c0: Tensor; hasBias: boolean;
  };
  const [T, B, G] = gates.shape;
  const H = G / 4;
  const device = gates.device;
  const bias = hasBias ? inputs[2] : null;
  const dyc = contiguous(dhc);
  const dgates = empty([T, B, G], 'float32', device);
  const dw = inputs[1].requiresGrad ? empty([G, H], 'float32', device) : null;
  const db = bias?.requiresGrad ? empty([G], 'float32', device) : null;
  const dh0 = empty([B, H], 'float32', device);
  const dc0 = empty([B, H], 'float32', device);
  native.lstmBackward(dgates.storage.handle, 0, dw?.storage.handle ?? null, 0, db?.storage.handle ?? null, 0,
    dh0.storage.handle, 0, dc0.storage.handle, 0, dyc.storage.handle, dyc.offset, gates.storage.handle, 0,
    hc.storage.handle, 0, h0.storage.handle, h0.offset, c0.storage.handle, c0.offset, wHh.storage.handle, wHh.offset,
    T, B, H);
  disposeTemp(dyc, dhc);
  return hasBias ? [dgates, dw, db, dh0, dc0] : [dgates, dw, dh0, dc0];
}

/**
 * proj [T, B, 3H]: x_t W_ih^T + b_ih of every step (gate order r, z, n); wHh [3H, H]; bHh [3H] or
 * null; h0 [B, H]. Returns h of every step, [T, B, H].
 */
export function gruSequence(proj: Tensor, wHh: Tensor, bHh: Tensor | null, h0: Tensor): Tensor {
  const [T, B, H] = checkRecurrence('gru', 3, proj, wHh, bHh, { h0 });
  const G = 3 * H;
  const pc = contiguous(proj);
  const wc = contiguous(wHh);
  const bc = bHh === null ? null : contiguous(bHh);
  const h0c = contiguous(h0);
  const gates = empty([T, B, G], 'float32', proj.device);
  const hh = empty([T, B, G], 'float32', proj.device);
  const hs = empty([T, B, H], 'float32', proj.device);
  native.gruForward(gates.storage.handle, 0, hh.storage.handle, 0, hs.storage.handle, 0, pc.storage.handle, pc.offset,
    wc.storage.handle, wc.offset, bc?.storage.handle ?? null, bc?.offset ?? 0, h0c.storage.handle, h0c.offset, T, B, H);
  disposeTemp(pc, proj);
  if (bc !== null) disposeTemp(bc, bHh!);
  const inputs = bHh === null ? [proj, wHh, h0] : [proj, wHh, bHh, h0];
  const out = record(hs, 'gruSequence', inputs, { gates, hh, hs, wHh: wc, h0: h0c, hasBias: bHh !== null }, 0,
    [gates, hh, ...copies([wc, wHh], [h0c, h0])], [hs, wc, h0c]);
  if (out.gradFn === null) {
    gates.dispose();
    hh.dispose();
    disposeTemp(wc, wHh);
    disposeTemp(h0c, h0);
  }
  return out;
}

/** Gradients of [proj, wHh, (bHh,) h0] for dhs, the gradient of gruSequence's output. */
export function gruSequenceBackward(inputs: Tensor[], saved: Record<string, any>, dhs: Tensor): (Tensor | null)[] {
  const { gates, hh, hs, wHh, h0, hasBias } = saved as {
    gates: Tensor; hh: Tensor; hs: Tensor; wHh: Tensor; h0: Tensor; hasBias: boolean;
  };
  const [T, B, G] = gates.shape;
  const H = G / 3;
  const device = gates.device;
  const bias = hasBias ? inputs[2] : null;
  const dyc = contiguous(dhs);
  const dproj = empty([T, B, G], 'float32', device);
  const dw = inputs[1].requiresGrad ? empty([G, H], 'float32', device) : null;
  const db = bias?.requiresGrad ? empty([G], 'float32', device) : null;
  const dh0 = empty([B, H], 'float32', device);
  native.gruBackward(dproj.storage.handle, 0, dw?.storage.handle ?? null, 0, db?.storage.handle ?? null, 0,
    dh0.storage.handle, 0, dyc.storage.handle, dyc.offset, gates.storage.handle, 0, hh.storage.handle, 0,
    hs.storage.handle, 0, h0.storage.handle, h0.offset, wHh.storage.handle, wHh.offset, T, B, H);
  disposeTemp(dyc, dhs);
  return hasBias ? [dproj, dw, db, dh0] : [dproj, dw, dh0];
}
