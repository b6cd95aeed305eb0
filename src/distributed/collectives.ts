/**
 * Collectives and point-to-point transfers on tensors, as torch.distributed's, each returning a
 * Promise (PyTorch's async_op=True). Work runs on the group's communication thread in call order,
 * on the tensor's own memory (no copy): a tensor handed to a collective must stay unmodified
 * until its Promise settles. Kiln keeps the tensor's storage alive until then, even if it is
 * disposed meanwhile. Bad arguments throw a KilnError at once; a failed or timed-out operation
 * rejects with one (and leaves its group unusable, as a dead peer leaves the job).
 *
 * Ranks (src, dst) are global ranks, as in PyTorch, also for sub-groups.
 */
import { KilnError, check, shapeStr } from '../errors.js';
import { native } from '../native.js';
import { deviceId } from '../device.js';
import { Tensor } from '../tensor.js';
import { empty } from '../ops/util.js';
import { type ProcessGroup, resolveGroup } from './group.js';
import { distAddon } from './native.js';

export type ReduceOpName = 'sum' | 'avg' | 'max' | 'min';
/** Reduction names, as torch.distributed.ReduceOp. */
export const ReduceOp = { SUM: 'sum', AVG: 'avg', MAX: 'max', MIN: 'min' } as const;
const OP_CODE: Record<ReduceOpName, number> = { sum: 0, avg: 1, max: 2, min: 3 };

export interface GroupOption {
  group?: ProcessGroup;
}
export interface ReduceOptions extends GroupOption {
  /** Default 'sum'. 'avg' needs float32 tensors. */
  op?: ReduceOpName;
}
export interface P2POptions extends GroupOption {
  /** Tells apart transfers between the same two ranks: a recv takes the send with its tag. Default 0. */
  tag?: number;
}

function opCode(op: unknown, t: Tensor): number {
  const code = OP_CODE[op as ReduceOpName];
  check(code !== undefined, () => `op: expected 'sum', 'avg', 'max' or 'min', got ${JSON.stringify(op)}`);
  check(op !== 'avg' || t.dtype === 'float32', "op: 'avg' needs a float32 tensor");
  return code;
}

function checkTensor(t: unknown, name: string, g: ProcessGroup, what: string): asserts t is Tensor {
  check(t instanceof Tensor, () => `${name}: expected a Tensor in ${what}`);
  t._checkAlive(`${name} in ${what}`);
  check(t.isContiguous(), () => `${name}: expected a contiguous tensor in ${what} (call .contiguous() first)`);
  if (g.backend === 'nccl') {
    check(t.device === g.device, () => `${name}: expected a tensor on ${g.device} (this NCCL group's device), got ${t.device}`);
  } else {
    check(t.device === 'cpu', () => `${name}: expected a CPU tensor (a ${g.backend} group works on host memory), got ${t.device}`);
  }
}

function sameKind(a: Tensor, b: Tensor, name: string, what: string): void {
  check(a.dtype === b.dtype, () => `${name}: expected dtype ${b.dtype} in ${what}, got ${a.dtype}`);
}

function view(t: Tensor): unknown {
  return native.storageView(t.storage.handle, t.offset, t.numel);
}

function overlaps(a: Tensor, b: Tensor): boolean {
  return a.storage === b.storage && a.offset < b.offset + b.numel && b.offset < a.offset + a.numel;
}

/**
 * Runs one native operation: its tensors' storages stay alive until it settles, and a failure
 * marks the group. NCCL reads device memory from its own stream: the device is synchronised first.
 */
function run(g: ProcessGroup, tensors: Tensor[], submit: () => Promise<void>): Promise<void> {
  if (g.backend === 'nccl') native.synchronize(deviceId(g.device));
  for (const t of tensors) t.storage.retain();
  const release = () => {
    for (const t of tensors) t.storage.release();
  };
  let p: Promise<void>;
  try {
    p = submit();
  } catch (e) {
    release();
    throw e;
  }
  return p.then(release, (e) => {
    release();
    g.failed = true;
    throw e;
  });
}

/** Reduces `tensor` across the group's ranks, in place on every rank. */
export function allReduce(tensor: Tensor, options: ReduceOptions = {}): Promise<void> {
  const g = resolveGroup(options.group, 'allReduce');
  const id = g.use('allReduce');
  checkTensor(tensor, 'tensor', g, 'allReduce');
  const op = opCode(options.op ?? 'sum', tensor);
  return run(g, [tensor], () => distAddon().allReduce(id, view(tensor), op));
}

/** Copies `tensor` of rank `src` (a global rank) into `tensor` of every rank. */
export function broadcast(tensor: Tensor, src: number, options: GroupOption = {}): Promise<void> {
  const g = resolveGroup(options.group, 'broadcast');
  const id = g.use('broadcast');
  checkTensor(tensor, 'tensor', g, 'broadcast');
  const root = g.groupRankOf(src, 'src');
  return run(g, [tensor], () => distAddon().broadcast(id, view(tensor), root));
}

/** output (size x input's elements, rank r's input at r) on every rank. */
export function allGatherIntoTensor(output: Tensor, input: Tensor, options: GroupOption = {}): Promise<void> {
  const g = resolveGroup(options.group, 'allGatherIntoTensor');
  const id = g.use('allGatherIntoTensor');
  checkTensor(output, 'output', g, 'allGatherIntoTensor');
  checkTensor(input, 'input', g, 'allGatherIntoTensor');
  sameKind(output, input, 'output', 'allGatherIntoTensor');
  check(output.numel === input.numel * g.size,
    () => `output: expected ${g.size} x ${input.numel} elements in allGatherIntoTensor, got ${shapeStr(output.shape)}`);
  check(!overlaps(output, input), 'output: must not share memory with the input in allGatherIntoTensor');
  return run(g, [output, input], () => distAddon().allGather(id, view(input), view(output), g.size));
}

/** Every rank's `tensor` into `tensorList` (one tensor per rank, each of tensor's shape). */
export function allGather(tensorList: Tensor[], tensor: Tensor, options: GroupOption = {}): Promise<void> {
  const g = resolveGroup(options.group, 'allGather');
  g.use('allGather');
  checkTensor(tensor, 'tensor', g, 'allGather');
  check(Array.isArray(tensorList) && tensorList.length === g.size,
    () => `tensorList: expected an array of ${g.size} tensors (one per rank) in allGather`);
  tensorList.forEach((t, i) => {
    checkTensor(t, `tensorList[${i}]`, g, 'allGather');
    sameKind(t, tensor, `tensorList[${i}]`, 'allGather');
    check(t.numel === tensor.numel, () => `tensorList[${i}]: expected shape ${shapeStr(tensor.shape)} in allGather, got ${shapeStr(t.shape)}`);
  });
  const flat = empty([g.size * tensor.numel], tensor.dtype, tensor.device);
  const n = tensor.numel;
  return allGatherIntoTensor(flat, tensor, options).then(
    () => {
      tensorList.forEach((t, i) => native.copy(t.storage.handle, t.offset, flat.storage.handle, i * n, n));
      flat.dispose();
    },
    (e) => {
      flat.dispose();
      throw e;
    },
  );
}

/** output = the reduction over ranks of chunk r of every rank's input (size x output's elements). */
export function reduceScatterTensor(output: Tensor, input: Tensor, options: ReduceOptions = {}): Promise<void> {
  const g = resolveGroup(options.group, 'reduceScatterTensor');
  const id = g.use('reduceScatterTensor');
  checkTensor(output, 'output', g, 'reduceScatterTensor');
  checkTensor(input, 'input', g, 'reduceScatterTensor');
  sameKind(output, input, 'output', 'reduceScatterTensor');
  check(input.numel === output.numel * g.size,
    () => `input: expected ${g.size} x ${output.numel} elements in reduceScatterTensor, got ${shapeStr(input.shape)}`);
  check(!overlaps(output, input), 'output: must not share memory with the input in reduceScatterTensor');
  const op = opCode(options.op ?? 'sum', output);
  return run(g, [output, input], () => distAddon().reduceScatter(id, view(input), view(output), op, g.size));
}

/** output = the reduction over ranks of inputList[r] (one tensor per rank, each of output's shape). */
export function reduceScatter(output: Tensor, inputList: Tensor[], options: ReduceOptions = {}): Promise<void> {
  const g = resolveGroup(options.group, 'reduceScatter');
  g.use('reduceScatter');
  checkTensor(output, 'output', g, 'reduceScatter');
  check(Array.isArray(inputList) && inputList.length === g.size,
    () => `inputList: expected an array of ${g.size} tensors (one per rank) in reduceScatter`);
  const n = output.numel;
  inputList.forEach((t, i) => {
    checkTensor(t, `inputList[${i}]`, g, 'reduceScatter');
    sameKind(t, output, `inputList[${i}]`, 'reduceScatter');
    check(t.numel === n, () => `inputList[${i}]: expected shape ${shapeStr(output.shape)} in reduceScatter, got ${shapeStr(t.shape)}`);
  });
  const flat = empty([g.size * n], output.dtype, output.device);
  inputList.forEach((t, i) => native.copy(flat.storage.handle, i * n, t.storage.handle, t.offset, n));
  const done = () => flat.dispose();
  return reduceScatterTensor(output, flat, options).then(done, (e) => {
    done();
    throw e;
  });
}

/** Resolves once every rank of the group has called it. */
export function barrier(options: GroupOption = {}): Promise<void> {
  const g = resolveGroup(options.group, 'barrier');
  const id = g.use('barrier');
  return run(g, [], () => distAddon().barrier(id));
}

function p2p(kind: 'send' | 'recv', tensor: Tensor, peer: number, options: P2POptions): Promise<void> {
  const g = resolveGroup(options.group, kind);
  const id = g.use(kind);
  checkTensor(tensor, 'tensor', g, kind);
  const name = kind === 'send' ? 'dst' : 'src';
  const r = g.groupRankOf(peer, name);
  check(r !== g.rank, () => `${name}: a rank cannot ${kind === 'send' ? 'send to' : 'receive from'} itself (rank ${peer})`);
  const tag = options.tag ?? 0;
  check(Number.isInteger(tag) && tag >= 0 && tag < 2 ** 31, () => `tag: expected an integer in [0, 2^31), got ${String(tag)}`);
  const addon = distAddon();
  return run(g, [tensor], () => (kind === 'send' ? addon.send(id, view(tensor), r, tag) : addon.recv(id, view(tensor), r, tag)));
}

/**
 * Sends `tensor` to rank `dst`. Non-blocking: the Promise settles when the transfer is done, and
 * sends and receives posted meanwhile proceed independently (a pipeline schedule cannot deadlock
 * on their order). The receiver's tensor must have the same number of elements.
 */
export function send(tensor: Tensor, dst: number, options: P2POptions = {}): Promise<void> {
  return p2p('send', tensor, dst, options);
}

/** Receives into `tensor` the send of rank `src` with the same tag. Non-blocking, as send. */
export function recv(tensor: Tensor, src: number, options: P2POptions = {}): Promise<void> {
  return p2p('recv', tensor, src, options);
}

/** PyTorch's names for the non-blocking forms (here every transfer is non-blocking). */
export const isend = send;
export const irecv = recv;

/**
 * @internal for DDP: queue an all-reduce / broadcast with no Promise. The caller blocks in
 * waitAll before the tensor may change or go, so nothing is retained past it (a synchronous
 * training loop would otherwise hold every step's storages until the event loop next turns).
 */
export function allReduceDetached(tensor: Tensor, op: ReduceOpName, group: ProcessGroup, what: string): void {
  const id = group.use(what);
  checkTensor(tensor, 'tensor', group, what);
  if (group.backend === 'nccl') native.synchronize(deviceId(group.device));
  distAddon().allReduce(id, view(tensor), opCode(op, tensor), true);
}
export function broadcastDetached(tensor: Tensor, src: number, group: ProcessGroup, what: string): void {
  const id = group.use(what);
  checkTensor(tensor, 'tensor', group, what);
  if (group.backend === 'nccl') native.synchronize(deviceId(group.device));
  distAddon().broadcast(id, view(tensor), group.groupRankOf(src, 'src'), true);
}

/** @internal for DDP: blocks until the group's queued work is done (throws its error). */
export function waitAll(group: ProcessGroup, what: string): void {
  const id = group.use(what);
  try {
    distAddon().waitAll(id, group.timeoutMs);
  } catch (e) {
    group.failed = true;
    throw e instanceof KilnError ? new KilnError(`${what}: ${e.message}`) : e;
  }
}
