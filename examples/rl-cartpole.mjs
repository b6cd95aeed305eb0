// Reinforcement learning: train PPO and DQN on CartPole-v1 with the rl-baselines3-zoo
// hyperparameters, evaluate them, save and reload one, and write the learning curve.
//   npm run build:ts && node examples/rl-cartpole.mjs
import * as kiln from '../dist/index.js';

const { rl } = kiln;

const ppo = new rl.PPO('CartPole-v1', {
  nEnvs: 8, nSteps: 32, batchSize: 256, gaeLambda: 0.8, gamma: 0.98, nEpochs: 20, entCoef: 0.0,
  learningRate: 'lin_0.001', clipRange: 'lin_0.2', seed: 0,
});
await ppo.learn({ totalTimesteps: 100_000, progressBar: true, report: 'ppo-cartpole.html' });
console.log('PPO', rl.evaluatePolicy(ppo, rl.make('CartPole-v1'), { nEvalEpisodes: 20, seed: 1 }));

// DQN's final policy depends on the seed: over seeds 0-4 three balanced for (nearly) 500 steps
// and two had collapsed when training stopped (bench/RESULTS.md); seed 2 is one of the good ones
const dqn = new rl.DQN('CartPole-v1', {
  learningRate: 2.3e-3, batchSize: 64, bufferSize: 100_000, learningStarts: 1000, gamma: 0.99, targetUpdateInterval: 10,
  trainFreq: 256, gradientSteps: 128, explorationFraction: 0.16, explorationFinalEps: 0.04,
  policyKwargs: { netArch: [256, 256] }, seed: 2,
});
await dqn.learn({
  totalTimesteps: 50_000,
  progressBar: true,
  callback: { onLog: (r) => { if (r.timesteps % 10_000 < 1000) console.log(`${r.timesteps} steps: return ${r.episodeReturnMean.toFixed(1)}`); } },
});
await dqn.save('dqn-cartpole.safetensors');
const loaded = await rl.DQN.load('dqn-cartpole.safetensors');
const env = rl.make('CartPole-v1');
let [obs] = env.reset({ seed: 2 });
let total = 0;
for (;;) {
  const [next, reward, terminated, truncated] = env.step(loaded.predict(obs, { deterministic: true }));
  total += reward;
  obs = next;
  if (terminated || truncated) break;
}
console.log('reloaded DQN, one episode:', total, ' live tensors:', kiln.memory().tensors);
