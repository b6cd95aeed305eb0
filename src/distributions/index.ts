/** kiln.distributions: probability distributions with torch.distributions semantics. */
export { Distribution } from './distribution.js';
export type { DistributionOptions } from './distribution.js';
export { Normal } from './normal.js';
export { Bernoulli } from './bernoulli.js';
export type { BernoulliParams } from './bernoulli.js';
export { Categorical, HOST_SAMPLE_LIMIT } from './categorical.js';
export type { CategoricalParams } from './categorical.js';
export { Independent } from './independent.js';
export * as kl from './kl.js';
