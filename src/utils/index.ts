/** kiln.utils: gradient checkpointing (as torch.utils.checkpoint). */
export { checkpoint, checkpointSequential } from './checkpoint.js';
export { makeGrid } from './make-grid.js';
export type { MakeGridOptions } from './make-grid.js';
export { summary } from './summary.js';
export type { ModelSummary, SummaryRow, SummaryOptions } from './summary.js';
