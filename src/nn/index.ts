/** kiln.nn: layers as PyTorch's torch.nn. */
export { Module } from './module.js';
export { Parameter, isParameter } from './parameter.js';
export { Sequential, ModuleList } from './container.js';
export { Linear } from './linear.js';
export { Conv1d, Conv2d, ConvTranspose2d } from './conv.js';
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Upsample, PixelShuffle } from './pooling.js';
export { BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm, RMSNorm } from './norm.js';
export { Dropout } from './dropout.js';
export { Embedding } from './embedding.js';
export { ReLU, Sigmoid, Tanh, GELU, LeakyReLU, Softmax, LogSoftmax, Identity, Flatten, Unflatten, SiLU, Mish, Softplus } from './activation.js';
export { RNN, LSTM, GRU } from './rnn.js';
export * from './losses.js';
export * as init from './init.js';
export * as utils from './utils.js';
export * as parallel from './parallel.js';
export { MultiheadAttention, TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder, TransformerDecoder } from './transformer.js';
export type { MultiheadAttentionOptions, MultiheadAttentionForwardOptions, TransformerLayerOptions } from './transformer.js';
