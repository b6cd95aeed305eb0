/**
 * kiln.distributed: parallel training over processes and machines, as torch.distributed, on
 * Gloo (CPU), MPI (under mpirun) and NCCL (GPU). Process groups and collectives here; data
 * parallel training is nn.parallel.DistributedDataParallel with data.DistributedSampler;
 * pipeline (model) parallelism is distributed.pipeline; `kiln launch` starts the ranks.
 */
export {
  initProcessGroup, destroyProcessGroup, newGroup, isInitialized, getRank, getWorldSize, getBackend, getDefaultGroup,
  getLocalRank, getLocalWorldSize, ProcessGroup, DEFAULT_TIMEOUT_MS,
} from './group.js';
export type { Backend, InitProcessGroupOptions, NewGroupOptions } from './group.js';
export {
  allReduce, broadcast, allGather, allGatherIntoTensor, reduceScatter, reduceScatterTensor, barrier, send, recv, isend,
  irecv, ReduceOp,
} from './collectives.js';
export type { ReduceOpName, ReduceOptions, GroupOption, P2POptions } from './collectives.js';
export { TCPStore } from './store.js';
export { backendStatus, isGlooAvailable, isMpiAvailable, isNcclAvailable } from './status.js';
export type { EngineStatus } from './status.js';
export type { TCPStoreOptions } from './store.js';
export { readRankEnv } from './env.js';
export { initDeviceMesh, DeviceMesh } from './mesh.js';
export type { DeviceMeshOptions } from './mesh.js';
export type { RankEnv } from './env.js';
export * as pipeline from './pipeline/index.js';
export { DistributedDataParallel } from './ddp.js';
export type { DistributedDataParallelOptions, DDPStats } from './ddp.js';
export { DistributedSampler } from './sampler.js';
