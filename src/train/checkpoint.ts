/**
 * Training checkpoints: model, optimizer and scheduler state, the epoch, the history and the
 * random generator's state, in one safetensors file written atomically (src/io). Loading one
 * and training on continues exactly as the uninterrupted run would (fit shuffles by epoch
 * number, so the data order needs no state of its own).
 */
import { KilnError, check } from '../errors.js';
import { load, save } from '../io/index.js';
import { scope } from '../memory.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import { type RngState, getRngState, setRngState } from '../random.js';
import { Tensor } from '../tensor.js';
import type { EpochRecord } from './callbacks.js';

export interface Stateful {
  stateDict(): any;
  loadStateDict(sd: any): unknown;
}

export interface CheckpointParts {
  model: Module;
  optimizer?: Optimizer<any> | null;
  scheduler?: Stateful | null;
}

export interface CheckpointInfo {
  /** The last epoch completed before the checkpoint was written (1-based). */
  epoch: number;
  history: EpochRecord[];
}

const FORMAT = 'kiln-checkpoint-1';

export async function saveCheckpoint(path: string, parts: CheckpointParts, info: CheckpointInfo): Promise<void> {
  check(typeof path === 'string' && path.length > 0, 'path: expected a file path');
  check(Number.isInteger(info?.epoch) && info.epoch >= 0, () => `info.epoch: expected an integer >= 0, got ${info?.epoch}`);
  // scope: the state dicts' tensor handles (views and copies) are freed once written
  await scope(() => save({
    format: FORMAT,
    model: parts.model.stateDict(),
    optimizer: parts.optimizer ? parts.optimizer.stateDict() : null,
    scheduler: parts.scheduler ? parts.scheduler.stateDict() : null,
    epoch: info.epoch,
    history: info.history ?? [],
    rng: getRngState(),
  }, path, { metadata: { 'kiln.kind': 'checkpoint' } }));
}

function disposeTree(v: unknown): void {
  if (v instanceof Tensor) {
    if (!v.isDisposed) v.dispose();
  } else if (Array.isArray(v)) v.forEach(disposeTree);
  else if (v !== null && typeof v === 'object') Object.values(v).forEach(disposeTree);
}

/** Restores the parts in place (and the random generator); returns the epoch and history. */
export async function loadCheckpoint(path: string, parts: CheckpointParts): Promise<CheckpointInfo> {
  const ck = await load(path);
  try {
    if (ck === null || typeof ck !== 'object' || ck.format !== FORMAT) {
      throw new KilnError(`checkpoint: ${path} is not a Kiln training checkpoint (saveCheckpoint writes those)`);
    }
    // scope: frees intermediates the loaders may leave behind (their own state is keep()-ed)
    scope(() => {
      parts.model.loadStateDict(ck.model);
      if (parts.optimizer) {
        check(ck.optimizer, () => `checkpoint: ${path} holds no optimizer state`);
        parts.optimizer.loadStateDict(ck.optimizer);
      }
      if (parts.scheduler) {
        check(ck.scheduler, () => `checkpoint: ${path} holds no scheduler state`);
        parts.scheduler.loadStateDict(ck.scheduler);
      }
    });
    setRngState(ck.rng as RngState);
    return { epoch: ck.epoch, history: ck.history ?? [] };
  } finally {
    disposeTree(ck); // the model and optimizer copied what they needed
  }
}
