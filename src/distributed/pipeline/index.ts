/** distributed.pipeline: model (pipeline) parallelism, as torch.distributed.pipelining. */
export { splitSequential } from './split.js';
export { PipelineStage } from './stage.js';
export type { PipelineStageOptions } from './stage.js';
export { ScheduleGPipe, Schedule1F1B } from './schedule.js';
export type { ScheduleOptions, StepOptions, LossFn } from './schedule.js';
