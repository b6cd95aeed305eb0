/** The float64 LSTM cell shared by the recurrent tests' reference implementations. */
export const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/**
 * One step of batch row b: gate(k, j) is the pre-activation of gate k (0 i, 1 f, 2 g, 3 o, as
 * PyTorch) for unit j; c holds c_{t-1}; writes h_t and c_t of the row into hNext and cNext.
 */
export function lstmCellRow(gate: (k: number, j: number) => number, c: ArrayLike<number>, b: number, H: number,
  hNext: Float64Array, cNext: Float64Array): void {
  for (let j = 0; j < H; j++) {
    const i = sigmoid(gate(0, j)), f = sigmoid(gate(1, j)), g = Math.tanh(gate(2, j)), o = sigmoid(gate(3, j));
    cNext[b * H + j] = f * c[b * H + j] + i * g;
    hNext[b * H + j] = o * Math.tanh(cNext[b * H + j]);
  }
}
