import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where classifier.mjs saves the feature classifier and fid.mjs reads it (bench/out is not committed). */
export const CLASSIFIER = join(dirname(fileURLToPath(import.meta.url)), '../out/generative/classifier.safetensors');
