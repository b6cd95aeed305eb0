/** What the classic-control environments share: seeding, the reset-before-step rule, action checks. */
import { KilnError, check } from '../../errors.js';
import type { Action, Env, Info, ResetOptions, StepResult } from '../env.js';
import { Rng } from '../rng.js';
import type { Space } from '../spaces.js';

export abstract class ClassicEnv implements Env {
  abstract readonly observationSpace: Space;
  abstract readonly actionSpace: Space;
  /** The float64 physical state (Gymnasium's `state`); tests and tools may set it. */
  state: Float64Array | null = null;
  protected rng = new Rng(Math.floor(Math.random() * 2 ** 32));

  reset({ seed, options }: ResetOptions = {}): [Float32Array, Info] {
    if (seed !== undefined) this.rng = new Rng(seed);
    this.state = this.initialState(options ?? {});
    return [this.observe(), {}];
  }

  step(action: Action): StepResult {
    if (this.state === null) throw new KilnError(`step: call reset() before step() on ${this.constructor.name}`);
    return this.advance(this.checkAction(action));
  }

  close(): void {}

  protected abstract initialState(options: Record<string, unknown>): Float64Array;
  protected abstract observe(): Float32Array;
  protected abstract advance(action: number | Float32Array): StepResult;

  private checkAction(action: Action): number | Float32Array {
    const s = this.actionSpace;
    if (s.kind === 'discrete') {
      check(s.contains(action), () => `action: expected an integer in [${s.start}, ${s.start + s.n - 1}], got ${String(action)}`);
      return action as number;
    }
    const a = typeof action === 'number' ? Float32Array.of(action) : action;
    check(a instanceof Float32Array && a.length === s.size && a.every((v) => !Number.isNaN(v)),
      () => `action: expected a Float32Array of ${s.size} numbers, got ${String(action)}`);
    return a;
  }
}

/** Gymnasium's reset bounds: options.low / options.high when given, else the defaults. */
export function resetBounds(options: Record<string, unknown>, low: number, high: number): [number, number] {
  const lo = options.low ?? low;
  const hi = options.high ?? high;
  check(typeof lo === 'number' && typeof hi === 'number' && lo <= hi,
    () => `options: expected numbers low <= high, got low=${String(lo)} high=${String(hi)}`);
  return [lo, hi];
}
