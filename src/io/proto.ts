/**
 * The protocol buffer schemas Kiln ships in proto/ (ONNX, TensorBoard), loaded once with
 * protobufjs. The folder sits two levels above this file both in src/io and in dist/io.
 */
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { KilnError } from '../errors.js';

const roots = new Map<string, protobuf.Root>();

/** The parsed schema proto/<file>, with the google/protobuf types protobufjs bundles. */
export function protoRoot(file: string): protobuf.Root {
  let root = roots.get(file);
  if (root === undefined) {
    const path = fileURLToPath(new URL(`../../proto/${file}`, import.meta.url));
    try {
      root = protobuf.loadSync(path);
    } catch (e) {
      throw new KilnError(`proto: cannot load the schema ${path} (is the package's proto/ folder installed?): ${(e as Error).message}`);
    }
    roots.set(file, root);
  }
  return root;
}

/** A message type of a shipped schema, e.g. protoType('onnx.proto', 'onnx.ModelProto'). */
export function protoType(file: string, name: string): protobuf.Type {
  return protoRoot(file).lookupType(name);
}

/** Encodes a plain object (camelCase fields, enums by name) as message `name` of `file`. */
export function encodeMessage(file: string, name: string, value: Record<string, unknown>): Uint8Array {
  const type = protoType(file, name);
  const message = type.fromObject(value);
  const err = type.verify(message);
  if (err !== null) throw new KilnError(`proto: invalid ${name}: ${err}`);
  return type.encode(message).finish();
}
