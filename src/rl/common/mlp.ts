/** MLP builders for the policies, and orthogonal initialisation (SB3's ortho_init). */
import { noGrad } from '../../autograd/engine.js';
import { randn, tensor } from '../../creation.js';
import { check } from '../../errors.js';
import { Linear } from '../../nn/linear.js';
import { ReLU, Tanh } from '../../nn/activation.js';
import { Sequential } from '../../nn/container.js';
import type { Module } from '../../nn/module.js';
import type { Tensor } from '../../tensor.js';

export type Activation = 'relu' | 'tanh';

export function checkNetArch(a: unknown, name: string): number[] {
  check(Array.isArray(a) && a.every((d) => Number.isInteger(d) && d > 0), () => `${name}: expected an array of positive layer widths, got ${String(a)}`);
  return [...(a as number[])];
}

/** Linear layers of the given widths with an activation after each hidden one; outDim < 0: no output layer. */
export function mlp(inDim: number, hidden: number[], outDim: number, activation: Activation): Sequential {
  const layers: Module[] = [];
  let d = inDim;
  for (const h of hidden) {
    layers.push(new Linear(d, h), activation === 'relu' ? new ReLU() : new Tanh());
    d = h;
  }
  if (outDim > 0) layers.push(new Linear(d, outDim));
  return new Sequential(...layers);
}

/**
 * W <- gain * Q, with Q from the QR decomposition of a standard normal matrix (the sign fixed so
 * that R has a positive diagonal), as torch.nn.init.orthogonal_. Modified Gram-Schmidt in float64
 * on the host: the layers are small, and Kiln has no QR op.
 */
export function orthogonal_(w: Tensor, gain = 1): Tensor {
  check(w.ndim === 2, () => `orthogonal_: expected a 2-D weight, got ${w.ndim} dims`);
  const [rows, cols] = w.shape;
  const g = randn([rows, cols]);
  const a = Float64Array.from(g.toTypedArray());
  g.dispose();
  // work on the tall orientation: m >= n, columns orthonormalised
  const tall = rows >= cols;
  const m = tall ? rows : cols, n = tall ? cols : rows;
  const at = (i: number, j: number) => (tall ? i * cols + j : j * cols + i);
  const q = new Float64Array(m * n); // column j of Q at q[j*m ..]
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < m; i++) q[j * m + i] = a[at(i, j)];
    for (let k = 0; k < j; k++) {
      let dot = 0;
      for (let i = 0; i < m; i++) dot += q[k * m + i] * q[j * m + i];
      for (let i = 0; i < m; i++) q[j * m + i] -= dot * q[k * m + i];
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += q[j * m + i] ** 2;
    norm = Math.sqrt(norm);
    for (let i = 0; i < m; i++) q[j * m + i] /= norm;
  }
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[tall ? i * cols + j : j * cols + i] = gain * q[j * m + i];
  const t = tensor(out, { shape: [rows, cols] });
  noGrad(() => w.copy_(t));
  t.dispose();
  return w;
}

/** Orthogonal weights with `gain` and zero biases for every Linear in a module. */
export function orthoInit(module: Module, gain: number): void {
  for (const m of module.modules()) {
    if (m instanceof Linear) {
      orthogonal_(m.weight, gain);
      if (m.bias) noGrad(() => m.bias!.zero_());
    }
  }
}
