/**
 * PipelineStage: one stage of a pipeline, on this rank. Stage s runs on rank s of its group (the
 * default group, or a pipeline group of a 2-D layout) and exchanges with its neighbours:
 * activations go forward with send/recv, preceded by a small shape header (the receiver allocates
 * from it, so stages need no shape inference), and their gradients come back. The schedules
 * (schedule.ts) decide the order of microbatches.
 */
import { KilnError, check } from '../../errors.js';
import type { Module } from '../../nn/module.js';
import { Tensor } from '../../tensor.js';
import { tensor, zeros } from '../../creation.js';
import { type ProcessGroup, resolveGroup } from '../group.js';
import { recv, send } from '../collectives.js';

export interface PipelineStageOptions {
  stageIndex: number;
  numStages: number;
  /** The group whose ranks 0..numStages-1 run the stages (default: the whole job). */
  group?: ProcessGroup;
}

const MAX_DIMS = 8;

export class PipelineStage {
  readonly module: Module;
  readonly stageIndex: number;
  readonly numStages: number;
  readonly group: ProcessGroup;

  constructor(module: Module, options: PipelineStageOptions) {
    check(module !== null && typeof (module as Module).forward === 'function', 'module: expected an nn.Module');
    check(options !== null && typeof options === 'object', 'options: expected { stageIndex, numStages }');
    const { stageIndex, numStages } = options;
    check(Number.isInteger(numStages) && numStages >= 1, () => `numStages: expected a positive integer, got ${String(numStages)}`);
    check(Number.isInteger(stageIndex) && stageIndex >= 0 && stageIndex < numStages,
      () => `stageIndex: expected an integer in [0, ${numStages}), got ${String(stageIndex)}`);
    this.group = resolveGroup(options.group, 'PipelineStage');
    check(this.group.size === numStages,
      () => `numStages: the group has ${this.group.size} ranks, one per stage, but numStages is ${numStages}`);
    check(this.group.rank === stageIndex,
      () => `stageIndex: this process is rank ${this.group.rank} of the group, so it runs stage ${this.group.rank}, not ${stageIndex}`);
    this.module = module;
    this.stageIndex = stageIndex;
    this.numStages = numStages;
  }

  get isFirst(): boolean {
    return this.stageIndex === 0;
  }
  get isLast(): boolean {
    return this.stageIndex === this.numStages - 1;
  }
  private peer(stage: number): number {
    return this.group.ranks[stage];
  }

  /** @internal sends an activation (shape header, then data) to the next stage. */
  sendActivation(y: Tensor, tag: number): Promise<void> {
    check(y instanceof Tensor && y.dtype === 'float32', 'stage output: expected a float32 Tensor (pipelines pass one tensor between stages)');
    check(y.ndim <= MAX_DIMS, () => `stage output: at most ${MAX_DIMS} dims, got ${y.ndim}`);
    const h = new Int32Array(1 + MAX_DIMS);
    h[0] = y.ndim;
    y.shape.forEach((d, i) => (h[1 + i] = d));
    const header = tensor(h, { dtype: 'int32' });
    const data = y.detach().contiguous();
    const next = this.peer(this.stageIndex + 1);
    const p = Promise.all([send(header, next, { tag, group: this.group }), send(data, next, { tag: tag + 1, group: this.group })]);
    return p.then(() => undefined).finally(() => {
      header.dispose();
      data.dispose();
    });
  }

  /** @internal receives the previous stage's activation, as a leaf that requires grad. */
  async recvActivation(tag: number): Promise<Tensor> {
    const prev = this.peer(this.stageIndex - 1);
    const header = zeros([1 + MAX_DIMS], { dtype: 'int32' });
    try {
      await recv(header, prev, { tag, group: this.group });
      const h = header.toTypedArray();
      if (h[0] < 0 || h[0] > MAX_DIMS) throw new KilnError(`pipeline: malformed activation header from stage ${this.stageIndex - 1}`);
      const x = zeros(Array.from(h.subarray(1, 1 + h[0])));
      await recv(x, prev, { tag: tag + 1, group: this.group });
      return x.requiresGrad_(true);
    } finally {
      header.dispose();
    }
  }

  /** @internal sends the gradient of this stage's input back to the previous stage. */
  sendGradient(dx: Tensor, tag: number): Promise<void> {
    return send(dx, this.peer(this.stageIndex - 1), { tag, group: this.group });
  }

  /** @internal receives the gradient of this stage's output (shape of what it sent). */
  async recvGradient(like: Tensor, tag: number): Promise<Tensor> {
    const dy = zeros([...like.shape]);
    await recv(dy, this.peer(this.stageIndex + 1), { tag, group: this.group });
    return dy;
  }
}
