/** kiln.optim: optimizers and learning-rate schedulers (torch.optim with camelCase names). */
export { Optimizer } from './optimizer.js';
export type { BaseOptions, Closure, OptimizerStateDict, ParamGroup, ParamGroupInput, ParamState, StateValue } from './optimizer.js';
export { SGD } from './sgd.js';
export type { SGDOptions } from './sgd.js';
export { Adam, AdamW } from './adam.js';
export type { AdamOptions } from './adam.js';
export { Adagrad } from './adagrad.js';
export type { AdagradOptions } from './adagrad.js';
export { RMSprop } from './rmsprop.js';
export type { RMSpropOptions } from './rmsprop.js';
export { LBFGS } from './lbfgs.js';
export type { LBFGSOptions } from './lbfgs.js';
export * as lrScheduler from './lr_scheduler.js';
