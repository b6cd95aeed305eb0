/** The training log: every finished episode, and one record per iteration with losses and speed. */

export interface EpisodeRecord {
  /** Environment steps taken (all envs) when the episode ended. */
  timesteps: number;
  /** Sum of the environment's own rewards (before any VecNormalize scaling). */
  return: number;
  length: number;
  env: number;
}

export interface LogRecord {
  timesteps: number;
  episodes: number;
  /** Mean return and length of the last 100 finished episodes (NaN before the first). */
  episodeReturnMean: number;
  episodeLengthMean: number;
  /** Environment steps per second since learn() began (whole loop: acting, stepping, training). */
  fps: number;
  seconds: number;
  /** Mean losses and diagnostics of the iteration's gradient steps (names as SB3's logger). */
  losses: Record<string, number>;
  learningRate?: number;
  explorationRate?: number;
}

export interface TrainingLog {
  episodes: EpisodeRecord[];
  records: LogRecord[];
}

/** Per-env running returns; ends episodes on terminated or truncated. */
export class EpisodeTracker {
  private readonly ret: Float64Array;
  private readonly len: Int32Array;
  constructor(readonly nEnvs: number, readonly log: TrainingLog, readonly window = 100) {
    this.ret = new Float64Array(nEnvs);
    this.len = new Int32Array(nEnvs);
  }
  /** Adds one vector step; returns the episodes that ended in it. */
  step(rewards: ArrayLike<number>, terminated: boolean[], truncated: boolean[], timesteps: number): EpisodeRecord[] {
    const ended: EpisodeRecord[] = [];
    for (let e = 0; e < this.nEnvs; e++) {
      this.ret[e] += rewards[e];
      this.len[e]++;
      if (terminated[e] || truncated[e]) {
        const rec = { timesteps, return: this.ret[e], length: this.len[e], env: e };
        this.log.episodes.push(rec);
        ended.push(rec);
        this.ret[e] = 0;
        this.len[e] = 0;
      }
    }
    return ended;
  }
  recentMeans(): [number, number] {
    const eps = this.log.episodes;
    const last = eps.slice(Math.max(0, eps.length - this.window));
    if (last.length === 0) return [NaN, NaN];
    return [last.reduce((a, e) => a + e.return, 0) / last.length, last.reduce((a, e) => a + e.length, 0) / last.length];
  }
}

/** Running means of named scalars over one iteration. */
export class LossMeter {
  private sums = new Map<string, [number, number]>();
  add(name: string, v: number): void {
    const s = this.sums.get(name);
    if (s) {
      s[0] += v;
      s[1]++;
    } else this.sums.set(name, [v, 1]);
  }
  means(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, [s, n]] of this.sums) out[k] = s / n;
    return out;
  }
  reset(): void {
    this.sums.clear();
  }
}
