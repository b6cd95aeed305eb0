/** kiln.utils: gradient checkpointing (as torch.utils.checkpoint). */
export { checkpoint, checkpointSequential } from './checkpoint.js';
