/**
 * CartPole-v1 (Barto, Sutton and Anderson), Gymnasium's constants and explicit Euler integrator:
 * push the cart left (0) or right (1) by 10 N; reward 1 per step, the terminating one included;
 * terminated when |x| > 2.4 or |theta| > 12 degrees. The 500-step limit is TimeLimit's (make).
 */
import { Box, Discrete } from '../spaces.js';
import type { StepResult } from '../env.js';
import { ClassicEnv, resetBounds } from './base.js';

const GRAVITY = 9.8, MASS_CART = 1.0, MASS_POLE = 0.1, TOTAL_MASS = MASS_POLE + MASS_CART;
const LENGTH = 0.5; // half the pole's length
const POLEMASS_LENGTH = MASS_POLE * LENGTH, FORCE_MAG = 10.0, TAU = 0.02;
const THETA_THRESHOLD = (12 * 2 * Math.PI) / 360, X_THRESHOLD = 2.4;

export class CartPoleEnv extends ClassicEnv {
  readonly actionSpace = new Discrete(2);
  readonly observationSpace = new Box([-X_THRESHOLD * 2, -Infinity, -THETA_THRESHOLD * 2, -Infinity],
    [X_THRESHOLD * 2, Infinity, THETA_THRESHOLD * 2, Infinity]);
  /** Steps taken after termination (Gymnasium's steps_beyond_terminated); they earn 0. */
  private stepsBeyondTerminated: number | null = null;

  protected initialState(options: Record<string, unknown>): Float64Array {
    const [lo, hi] = resetBounds(options, -0.05, 0.05);
    this.stepsBeyondTerminated = null;
    return Float64Array.from({ length: 4 }, () => this.rng.uniform(lo, hi));
  }

  protected observe(): Float32Array {
    return Float32Array.from(this.state!);
  }

  protected advance(action: number): StepResult {
    const s = this.state!;
    let [x, xDot, theta, thetaDot] = s;
    const force = action === 1 ? FORCE_MAG : -FORCE_MAG;
    const cos = Math.cos(theta), sin = Math.sin(theta);
    const temp = (force + POLEMASS_LENGTH * thetaDot * thetaDot * sin) / TOTAL_MASS;
    const thetaAcc = (GRAVITY * sin - cos * temp) / (LENGTH * (4.0 / 3.0 - (MASS_POLE * cos * cos) / TOTAL_MASS));
    const xAcc = temp - (POLEMASS_LENGTH * thetaAcc * cos) / TOTAL_MASS;
    x += TAU * xDot;
    xDot += TAU * xAcc;
    theta += TAU * thetaDot;
    thetaDot += TAU * thetaAcc;
    s[0] = x; s[1] = xDot; s[2] = theta; s[3] = thetaDot;
    const terminated = x < -X_THRESHOLD || x > X_THRESHOLD || theta < -THETA_THRESHOLD || theta > THETA_THRESHOLD;
    let reward = 1;
    if (terminated) {
      if (this.stepsBeyondTerminated === null) this.stepsBeyondTerminated = 0;
      else {
        this.stepsBeyondTerminated++;
        reward = 0;
      }
    }
    return [this.observe(), reward, terminated, false, {}];
  }
}
