/**
 * HyperbandPruner (Li et al. 2018) over ASHA: brackets s = 0..S-1 with
 * S = floor(log_eta(maxResource / minResource)) + 1; bracket s is successive halving with
 * minEarlyStoppingRate s, and gets a share ceil(S eta^(S-1-s) / (S-s)) of the trials. A trial's
 * bracket is crc32('<studyName>_<number>') modulo the total share, so every process agrees on it;
 * a trial competes only with trials of its own bracket.
 */
import { check } from '../../errors.js';
import { type FrozenTrial, lastStep } from '../types.js';
import { type Pruner, type PrunerSpec, type PrunerStudyView, checkIntOption } from './pruner.js';
import { SuccessiveHalvingPruner } from './successive-halving.js';

export interface HyperbandOptions {
  /** Default 1. */
  minResource?: number;
  /** The steps of a full trial; 'auto': the last step + 1 of the first complete trials. Default 'auto'. */
  maxResource?: number | 'auto';
  /** Default 3. */
  reductionFactor?: number;
  bootstrapCount?: number;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(s: string): number {
  let c = 0xffffffff;
  for (const b of Buffer.from(s, 'utf8')) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export class HyperbandPruner implements Pruner {
  private readonly opts: HyperbandOptions;
  readonly minResource: number;
  private maxResource: number | null;
  readonly reductionFactor: number;
  private readonly bootstrapCount: number;
  private pruners: SuccessiveHalvingPruner[] = [];
  private budgets: number[] = [];

  constructor(opts: HyperbandOptions = {}) {
    this.minResource = checkIntOption(opts.minResource, 1, 1, 'HyperbandPruner', 'minResource');
    const mx = opts.maxResource ?? 'auto';
    check(mx === 'auto' || (Number.isInteger(mx) && mx >= this.minResource),
      () => `HyperbandPruner: maxResource must be 'auto' or an integer >= minResource, got ${String(opts.maxResource)}`);
    this.maxResource = mx === 'auto' ? null : mx;
    this.reductionFactor = checkIntOption(opts.reductionFactor, 3, 2, 'HyperbandPruner', 'reductionFactor');
    this.bootstrapCount = checkIntOption(opts.bootstrapCount, 0, 0, 'HyperbandPruner', 'bootstrapCount');
    this.opts = { ...opts };
  }

  get nBrackets(): number { return this.pruners.length; }

  private init(study: PrunerStudyView): boolean {
    if (this.pruners.length > 0) return true;
    if (this.maxResource === null) {
      let longest: number | undefined;
      for (const t of study.getTrials(['COMPLETE'])) {
        const s = lastStep(t);
        if (s !== undefined && (longest === undefined || s > longest)) longest = s;
      }
      if (longest === undefined) return false;
      this.maxResource = longest + 1;
    }
    const eta = this.reductionFactor;
    // the epsilon keeps an exact power (e.g. log_3 27) from rounding down
    const S = Math.floor(Math.log(this.maxResource / this.minResource) / Math.log(eta) + 1e-9) + 1;
    for (let s = 0; s < S; s++) {
      const r = S - 1 - s;
      this.budgets.push(Math.ceil((S * eta ** r) / (r + 1)));
      const p = new SuccessiveHalvingPruner({ minResource: this.minResource, reductionFactor: eta, minEarlyStoppingRate: s, bootstrapCount: this.bootstrapCount });
      this.pruners.push(p);
    }
    return true;
  }

  /** The bracket of trial `number` (0 before the brackets are known). */
  bracketOf(studyName: string, number: number): number {
    if (this.budgets.length === 0) return 0;
    const total = this.budgets.reduce((a, b) => a + b, 0);
    let n = crc32(`${studyName}_${number}`) % total;
    for (let b = 0; b < this.budgets.length; b++) {
      n -= this.budgets[b];
      if (n < 0) return b;
    }
    return this.budgets.length - 1;
  }

  prune(study: PrunerStudyView, trial: FrozenTrial): boolean {
    if (!this.init(study)) return false;
    const b = this.bracketOf(study.studyName, trial.number);
    const sha = this.pruners[b];
    sha.competitorFilter = (t) => this.bracketOf(study.studyName, t.number) === b;
    return sha.prune(study, trial);
  }

  spec(): PrunerSpec { return { kind: 'HyperbandPruner', options: { ...this.opts } }; }
}
