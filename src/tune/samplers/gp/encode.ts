/**
 * The GP's input space: every numeric parameter warped to [0, 1] (log first when log-scaled;
 * discrete ones widened by half a step so each value owns an equal cell), every categorical
 * kept as its choice index (the kernel compares those by equality).
 */
import type { Distribution } from '../../distributions.js';

export class UnitCube {
  readonly names: string[];
  readonly dists: Distribution[];
  readonly d: number;
  /** 0 for continuous dimensions, else the number of choices of a categorical. */
  readonly nChoices: Int32Array;
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;

  constructor(space: Record<string, Distribution>) {
    this.names = Object.keys(space);
    this.dists = this.names.map((n) => space[n]);
    this.d = this.names.length;
    this.nChoices = new Int32Array(this.d);
    this.lo = new Float64Array(this.d);
    this.hi = new Float64Array(this.d);
    this.dists.forEach((dist, j) => {
      if (dist.kind === 'categorical') { this.nChoices[j] = dist.choices.length; return; }
      const half = dist.kind === 'int' ? dist.step / 2 : dist.step !== null ? dist.step / 2 : 0;
      const lo = dist.low - half, hi = dist.high + half;
      this.lo[j] = dist.log ? Math.log(lo) : lo;
      this.hi[j] = dist.log ? Math.log(hi) : hi;
    });
  }

  get hasCategorical(): boolean { return this.nChoices.some((k) => k > 0); }

  /** Internal values (floats/ints as themselves, categoricals as indices) -> model coordinates. */
  encode(internal: ArrayLike<number>, out: Float64Array, offset = 0): void {
    for (let j = 0; j < this.d; j++) {
      const dist = this.dists[j];
      if (dist.kind === 'categorical') { out[offset + j] = internal[j]; continue; }
      const x = dist.log ? Math.log(internal[j]) : internal[j];
      out[offset + j] = this.hi[j] > this.lo[j] ? (x - this.lo[j]) / (this.hi[j] - this.lo[j]) : 0.5;
    }
  }

  /** Model coordinates -> internal values, snapped to the parameter's grid and range. */
  decode(u: ArrayLike<number>): number[] {
    return this.dists.map((dist, j) => {
      if (dist.kind === 'categorical') return Math.round(u[j]);
      const t = this.lo[j] + Math.min(1, Math.max(0, u[j])) * (this.hi[j] - this.lo[j]);
      let x = dist.log ? Math.exp(t) : t;
      const step = dist.kind === 'int' ? dist.step : dist.step;
      if (step !== null) x = dist.low + Math.round((x - dist.low) / step) * step;
      if (dist.kind === 'int') x = Math.round(x);
      return Math.min(dist.high, Math.max(dist.low, x));
    });
  }
}
