/**
 * MountainCar-v0 (Moore, 1990), Gymnasium's constants: accelerate left (0), none (1), right (2);
 * reward -1 per step; terminated at position >= 0.5. The 200-step limit is TimeLimit's (make).
 */
import { Box, Discrete } from '../spaces.js';
import type { StepResult } from '../env.js';
import { ClassicEnv, resetBounds } from './base.js';

const MIN_POSITION = -1.2, MAX_POSITION = 0.6, MAX_SPEED = 0.07, GOAL_POSITION = 0.5;
const FORCE = 0.001, GRAVITY = 0.0025;
const clip = (x: number, lo: number, hi: number) => Math.min(Math.max(x, lo), hi);

export class MountainCarEnv extends ClassicEnv {
  readonly actionSpace = new Discrete(3);
  readonly observationSpace = new Box([MIN_POSITION, -MAX_SPEED], [MAX_POSITION, MAX_SPEED]);

  constructor(readonly goalVelocity = 0) {
    super();
  }

  protected initialState(options: Record<string, unknown>): Float64Array {
    const [lo, hi] = resetBounds(options, -0.6, -0.4);
    return Float64Array.of(this.rng.uniform(lo, hi), 0);
  }

  protected observe(): Float32Array {
    return Float32Array.from(this.state!);
  }

  protected advance(action: number): StepResult {
    const s = this.state!;
    let [position, velocity] = s;
    velocity += (action - 1) * FORCE + Math.cos(3 * position) * -GRAVITY;
    velocity = clip(velocity, -MAX_SPEED, MAX_SPEED);
    position += velocity;
    position = clip(position, MIN_POSITION, MAX_POSITION);
    if (position === MIN_POSITION && velocity < 0) velocity = 0;
    s[0] = position;
    s[1] = velocity;
    const terminated = position >= GOAL_POSITION && velocity >= this.goalVelocity;
    return [this.observe(), -1.0, terminated, false, {}];
  }
}
