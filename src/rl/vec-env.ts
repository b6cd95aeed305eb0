/**
 * Vector environments: numEnvs copies stepped together, observations packed as one Float32Array
 * [numEnvs * obsSize]. Episodes reset automatically in the same step, as Stable-Baselines3's
 * VecEnv does: the returned observation of a finished env is its next episode's first one, and
 * info.finalObservation holds the last observation of the finished episode (what a value
 * function bootstraps from on truncation).
 */
import { check } from '../errors.js';
import { type Env, type Info, isEnv } from './env.js';
import { type Space, flatSize } from './spaces.js';

export type VecStepResult = [obs: Float32Array, rewards: Float64Array, terminated: boolean[], truncated: boolean[], infos: Info[]];

export interface VectorEnv {
  readonly numEnvs: number;
  readonly singleObservationSpace: Space;
  readonly singleActionSpace: Space;
  /** seed: env i is reset with seed + i. */
  reset(options?: { seed?: number }): [Float32Array, Info[]];
  /** Discrete: one integer per env; Box: numEnvs * actionSize numbers. */
  step(actions: ArrayLike<number>): VecStepResult;
  close(): void;
}

export function isVectorEnv(obj: unknown): obj is VectorEnv {
  const v = obj as VectorEnv;
  return v !== null && typeof v === 'object' && Number.isInteger(v.numEnvs) && typeof v.step === 'function' &&
    typeof v.reset === 'function' && v.singleObservationSpace !== undefined && v.singleActionSpace !== undefined;
}

export class SyncVectorEnv implements VectorEnv {
  readonly envs: Env[];
  readonly numEnvs: number;
  readonly singleObservationSpace: Space;
  readonly singleActionSpace: Space;
  private readonly obsSize: number;
  private readonly actSize: number;

  /** envs: environments or functions that make them (one per copy). */
  constructor(envs: (Env | (() => Env))[]) {
    check(Array.isArray(envs) && envs.length > 0, 'envs: expected a non-empty array of environments or env factories');
    this.envs = envs.map((e, i) => {
      const env = typeof e === 'function' ? e() : e;
      check(isEnv(env), () => `envs[${i}]: expected an environment (reset, step, observationSpace, actionSpace)`);
      return env;
    });
    this.numEnvs = this.envs.length;
    this.singleObservationSpace = this.envs[0].observationSpace;
    this.singleActionSpace = this.envs[0].actionSpace;
    this.obsSize = flatSize(this.singleObservationSpace);
    this.actSize = flatSize(this.singleActionSpace);
    this.envs.forEach((e, i) => check(flatSize(e.observationSpace) === this.obsSize && flatSize(e.actionSpace) === this.actSize,
      () => `envs[${i}]: its spaces differ from envs[0]'s`));
  }

  reset({ seed }: { seed?: number } = {}): [Float32Array, Info[]] {
    const obs = new Float32Array(this.numEnvs * this.obsSize);
    const infos: Info[] = [];
    this.envs.forEach((e, i) => {
      const [o, info] = e.reset(seed === undefined ? {} : { seed: seed + i });
      this.place(obs, i, o);
      infos.push(info);
    });
    return [obs, infos];
  }

  step(actions: ArrayLike<number>): VecStepResult {
    const n = this.numEnvs;
    const discrete = this.singleActionSpace.kind === 'discrete';
    check(actions !== null && typeof actions === 'object' && actions.length === n * (discrete ? 1 : this.actSize),
      () => `actions: expected ${n * (discrete ? 1 : this.actSize)} numbers (${n} envs), got ${String((actions as any)?.length)}`);
    const obs = new Float32Array(n * this.obsSize);
    const rewards = new Float64Array(n);
    const terminated: boolean[] = [];
    const truncated: boolean[] = [];
    const infos: Info[] = [];
    for (let i = 0; i < n; i++) {
      const a = discrete ? actions[i] : Float32Array.from({ length: this.actSize }, (_, k) => actions[i * this.actSize + k]);
      let [o, r, term, trunc, info] = this.envs[i].step(a);
      if (term || trunc) {
        const finalObservation = o;
        [o] = this.envs[i].reset();
        info = { ...info, finalObservation };
      }
      this.place(obs, i, o);
      rewards[i] = r;
      terminated.push(term);
      truncated.push(trunc);
      infos.push(info);
    }
    return [obs, rewards, terminated, truncated, infos];
  }

  close(): void {
    for (const e of this.envs) e.close();
  }

  private place(out: Float32Array, i: number, o: Float32Array): void {
    check(o.length === this.obsSize, () => `observation: env ${i} returned ${o.length} values, expected ${this.obsSize}`);
    out.set(o, i * this.obsSize);
  }
}
