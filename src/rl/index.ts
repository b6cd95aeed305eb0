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
export { BaseAlgorithm, LearnContext } from './common/base.js';
export type { RLCallback, LearnOptions, PolicyKwargs, CommonOptions, EnvArg } from './common/base.js';
export type { TrainingLog, LogRecord, EpisodeRecord } from './common/logger.js';
export { ReplayBuffer, RolloutBuffer, computeGae } from './common/buffers.js';
export type { ReplayBatch } from './common/buffers.js';
export { constantSchedule, linearSchedule, toSchedule } from './common/schedules.js';
export type { Schedule, ScheduleLike, ScheduleSpec } from './common/schedules.js';
export { orthogonal_, mlp } from './common/mlp.js';
export { clipGradNorm } from './common/grad.js';
export { DQN } from './dqn.js';
export type { DQNOptions } from './dqn.js';
export { learningCurveHtml, writeLearningCurve } from './report.js';
export { PPO, ppoPolicyLoss } from './ppo.js';
export type { PPOOptions } from './ppo.js';
export { A2C } from './a2c.js';
export type { A2COptions } from './a2c.js';
export { REINFORCE, discountedReturns } from './reinforce.js';
export type { REINFORCEOptions } from './reinforce.js';
export { OnPolicyAlgorithm, explainedVariance } from './common/on-policy.js';
export type { OnPolicyOptions } from './common/on-policy.js';
export { ActorCriticPolicy } from './common/policies.js';
export { evaluatePolicy } from './evaluation.js';
export type { EvaluateOptions, EvaluateResult, Predictor } from './evaluation.js';
