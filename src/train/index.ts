export { fit, evaluate } from './fit.js';
export type { FitOptions, FitHistory, EpochRecord, Callback, Callbacks, BatchInfo, EarlyStopping, EarlyStoppingOptions } from './fit.js';
export { BestTracker, EarlyStopper } from './callbacks.js';
export { saveCheckpoint, loadCheckpoint } from './checkpoint.js';
export type { CheckpointParts, CheckpointInfo, Stateful } from './checkpoint.js';
export { reportHtml, writeReport } from './report.js';
export { EpochMeter, countCorrect } from './metrics.js';
export { TensorBoardLogger, readTensorBoardEvents, histogramOf } from './tensorboard.js';
export type { TensorBoardLoggerOptions, TensorBoardCallbackOptions, HistogramOptions, ImageOptions } from './tensorboard.js';
