/**
 * Acrobot-v1 (Sutton and Barto's book dynamics), Gymnasium's constants: torque -1, 0 or +1 on the
 * second joint, one RK4 step of dt = 0.2 s; reward -1 per step, 0 on reaching the goal height
 * (-cos th1 - cos(th1 + th2) > 1). The start state is rounded to float32, as Gymnasium's is.
 */
import { Box, Discrete } from '../spaces.js';
import type { StepResult } from '../env.js';
import { ClassicEnv, resetBounds } from './base.js';

const DT = 0.2, L1 = 1.0, M1 = 1.0, M2 = 1.0, LC1 = 0.5, LC2 = 0.5, I1 = 1.0, I2 = 1.0, G = 9.8;
const MAX_VEL_1 = 4 * Math.PI, MAX_VEL_2 = 9 * Math.PI;
const TORQUES = [-1.0, 0.0, 1.0];

/** Time derivative of [th1, th2, dth1, dth2] under torque a ("book" form), into out. */
function dsdt(s: ArrayLike<number>, a: number, out: Float64Array): void {
  const [th1, th2, dth1, dth2] = [s[0], s[1], s[2], s[3]];
  const d1 = M1 * LC1 ** 2 + M2 * (L1 ** 2 + LC2 ** 2 + 2 * L1 * LC2 * Math.cos(th2)) + I1 + I2;
  const d2 = M2 * (LC2 ** 2 + L1 * LC2 * Math.cos(th2)) + I2;
  const phi2 = M2 * LC2 * G * Math.cos(th1 + th2 - Math.PI / 2.0);
  const phi1 = -M2 * L1 * LC2 * dth2 ** 2 * Math.sin(th2) - 2 * M2 * L1 * LC2 * dth2 * dth1 * Math.sin(th2) +
    (M1 * LC1 + M2 * L1) * G * Math.cos(th1 - Math.PI / 2) + phi2;
  const ddth2 = (a + (d2 / d1) * phi1 - M2 * L1 * LC2 * dth1 ** 2 * Math.sin(th2) - phi2) / (M2 * LC2 ** 2 + I2 - d2 ** 2 / d1);
  const ddth1 = -(d2 * ddth2 + phi1) / d1;
  out[0] = dth1; out[1] = dth2; out[2] = ddth1; out[3] = ddth2;
}

/** x wrapped into [m, M] by whole turns. */
export function wrap(x: number, m: number, M: number): number {
  const diff = M - m;
  while (x > M) x -= diff;
  while (x < m) x += diff;
  return x;
}
const bound = (x: number, m: number, M: number) => Math.min(Math.max(x, m), M);

export class AcrobotEnv extends ClassicEnv {
  readonly actionSpace = new Discrete(3);
  readonly observationSpace = new Box([-1, -1, -1, -1, -MAX_VEL_1, -MAX_VEL_2], [1, 1, 1, 1, MAX_VEL_1, MAX_VEL_2]);
  private readonly k = [new Float64Array(4), new Float64Array(4), new Float64Array(4), new Float64Array(4)];
  private readonly tmp = new Float64Array(4);

  protected initialState(options: Record<string, unknown>): Float64Array {
    const [lo, hi] = resetBounds(options, -0.1, 0.1);
    return Float64Array.from({ length: 4 }, () => Math.fround(this.rng.uniform(lo, hi)));
  }

  protected observe(): Float32Array {
    const s = this.state!;
    return Float32Array.of(Math.cos(s[0]), Math.sin(s[0]), Math.cos(s[1]), Math.sin(s[1]), s[2], s[3]);
  }

  protected advance(action: number): StepResult {
    const s = this.state!;
    const torque = TORQUES[action];
    // one classical Runge-Kutta step over [0, dt]
    const [k1, k2, k3, k4] = this.k;
    const y = this.tmp;
    const h = DT / 2;
    dsdt(s, torque, k1);
    for (let i = 0; i < 4; i++) y[i] = s[i] + h * k1[i];
    dsdt(y, torque, k2);
    for (let i = 0; i < 4; i++) y[i] = s[i] + h * k2[i];
    dsdt(y, torque, k3);
    for (let i = 0; i < 4; i++) y[i] = s[i] + DT * k3[i];
    dsdt(y, torque, k4);
    for (let i = 0; i < 4; i++) s[i] = s[i] + (DT / 6.0) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
    s[0] = wrap(s[0], -Math.PI, Math.PI);
    s[1] = wrap(s[1], -Math.PI, Math.PI);
    s[2] = bound(s[2], -MAX_VEL_1, MAX_VEL_1);
    s[3] = bound(s[3], -MAX_VEL_2, MAX_VEL_2);
    const terminated = -Math.cos(s[0]) - Math.cos(s[1] + s[0]) > 1.0;
    return [this.observe(), terminated ? 0.0 : -1.0, terminated, false, {}];
  }
}
