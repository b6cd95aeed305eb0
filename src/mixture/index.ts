/** kiln.mixture: Gaussian mixtures fitted by expectation-maximisation (scikit-learn's API, camelCase). */
export { GaussianMixture } from './gaussian-mixture.js';
export type { GaussianMixtureOptions, InitParams } from './gaussian-mixture.js';
export type { CovarianceType } from './em.js';
