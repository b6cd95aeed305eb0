/** Shared by the optim tests: fixture loading, the optimizers by name, closeness checks. */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import * as kiln from '../../src/index.js';
import * as optim from '../../src/optim/index.js';

export { kiln, optim };

export function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/optim/${name}`, import.meta.url), 'utf8')) as T;
}

export type Nested = number | Nested[];

export function flat(x: Nested): number[] {
  return Array.isArray(x) ? x.flatMap(flat) : [x];
}

/** |a - e| <= rtol * |e| + atol elementwise, with the worst element named on failure. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = -1, worstErr = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) - (rtol * Math.abs(expected[i]) + atol);
    if (!(err <= 0) && (worst < 0 || !(err <= worstErr))) {
      worst = i;
      worstErr = err;
    }
  }
  expect(worst, worst >= 0 ? `${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]}` : what).toBe(-1);
}

export const optimizers = {
  SGD: optim.SGD, Adam: optim.Adam, AdamW: optim.AdamW, Adagrad: optim.Adagrad, RMSprop: optim.RMSprop,
} as const;
export type OptimizerName = keyof typeof optimizers;

export interface OptimizerCase {
  name: string;
  optimizer: OptimizerName;
  options: Record<string, unknown>;
  groups?: Record<string, unknown>[];
  steps: [Nested, Nested][];
}

export interface OptimizerFixtures {
  params0: [Nested, Nested];
  grads: [Nested, Nested][];
  noGradStepForB: number;
  cases: OptimizerCase[];
  lbfgs: { name: string; options: Record<string, unknown>; x0: number[]; float32: { x: number[]; loss: number }[]; float64: { x: number[]; loss: number }[] }[];
}

/** The fixture's two parameters, w [2, 3] and b [3], as fresh leaves. */
export function makeParams(fx: OptimizerFixtures): [kiln.Tensor, kiln.Tensor] {
  return [kiln.tensor(fx.params0[0] as number[][], { requiresGrad: true }), kiln.tensor(fx.params0[1] as number[], { requiresGrad: true })];
}

export function makeOptimizer(c: OptimizerCase, w: kiln.Tensor, b: kiln.Tensor): optim.Optimizer<any> {
  const Ctor = optimizers[c.optimizer] as unknown as new (p: unknown, o: unknown) => optim.Optimizer<any>;
  const params = c.groups ? [{ params: [w], ...c.groups[0] }, { params: [b], ...c.groups[1] }] : [w, b];
  return new Ctor(params, c.options);
}

/** Sets the fixture's gradient for step k (b gets none on the fixture's no-grad step). */
export function setGrads(fx: OptimizerFixtures, k: number, w: kiln.Tensor, b: kiln.Tensor): void {
  w.grad?.dispose();
  b.grad?.dispose();
  w.grad = kiln.keep(kiln.tensor(fx.grads[k][0] as number[][]));
  b.grad = k === fx.noGradStepForB ? null : kiln.keep(kiln.tensor(fx.grads[k][1] as number[]));
}
