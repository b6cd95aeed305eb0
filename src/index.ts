/**
 * Kiln: neural-network training for Node.js. PyTorch semantics with camelCase names.
 *
 *   import * as kiln from 'kiln';
 *   const { nn, optim, F } = kiln;
 */
export { Tensor } from './tensor.js';
export { KilnError } from './errors.js';
export type { DType } from './dtype.js';
export type { Device, DeviceLike } from './device.js';
export {
  tensor, zeros, ones, full, zerosLike, onesLike, fullLike, rand, randn, randint, uniform, normal,
  arange, linspace, eye, randperm,
} from './creation.js';
export type { TensorOptions } from './creation.js';
export { manualSeed, initialSeed, getRngState, setRngState } from './random.js';
export { noGrad, enableGrad, isGradEnabled, setGradEnabled } from './autograd/engine.js';
export * as autograd from './autograd/index.js';
export * as utils from './utils/index.js';
export { scope, keep, memory, emptyCache, resetPeak } from './memory.js';
export type { MemoryInfo, DeviceMemory } from './memory.js';
export { where, add, sub, mul, div, pow, maximum, minimum, exp, log, sqrt, abs, relu, sigmoid, tanh, clamp } from './ops/elementwise.js';
export { sum, mean, max, min, argmax, argmin, logsumexp } from './ops/reduce.js';
export { cat, stack, reshape, transpose, permute, flatten, squeeze, unsqueeze } from './ops/shape.js';
export { matmul } from './ops/matmul.js';
export { gather, indexSelect } from './ops/indexing.js';
export { backendInfo, cuda, setMatmulPrecision, getMatmulPrecision } from './backend-info.js';
export type { BackendInfo, MatmulPrecision } from './backend-info.js';
export * as F from './functional.js';
export * as optim from './optim/index.js';
export * as nn from './nn/index.js';
export { save, load } from './io/index.js';
export * as data from './data/index.js';
export * as distributed from './distributed/index.js';
export { fit, evaluate, saveCheckpoint, loadCheckpoint, writeReport } from './train/index.js';
export type { FitOptions, FitHistory, EpochRecord, Callback, Callbacks, BatchInfo, EarlyStoppingOptions } from './train/index.js';
export * as tune from './tune/index.js';
export * as distributions from './distributions/index.js';
export * as linalg from './linalg/index.js';
export * as cluster from './cluster/index.js';
export * as mixture from './mixture/index.js';
export * as rl from './rl/index.js';
// ecosystem (issue 21): kiln.train (TensorBoardLogger and the fit pieces), kiln.onnx
export * as train from './train/index.js';
export * as onnx from './onnx/index.js';
export { autocast } from './autocast.js';
export type { AutocastOptions } from './autocast.js';
// ---- sequence-model ops (issue 13)
export { norm, variance as var, std } from './ops/reduce.js';
export { cumsum, cumprod, logcumsumexp, sort, argsort, topk } from './ops/scan.js';
export type { SortResult } from './ops/scan.js';
export { split, chunk, repeat, roll, flip, tril, triu, maskedFill } from './ops/layout.js';
export { bmm, baddbmm, outer } from './ops/matmul.js';
export { einsum } from './ops/einsum.js';
