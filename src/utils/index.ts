/** kiln.utils: gradient checkpointing (as torch.utils.checkpoint), image grids and PNG files, the Frechet distance. */
export { checkpoint, checkpointSequential } from './checkpoint.js';
export { makeGrid, saveImage, encodePng } from './image.js';
export type { MakeGridOptions } from './image.js';
export { frechetDistance, gaussianStats } from './frechet.js';
export type { GaussianStats } from './frechet.js';
export { summary } from './summary.js';
export type { ModelSummary, SummaryRow, SummaryOptions } from './summary.js';
