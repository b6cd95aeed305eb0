/**
 * Pipeline schedules, as torch.distributed.pipelining's: a batch is cut into microbatches along
 * dim 0, and every stage runs each microbatch's forward and backward in the schedule's order.
 *
 *   GPipe: all forwards, then all backwards (activations of every microbatch are alive at once).
 *   1F1B:  stage s runs numStages - 1 - s forwards ahead, then alternates one forward and one
 *          backward, then drains the backwards (at most numStages microbatches alive).
 *
 * The loss of microbatch m is lossFn(output_m, target_m); each is scaled by 1 / microbatches
 * before its backward, so with equal microbatches the gradients are those of the whole batch's
 * mean loss (the unsplit model's). Gradients accumulate into the stage's parameters' .grad.
 * Transfers are non-blocking, so no order of sends and receives can deadlock.
 *
 *   stage 0:    await schedule.step(x)
 *   last stage: const out = await schedule.step(undefined, { target: y, losses })
 */
import { KilnError, check } from '../../errors.js';
import { cat } from '../../ops/shape.js';
import { full } from '../../creation.js';
import { scope, keep } from '../../memory.js';
import { Tensor } from '../../tensor.js';
import type { PipelineStage } from './stage.js';

export type LossFn = (output: Tensor, target: Tensor) => Tensor;

export interface ScheduleOptions {
  microbatches: number;
  /** Required on the last stage. */
  lossFn?: LossFn;
}

export interface StepOptions {
  /** The whole batch's targets (last stage). */
  target?: Tensor;
  /** Receives each microbatch's loss (last stage). */
  losses?: number[];
}

/** What one microbatch keeps between its forward and its backward. */
interface Live {
  input: Tensor | null; // the received activation (stages after the first)
  output: Tensor; // the stage's output, or the loss on the last stage
  sent: Promise<void> | null;
}

abstract class PipelineSchedule {
  readonly stage: PipelineStage;
  readonly microbatches: number;
  readonly lossFn: LossFn | undefined;
  private steps = 0;

  constructor(stage: PipelineStage, options: ScheduleOptions) {
    check(stage !== null && typeof stage === 'object' && typeof stage.recvActivation === 'function', 'stage: expected a PipelineStage');
    check(options !== null && typeof options === 'object', 'options: expected { microbatches, lossFn }');
    check(Number.isInteger(options.microbatches) && options.microbatches >= 1,
      () => `microbatches: expected a positive integer, got ${String(options.microbatches)}`);
    check(options.lossFn === undefined || typeof options.lossFn === 'function', 'lossFn: expected a function (output, target) => Tensor');
    check(!stage.isLast || options.lossFn !== undefined, 'lossFn: the last stage needs a loss function');
    this.stage = stage;
    this.microbatches = options.microbatches;
    this.lossFn = options.lossFn;
  }

  /** The order of this stage's work: ['F', m] forwards and ['B', m] backwards. */
  protected abstract order(): ['F' | 'B', number][];

  /**
   * Runs one batch through the pipeline: `input` on the first stage, `options.target` on the
   * last. Resolves (on the last stage) with the whole batch's output, detached; call it on every
   * stage for every batch. Gradients accumulate: zero them between steps as usual.
   */
  async step(input?: Tensor, options: StepOptions = {}): Promise<Tensor | undefined> {
    const st = this.stage;
    const M = this.microbatches;
    const chunks = (t: Tensor, name: string): Tensor[] => {
      check(t instanceof Tensor, () => `${name}: expected a Tensor on stage ${st.stageIndex}`);
      check(t.ndim >= 1 && t.shape[0] >= M, () => `${name}: expected at least ${M} rows (one per microbatch), got shape [${t.shape.join(', ')}]`);
      const out: Tensor[] = [];
      const base = Math.floor(t.shape[0] / M);
      const extra = t.shape[0] % M;
      for (let m = 0, start = 0; m < M; m++) {
        const len = base + (m < extra ? 1 : 0);
        out.push(t.narrow(0, start, len));
        start += len;
      }
      return out;
    };
    const stepTag = (this.steps++ & 0x3fff) * 8192;
    const tag = (m: number, kind: number) => stepTag + m * 4 + kind; // 0, 1: activation header and data; 2: gradient
    check(M * 4 < 8192, 'microbatches: at most 2047');
    return scope(async () => {
      const xs = st.isFirst ? chunks(input as Tensor, 'input') : null;
      const ys = st.isLast ? chunks(options.target as Tensor, 'target') : null;
      const live = new Map<number, Live>();
      const pending: Promise<void>[] = [];
      const outputs: Tensor[] = [];
      const forward = async (m: number) => {
        const x = st.isFirst ? xs![m] : await st.recvActivation(tag(m, 0));
        const y = st.module.forward(x) as Tensor;
        check(y instanceof Tensor, () => `stage ${st.stageIndex}: its module's forward must return one Tensor`);
        if (st.isLast) {
          const loss = this.lossFn!(y, ys![m]);
          check(loss instanceof Tensor && loss.numel === 1, 'lossFn: expected a scalar loss');
          options.losses?.push(loss.item());
          outputs.push(y.detach());
          live.set(m, { input: st.isFirst ? null : x, output: loss, sent: null });
        } else {
          const sent = st.sendActivation(y, tag(m, 0));
          pending.push(sent);
          live.set(m, { input: st.isFirst ? null : x, output: y, sent });
        }
      };
      const backward = async (m: number) => {
        const l = live.get(m)!;
        live.delete(m);
        if (st.isLast) {
          l.output.backward(full([...l.output.shape], 1 / M));
        } else {
          const dy = await st.recvGradient(l.output, tag(m, 2));
          if (l.output.requiresGrad) l.output.backward(dy);
        }
        if (l.input !== null) {
          // an input that did not reach any parameter has no gradient: send zeros
          const dx = l.input.grad ?? full([...l.input.shape], 0);
          l.input.grad = null;
          pending.push(st.sendGradient(dx, tag(m, 2)).finally(() => dx.dispose()));
        }
      };
      try {
        for (const [kind, m] of this.order()) {
          if (kind === 'F') await forward(m);
          else await backward(m);
        }
      } catch (e) {
        for (const p of pending) p.catch(() => {}); // the first error is the one to report
        throw e;
      }
      if (live.size !== 0) throw new KilnError('pipeline: the schedule left microbatches without a backward');
      await Promise.all(pending);
      return st.isLast ? keep(cat(outputs, 0)) : undefined;
    });
  }
}

/** GPipe: every forward, then every backward. */
export class ScheduleGPipe extends PipelineSchedule {
  protected order(): ['F' | 'B', number][] {
    const out: ['F' | 'B', number][] = [];
    for (let m = 0; m < this.microbatches; m++) out.push(['F', m]);
    for (let m = 0; m < this.microbatches; m++) out.push(['B', m]);
    return out;
  }
}

/** 1F1B: a warm-up of forwards, then one forward and one backward in turn, then the backwards left. */
export class Schedule1F1B extends PipelineSchedule {
  protected order(): ['F' | 'B', number][] {
    const M = this.microbatches;
    const warmup = Math.min(this.stage.numStages - 1 - this.stage.stageIndex, M);
    const out: ['F' | 'B', number][] = [];
    let f = 0;
    let b = 0;
    while (f < warmup) out.push(['F', f++]);
    while (f < M) {
      out.push(['F', f++]);
      out.push(['B', b++]);
    }
    while (b < M) out.push(['B', b++]);
    return out;
  }
}
