/**
 * kiln.rl: Gymnasium-style environments and Stable-Baselines3-style agents.
 * Observations are Float32Array; actions are integers (Discrete) or Float32Array (Box).
 */
export { Discrete, Box, spaceFromJSON, flatSize } from './spaces.js';
export type { Space } from './spaces.js';
export type { Env, Action, Info, ResetOptions, StepResult } from './env.js';
export { isEnv } from './env.js';
export { Rng } from './rng.js';
export { CartPoleEnv } from './envs/cartpole.js';
export { AcrobotEnv } from './envs/acrobot.js';
export { MountainCarEnv } from './envs/mountain-car.js';
export { PendulumEnv } from './envs/pendulum.js';
export { ClassicEnv } from './envs/base.js';
export { Wrapper, TimeLimit, RecordEpisodeStatistics } from './wrappers.js';
export type { EpisodeStats } from './wrappers.js';
export { make, register, spec, registeredIds } from './registry.js';
export type { EnvSpec, MakeOptions } from './registry.js';
export { SyncVectorEnv, isVectorEnv } from './vec-env.js';
export type { VectorEnv, VecStepResult } from './vec-env.js';
export { VecNormalize, RunningMeanStd } from './vec-normalize.js';
export type { VecNormalizeOptions } from './vec-normalize.js';
