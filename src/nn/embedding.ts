import { checkOptions } from '../options.js';
import { zeros } from '../creation.js';
import { checkInt, check } from '../errors.js';
import { embedding } from '../functional.js';
import { noGrad } from '../autograd/engine.js';
import { where } from '../ops/elementwise.js';
import type { Tensor } from '../tensor.js';
import { normal_ } from './init.js';
import { checkPositiveInt } from './linear.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

/**
 * A lookup table [numEmbeddings, embeddingDim], N(0, 1) initialised. With paddingIdx, that row
 * starts at zero and gets no gradient (as PyTorch), so it stays whatever it was set to.
 */
export class Embedding extends Module {
  weight: Tensor;
  readonly paddingIdx: number | null;
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, readonly options: { paddingIdx?: number } = {}) {
    super();
    checkOptions(options, ['paddingIdx'], 'Embedding');
    checkPositiveInt(numEmbeddings, 'numEmbeddings');
    checkPositiveInt(embeddingDim, 'embeddingDim');
    this.weight = Parameter(zeros([numEmbeddings, embeddingDim]));
    normal_(this.weight);
    const pad = options.paddingIdx;
    this.paddingIdx = null;
    if (pad !== undefined) {
      checkInt(pad, 'paddingIdx');
      check(pad >= -numEmbeddings && pad < numEmbeddings, () => `paddingIdx: ${pad} is out of range [${-numEmbeddings}, ${numEmbeddings})`);
      this.paddingIdx = pad < 0 ? pad + numEmbeddings : pad;
      noGrad(() => this.weight.select(0, this.paddingIdx!).fill_(0));
    }
  }
  forward(indices: Tensor): Tensor {
    const rows = embedding(indices, this.weight);
    if (this.paddingIdx === null || !rows.requiresGrad) return rows;
    // padding positions take the detached rows, so no gradient reaches the padding row
    return where(indices.ne(this.paddingIdx).unsqueeze(-1), rows, rows.detach());
  }
}
