/**
 * Pendulum-v1, Gymnasium's constants (g = 10, m = l = 1, dt = 0.05, |torque| <= 2, |speed| <= 8):
 * reward -(angle^2 + 0.1 speed^2 + 0.001 torque^2), never terminates; the 200-step limit is
 * TimeLimit's (make). Torque terms are computed in float64 from the float32 action.
 */
import { check } from '../../errors.js';
import { Box } from '../spaces.js';
import type { StepResult } from '../env.js';
import { ClassicEnv } from './base.js';

const MAX_SPEED = 8, MAX_TORQUE = 2.0, DT = 0.05, M = 1.0, L = 1.0;
const clip = (x: number, lo: number, hi: number) => Math.min(Math.max(x, lo), hi);
/** ((x + pi) mod 2 pi) - pi, with Python's floored modulo. */
export function angleNormalize(x: number): number {
  const t = 2 * Math.PI;
  return ((((x + Math.PI) % t) + t) % t) - Math.PI;
}

export class PendulumEnv extends ClassicEnv {
  readonly actionSpace = new Box(-MAX_TORQUE, MAX_TORQUE, [1]);
  readonly observationSpace = new Box([-1, -1, -MAX_SPEED], [1, 1, MAX_SPEED]);

  constructor(readonly g = 10.0) {
    super();
    check(Number.isFinite(g), () => `g: expected a finite number, got ${g}`);
  }

  protected initialState(options: Record<string, unknown>): Float64Array {
    const x = options.xInit ?? Math.PI;
    const y = options.yInit ?? 1.0;
    check(typeof x === 'number' && typeof y === 'number', 'options: xInit and yInit must be numbers');
    return Float64Array.of(this.rng.uniform(-x, x), this.rng.uniform(-y, y));
  }

  protected observe(): Float32Array {
    const [th, thdot] = this.state!;
    return Float32Array.of(Math.cos(th), Math.sin(th), thdot);
  }

  protected advance(action: Float32Array): StepResult {
    const s = this.state!;
    const [th, thdot] = s;
    const u = clip(action[0], -MAX_TORQUE, MAX_TORQUE);
    const costs = angleNormalize(th) ** 2 + 0.1 * thdot ** 2 + 0.001 * u ** 2;
    let newThdot = thdot + ((3 * this.g) / (2 * L) * Math.sin(th) + (3.0 / (M * L ** 2)) * u) * DT;
    newThdot = clip(newThdot, -MAX_SPEED, MAX_SPEED);
    s[0] = th + newThdot * DT;
    s[1] = newThdot;
    return [this.observe(), -costs, false, false, {}];
  }
}
