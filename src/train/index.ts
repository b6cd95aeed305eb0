export { fit, evaluate } from './fit.js';
export type { FitOptions, FitHistory, EpochRecord, Callbacks, BatchInfo, EarlyStopping } from './fit.js';
export { saveCheckpoint, loadCheckpoint } from './checkpoint.js';
export { reportHtml, writeReport } from './report.js';
