/**
 * rl.make(id): Gymnasium's registered classic-control environments, wrapped in TimeLimit with
 * Gymnasium's episode limits; rl.register adds an id.
 */
import { KilnError, check } from '../errors.js';
import type { Env } from './env.js';
import { AcrobotEnv } from './envs/acrobot.js';
import { CartPoleEnv } from './envs/cartpole.js';
import { MountainCarEnv } from './envs/mountain-car.js';
import { PendulumEnv } from './envs/pendulum.js';
import { TimeLimit } from './wrappers.js';

export interface EnvSpec {
  id: string;
  entryPoint: (kwargs: Record<string, any>) => Env;
  maxEpisodeSteps?: number;
  /** The return at which the task counts as solved (Gymnasium's reward_threshold). */
  rewardThreshold?: number;
}

const specs = new Map<string, EnvSpec>();

export function register(spec: EnvSpec): void {
  check(typeof spec?.id === 'string' && spec.id.length > 0, 'spec.id: expected a non-empty string');
  check(typeof spec.entryPoint === 'function', 'spec.entryPoint: expected a function (kwargs) => Env');
  specs.set(spec.id, spec);
}

export function spec(id: string): EnvSpec {
  const s = specs.get(id);
  if (!s) throw new KilnError(`id: unknown environment '${String(id)}' (registered: ${[...specs.keys()].join(', ')})`);
  return s;
}

export interface MakeOptions {
  /** Overrides the registered limit; 0 or null: no TimeLimit. */
  maxEpisodeSteps?: number | null;
  [kwarg: string]: unknown;
}

export function make(id: string, { maxEpisodeSteps, ...kwargs }: MakeOptions = {}): Env {
  const s = spec(id);
  const env = s.entryPoint(kwargs);
  const limit = maxEpisodeSteps === undefined ? s.maxEpisodeSteps : maxEpisodeSteps;
  return limit ? new TimeLimit(env, limit) : env;
}

export function registeredIds(): string[] {
  return [...specs.keys()];
}

register({ id: 'CartPole-v1', entryPoint: () => new CartPoleEnv(), maxEpisodeSteps: 500, rewardThreshold: 475 });
register({ id: 'CartPole-v0', entryPoint: () => new CartPoleEnv(), maxEpisodeSteps: 200, rewardThreshold: 195 });
register({ id: 'Acrobot-v1', entryPoint: () => new AcrobotEnv(), maxEpisodeSteps: 500, rewardThreshold: -100 });
register({ id: 'MountainCar-v0', entryPoint: (k) => new MountainCarEnv(k.goalVelocity ?? 0), maxEpisodeSteps: 200, rewardThreshold: -110 });
register({ id: 'Pendulum-v1', entryPoint: (k) => new PendulumEnv(k.g ?? 10.0), maxEpisodeSteps: 200 });
