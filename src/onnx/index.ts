/** kiln.onnx: export a model as an ONNX file for serving (onnxruntime and other runtimes). */
export { exportModel as export, exportModel, exportBytes } from './export.js';
export type { ExportOptions } from './export.js';
