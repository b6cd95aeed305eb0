/**
 * PPO (Schulman et al. 2017), clipped surrogate objective, as SB3's: nEpochs passes over the
 * rollout in shuffled minibatches, advantages normalised per minibatch, an optional clipped value
 * loss, entropy bonus, gradient-norm clipping, and early stop on approximate KL (targetKl).
 */
import { tensor } from '../creation.js';
import { check } from '../errors.js';
import { mseLoss } from '../losses.js';
import { scope } from '../memory.js';
import { minimum } from '../ops/elementwise.js';
import { Adam } from '../optim/adam.js';
import type { Tensor } from '../tensor.js';
import type { EnvArg } from './common/base.js';
import { OnPolicyAlgorithm, type OnPolicyOptions, sdeDefaults } from './common/on-policy.js';
import { type Schedule, type ScheduleLike, scheduleSpec, toSchedule } from './common/schedules.js';

export interface PPOOptions extends OnPolicyOptions {
  batchSize?: number;
  nEpochs?: number;
  clipRange?: ScheduleLike;
  /** Clips the value prediction around the rollout's value (null: no value clipping). */
  clipRangeVf?: number | null;
  /** Stops the epoch loop once the approximate KL exceeds 1.5 * targetKl (null: never). */
  targetKl?: number | null;
}

const defaults: Required<Omit<PPOOptions, keyof import('./common/base.js').CommonOptions>> = {
  learningRate: 3e-4, nSteps: 2048, batchSize: 64, nEpochs: 10, gamma: 0.99, gaeLambda: 0.95, clipRange: 0.2,
  clipRangeVf: null, normalizeAdvantage: true, entCoef: 0, vfCoef: 0.5, maxGradNorm: 0.5, targetKl: null, ...sdeDefaults,
};

/** The clipped surrogate loss -mean(min(A r, A clip(r, 1 - c, 1 + c))) with r = exp(logp - oldLogp). */
export function ppoPolicyLoss(logProb: Tensor, oldLogProb: Tensor, advantages: Tensor, clipRange: number): { loss: Tensor; ratio: Tensor } {
  const ratio = logProb.sub(oldLogProb).exp();
  const l1 = advantages.mul(ratio);
  const l2 = advantages.mul(ratio.clamp(1 - clipRange, 1 + clipRange));
  return { loss: minimum(l1, l2).mean().neg(), ratio };
}

export class PPO extends OnPolicyAlgorithm<PPOOptions> {
  readonly algo = 'PPO';
  readonly optimizer: Adam;
  readonly clipRangeSchedule: Schedule;

  constructor(env: EnvArg, options: PPOOptions = {}) {
    super(env, options, defaults);
    const o = this.opts;
    check(Number.isInteger(o.batchSize) && o.batchSize > 1, () => `batchSize: expected an integer > 1, got ${String(o.batchSize)}`);
    check(Number.isInteger(o.nEpochs) && o.nEpochs > 0, () => `nEpochs: expected a positive integer, got ${String(o.nEpochs)}`);
    check(o.clipRangeVf === null || (typeof o.clipRangeVf === 'number' && o.clipRangeVf > 0), () => `clipRangeVf: expected a positive number or null, got ${String(o.clipRangeVf)}`);
    check(o.targetKl === null || (typeof o.targetKl === 'number' && o.targetKl > 0), () => `targetKl: expected a positive number or null, got ${String(o.targetKl)}`);
    check(this.nEnvs * o.nSteps > 1, 'nSteps: a rollout needs more than one step (nSteps * nEnvs > 1) to normalise advantages');
    this.clipRangeSchedule = toSchedule(o.clipRange, 'clipRange');
    // SB3 gives PPO's Adam eps = 1e-5
    this.optimizer = new Adam(this.policy.parameters(), { lr: this.lrSchedule(1), eps: 1e-5 });
  }

  protected override config(): Record<string, unknown> {
    return { ...super.config(), clipRange: scheduleSpec(this.clipRangeSchedule) };
  }

  protected train(): void {
    const o = this.opts, size = this.rolloutBuffer.size;
    const clip = this.clipRangeSchedule(this.progressRemaining);
    this.losses.add('clipRange', clip);
    const perm = new Int32Array(size);
    let keepGoing = true;
    for (let epoch = 0; epoch < o.nEpochs && keepGoing; epoch++) {
      this.rng.permutation(size, perm);
      for (let start = 0; start < size && keepGoing; start += o.batchSize) {
        const mb = this.minibatch(perm.subarray(start, Math.min(start + o.batchSize, size)), o.normalizeAdvantage);
        keepGoing = scope(() => this.trainMinibatch(mb, clip));
      }
    }
  }

  /** One gradient step; false when the approximate KL says to stop. */
  private trainMinibatch(mb: ReturnType<PPO['minibatch']>, clip: number): boolean {
    const o = this.opts, m = mb.m;
    const x = tensor(mb.obs, { shape: [m, this.obsDim] });
    const { values, logProb, entropy } = this.policy.evaluateActions(x, this.policy.actionTensor(mb.actions, m));
    const oldLogProb = tensor(mb.oldLogProb);
    const { loss: policyLoss, ratio } = ppoPolicyLoss(logProb, oldLogProb, tensor(mb.adv), clip);
    let vPred = values;
    if (o.clipRangeVf !== null) {
      const old = tensor(mb.oldValues);
      vPred = old.add(values.sub(old).clamp(-o.clipRangeVf, o.clipRangeVf));
    }
    const valueLoss = mseLoss(vPred, tensor(mb.ret));
    const entropyLoss = entropy.mean().neg();
    const loss = policyLoss.add(entropyLoss.mul(o.entCoef)).add(valueLoss.mul(o.vfCoef));
    // diagnostics as SB3 logs them, from one read of the ratios: clip fraction and the
    // approximate KL mean((r - 1) - log r)
    const r = ratio.detach().toTypedArray();
    let clipped = 0, kl = 0;
    for (let i = 0; i < m; i++) {
      if (Math.abs(r[i] - 1) > clip) clipped++;
      kl += r[i] - 1 - Math.log(r[i]);
    }
    const approxKl = kl / m;
    const [pl, vl, el] = [policyLoss.item(), valueLoss.item(), entropyLoss.item()];
    this.losses.add('policyGradientLoss', pl);
    this.losses.add('valueLoss', vl);
    this.losses.add('entropyLoss', el);
    this.losses.add('clipFraction', clipped / m);
    this.losses.add('approxKl', approxKl);
    if (o.targetKl !== null && approxKl > 1.5 * o.targetKl) return false;
    this.losses.add('loss', pl + o.entCoef * el + o.vfCoef * vl);
    this.step(loss);
    return true;
  }
}
