/** nn.parallel: DistributedDataParallel (src/distributed/ddp.ts), as torch.nn.parallel. */
export { DistributedDataParallel } from '../distributed/ddp.js';
export type { DistributedDataParallelOptions, DDPStats } from '../distributed/ddp.js';
