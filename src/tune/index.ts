/**
 * kiln.tune: define-by-run hyperparameter search with Optuna's API in camelCase.
 *
 *   const study = kiln.tune.createStudy({ direction: 'minimize', sampler: new kiln.tune.GPSampler({ seed: 0 }) });
 *   await study.optimize((trial) => (trial.suggestFloat('x', -10, 10) - 2) ** 2, { nTrials: 30 });
 *   study.bestParams;
 *
 * This folder imports nothing of Kiln but its errors (and fit's types), so worker processes that
 * run plain objectives start fast.
 */
export { createStudy, loadStudy, createTrial, Study } from './study.js';
export type { CreateStudyOptions, CreateTrialOptions } from './study.js';
export { Trial, TrialPruned } from './trial.js';
export type { Objective, ObjectiveResult, OptimizeOptions, OptimizeCallback } from './optimize.js';
export { TrialState } from './types.js';
export type { FrozenTrial, StudyDirection } from './types.js';
export { FloatDistribution, IntDistribution, CategoricalDistribution } from './distributions.js';
export type { Distribution, ParamValue, NumericOptions } from './distributions.js';
export { RandomSampler } from './samplers/random.js';
export { GridSampler } from './samplers/grid.js';
export type { GridSearchSpace } from './samplers/grid.js';
export { TPESampler } from './samplers/tpe/sampler.js';
export type { TPESamplerOptions } from './samplers/tpe/sampler.js';
export { GPSampler } from './samplers/gp/sampler.js';
export type { GPSamplerOptions } from './samplers/gp/sampler.js';
export type { Sampler, SamplerSpec, StudyView } from './samplers/sampler.js';
export { NopPruner } from './pruners/pruner.js';
export type { Pruner, PrunerSpec, PrunerStudyView } from './pruners/pruner.js';
export { MedianPruner, PercentilePruner } from './pruners/median.js';
export type { PercentilePrunerOptions } from './pruners/median.js';
export { SuccessiveHalvingPruner } from './pruners/successive-halving.js';
export type { SuccessiveHalvingOptions } from './pruners/successive-halving.js';
export { HyperbandPruner } from './pruners/hyperband.js';
export type { HyperbandOptions } from './pruners/hyperband.js';
export { Storage } from './storage/storage.js';
export { JournalStorage } from './storage/journal.js';
export { PruningCallback } from './callback.js';
export { paramImportances } from './report/importance.js';
export { studyReportHtml } from './report/report.js';
export { setLogLevel, getLogLevel } from './logging.js';
export type { LogLevel } from './logging.js';
