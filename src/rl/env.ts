/**
 * The environment contract (Gymnasium's API): any object with these members works with Kiln's
 * agents, wrappers and vector environments, not only Kiln's own environments.
 * Observations are Float32Array (a Box's values in row-major order); actions are an integer for
 * Discrete spaces and a Float32Array for Box spaces.
 */
import type { Space } from './spaces.js';

export type Info = Record<string, unknown>;
export type Action = number | Float32Array;

export interface ResetOptions {
  /** Reseeds the environment's generator (the first reset should pass one for reproducibility). */
  seed?: number;
  /** Environment-specific options, e.g. { low, high } for CartPole's start-state bounds. */
  options?: Record<string, unknown>;
}

/** [observation, reward, terminated, truncated, info] */
export type StepResult = [Float32Array, number, boolean, boolean, Info];

export interface Env {
  readonly observationSpace: Space;
  readonly actionSpace: Space;
  reset(options?: ResetOptions): [Float32Array, Info];
  step(action: Action): StepResult;
  close(): void;
}

/** True when obj has the Env members an agent uses. */
export function isEnv(obj: unknown): obj is Env {
  const e = obj as Env;
  return e !== null && typeof e === 'object' && typeof e.reset === 'function' && typeof e.step === 'function' &&
    e.observationSpace !== undefined && e.actionSpace !== undefined;
}
