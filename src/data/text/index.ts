/** kiln.data.text: tokenizers, language-modelling windows and a bundled public-domain corpus. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../native.js';

export { CharTokenizer } from './char.js';
export { ByteBPETokenizer } from './bpe.js';
export type { BpeTrainOptions } from './bpe.js';
export { TokenWindowDataset } from './windows.js';

/** Tiny Shakespeare (1.1 MB, public domain; data/tinyshakespeare/README.md) as one string. */
export function loadTinyShakespeare(): string {
  return readFileSync(join(packageRoot, 'data', 'tinyshakespeare', 'input.txt'), 'utf8');
}
