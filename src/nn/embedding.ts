import { zeros } from '../creation.js';
import { checkInt, check } from '../errors.js';
import { embedding } from '../functional.js';
import { noGrad } from '../autograd/engine.js';
import type { Tensor } from '../tensor.js';
import { normal_ } from './init.js';
import { checkPositiveInt } from './linear.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

/** A lookup table [numEmbeddings, embeddingDim], N(0, 1) initialised; paddingIdx's row is zero. */
export class Embedding extends Module {
  weight: Tensor;
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, readonly options: { paddingIdx?: number } = {}) {
    super();
    checkPositiveInt(numEmbeddings, 'numEmbeddings');
    checkPositiveInt(embeddingDim, 'embeddingDim');
    this.weight = Parameter(zeros([numEmbeddings, embeddingDim]));
    normal_(this.weight);
    const pad = options.paddingIdx;
    if (pad !== undefined) {
      checkInt(pad, 'paddingIdx');
      check(pad >= -numEmbeddings && pad < numEmbeddings, () => `paddingIdx: ${pad} is out of range`);
      noGrad(() => this.weight.select(0, pad).fill_(0));
    }
  }
  forward(indices: Tensor): Tensor {
    return embedding(indices, this.weight);
  }
}
