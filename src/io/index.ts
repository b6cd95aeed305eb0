export { save, load, serializeSafetensors, parseSafetensors, readSafetensors, TREE_KEY } from './safetensors.js';
export type { SaveOptions, LoadOptions } from './safetensors.js';
export {
  encodeSafetensors,
  decodeSafetensors,
  parseHeader as parseSafetensorsHeader,
  halfToFloat,
  ST_DTYPE_SIZE,
} from './safetensors-format.js';
export type { DecodedTensor, HeaderEntry, ParsedHeader } from './safetensors-format.js';
export { atomicWrite } from './atomic.js';
