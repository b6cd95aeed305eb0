/** kiln.cluster: k-means (scikit-learn's KMeans, camelCase). */
export { KMeans } from './kmeans.js';
export type { KMeansOptions } from './kmeans.js';
