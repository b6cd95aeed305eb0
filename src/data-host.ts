/**
 * 'kiln/data-host': the parts of kiln.data that never load Kiln's native addon, for a dataset
 * module that DataLoader workers import (workers cannot make Kiln tensors yet). Items are
 * numbers, typed arrays and { data, shape } HostTensors; the main thread makes the tensors.
 */
export { Dataset, Subset } from './data/dataset-base.js';
export { ArrayDataset } from './data/array-dataset.js';
export type { ArrayDatasetOptions, ItemTransform } from './data/array-dataset.js';
export { hostTensor, collateHost } from './data/host.js';
export type { HostTensor, HostArray } from './data/host.js';
export { RandomCrop, RandomHorizontalFlip, ToFloat32, HostNormalize as Normalize, HostCompose as Compose, normalizeHost } from './data/host-transforms.js';
export type { HostTransform, TransformSpec } from './data/host-transforms.js';
export { mulberry32, seededPermutation } from './data/seeded.js';
export type { ItemContext } from './data/seeded.js';
export type { WorkerSpec } from './data/worker-spec.js';
