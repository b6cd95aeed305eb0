import { KilnError } from './errors.js';

/** 'cpu' or 'cuda:N'. Plain 'cuda' means 'cuda:0'. */
export type Device = 'cpu' | `cuda:${number}`;
export type DeviceLike = Device | 'cuda';

export function parseDevice(d: unknown, name = 'device'): Device {
  if (d === undefined || d === 'cpu') return 'cpu';
  if (d === 'cuda') return 'cuda:0';
  if (typeof d === 'string' && /^cuda:\d+$/.test(d)) return d as Device;
  throw new KilnError(`${name}: expected 'cpu', 'cuda' or 'cuda:N', got ${String(d)}`);
}

/** Native device id: 0 is the CPU, 1 + n is CUDA device n (native/include/dtype.h). */
export function deviceId(d: Device): number {
  return d === 'cpu' ? 0 : 1 + Number(d.slice(5));
}

export function deviceFromId(id: number): Device {
  return id === 0 ? 'cpu' : (`cuda:${id - 1}` as Device);
}
