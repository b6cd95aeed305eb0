/**
 * Training checkpoints: model, optimizer and scheduler state, the epoch, the history and the
 * random generator's state, in one safetensors file written atomically (src/io). Loading one
 * and training on continues exactly as the uninterrupted run would.
 */
import { KilnError, check } from '../errors.js';
import { load, save } from '../io/index.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import { type RngState, getRngState, setRngState } from '../random.js';
import type { EpochRecord } from './fit.js';

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
  epoch: number;
  history: EpochRecord[];
}

const FORMAT = 'kiln-checkpoint-1';

export async function saveCheckpoint(path: string, parts: CheckpointParts, info: CheckpointInfo): Promise<void> {
  await save({
    format: FORMAT,
    model: parts.model.stateDict(),
    optimizer: parts.optimizer ? parts.optimizer.stateDict() : null,
    scheduler: parts.scheduler ? parts.scheduler.stateDict() : null,
    epoch: info.epoch,
    history: info.history,
    rng: getRngState(),
  }, path, { metadata: { 'kiln.kind': 'checkpoint' } });
}

/** Restores the parts in place (and the random generator); returns the epoch and history. */
export async function loadCheckpoint(path: string, parts: CheckpointParts): Promise<CheckpointInfo> {
  const ck = await load(path);
  if (ck === null || typeof ck !== 'object' || ck.format !== FORMAT) {
    throw new KilnError(`checkpoint: ${path} is not a Kiln training checkpoint (saveCheckpoint writes those)`);
  }
  parts.model.loadStateDict(ck.model);
  if (parts.optimizer) {
    check(ck.optimizer, () => `checkpoint: ${path} holds no optimizer state`);
    parts.optimizer.loadStateDict(ck.optimizer);
  }
  if (parts.scheduler && ck.scheduler) parts.scheduler.loadStateDict(ck.scheduler);
  setRngState(ck.rng as RngState);
  return { epoch: ck.epoch, history: ck.history ?? [] };
}
