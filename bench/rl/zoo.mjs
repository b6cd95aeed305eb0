// rl-baselines3-zoo hyperparameters (hyperparams/{dqn,ppo,a2c}.yml at commit 22e3ff2), in Kiln's
// camelCase names; SB3 defaults fill what the zoo leaves out. REINFORCE is Kiln's own setting.
export const configs = {
  'dqn-cartpole': {
    algo: 'DQN', env: 'CartPole-v1', totalTimesteps: 50_000, target: 500,
    options: { learningRate: 2.3e-3, batchSize: 64, bufferSize: 100_000, learningStarts: 1000, gamma: 0.99, targetUpdateInterval: 10,
      trainFreq: 256, gradientSteps: 128, explorationFraction: 0.16, explorationFinalEps: 0.04, policyKwargs: { netArch: [256, 256] } },
  },
  'dqn-acrobot': {
    algo: 'DQN', env: 'Acrobot-v1', totalTimesteps: 100_000, target: -77,
    options: { learningRate: 6.3e-4, batchSize: 128, bufferSize: 50_000, learningStarts: 0, gamma: 0.99, targetUpdateInterval: 250,
      trainFreq: 4, gradientSteps: -1, explorationFraction: 0.12, explorationFinalEps: 0.1, policyKwargs: { netArch: [256, 256] } },
  },
  'dqn-mountaincar': {
    algo: 'DQN', env: 'MountainCar-v0', totalTimesteps: 120_000, target: -101,
    options: { learningRate: 4e-3, batchSize: 128, bufferSize: 10_000, learningStarts: 1000, gamma: 0.98, targetUpdateInterval: 600,
      trainFreq: 16, gradientSteps: 8, explorationFraction: 0.2, explorationFinalEps: 0.07, policyKwargs: { netArch: [256, 256] } },
  },
  // the same with a time-limit cut stored as terminal, as SB3 before 1.1.0 (2021-07) did: the
  // zoo's published DQN MountainCar agent was trained on 2021-03-01 (its monitor file's t_start)
  'dqn-mountaincar-timeout-done': {
    algo: 'DQN', env: 'MountainCar-v0', totalTimesteps: 120_000, target: -101,
    options: { learningRate: 4e-3, batchSize: 128, bufferSize: 10_000, learningStarts: 1000, gamma: 0.98, targetUpdateInterval: 600,
      trainFreq: 16, gradientSteps: 8, explorationFraction: 0.2, explorationFinalEps: 0.07, policyKwargs: { netArch: [256, 256] },
      replayBufferKwargs: { handleTimeoutTermination: false } },
  },
  'ppo-cartpole': {
    algo: 'PPO', env: 'CartPole-v1', totalTimesteps: 100_000, target: 500,
    options: { nEnvs: 8, nSteps: 32, batchSize: 256, gaeLambda: 0.8, gamma: 0.98, nEpochs: 20, entCoef: 0.0, learningRate: 'lin_0.001', clipRange: 'lin_0.2' },
  },
  'a2c-cartpole': {
    algo: 'A2C', env: 'CartPole-v1', totalTimesteps: 500_000, target: 500,
    options: { nEnvs: 8, entCoef: 0.0 },
  },
  // the zoo's values without its use_sde: True, sde_sample_freq: 4 (generalised state-dependent
  // exploration): the plain diagonal Gaussian (ppo-pendulum-sde below has gSDE)
  'ppo-pendulum': {
    algo: 'PPO', env: 'Pendulum-v1', totalTimesteps: 100_000, target: -172,
    options: { nEnvs: 4, nSteps: 1024, gaeLambda: 0.95, gamma: 0.9, nEpochs: 10, entCoef: 0.0, learningRate: 1e-3, clipRange: 0.2 },
  },
  // the zoo's full Pendulum setting, gSDE included
  'ppo-pendulum-sde': {
    algo: 'PPO', env: 'Pendulum-v1', totalTimesteps: 100_000, target: -172,
    options: { nEnvs: 4, nSteps: 1024, gaeLambda: 0.95, gamma: 0.9, nEpochs: 10, entCoef: 0.0, learningRate: 1e-3, clipRange: 0.2, useSde: true, sdeSampleFreq: 4 },
  },
  'reinforce-cartpole': {
    algo: 'REINFORCE', env: 'CartPole-v1', totalTimesteps: 300_000, target: 475,
    options: { learningRate: 1e-3, gamma: 0.99, episodesPerUpdate: 4, normalizeAdvantage: true, vfCoef: 0.5, maxGradNorm: 0.5 },
  },
};
