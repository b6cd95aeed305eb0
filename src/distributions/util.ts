/** Shape helpers and parameter conversion shared by the distributions. */
import { full } from '../creation.js';
import { KilnError, check, shapeStr } from '../errors.js';
import { Tensor } from '../tensor.js';

/** NumPy broadcasting of two shapes; a KilnError naming `what` when they do not broadcast. */
export function broadcast(a: readonly number[], b: readonly number[], what: string): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new KilnError(`${what}: shapes ${shapeStr(a)} and ${shapeStr(b)} do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** A float32 tensor from a parameter given as a Tensor or a finite number. */
export function asParam(v: Tensor | number, name: string): Tensor {
  if (typeof v === 'number') {
    check(Number.isFinite(v), () => `${name}: expected a finite number or a Tensor, got ${v}`);
    return full([], v);
  }
  check(v instanceof Tensor, () => `${name}: expected a Tensor or a number, got ${v === null ? 'null' : typeof v}`);
  check(v.dtype === 'float32', () => `${name}: expected a float32 tensor, got ${v.dtype}`);
  return v;
}

export function checkSampleShape(s: unknown): number[] {
  check(Array.isArray(s) && s.every((d) => Number.isInteger(d) && d >= 0),
    () => `sampleShape: expected an array of non-negative integers, got ${String(s)}`);
  return [...(s as number[])];
}

/** t viewed with the given shape by broadcasting (no copy when it already has it). */
export function expandTo(t: Tensor, shape: readonly number[]): Tensor {
  return sameShape(t.shape, shape) ? t : t.expand([...shape]);
}

/** log(1 + exp(x)), stable for large |x|: max(x, 0) + log(1 + exp(-|x|)). */
export function softplus(x: Tensor): Tensor {
  return x.relu().add(x.abs().neg().exp().add(1).log());
}

/** Host check of a tensor predicate, e.g. that scale > 0 (one read; skipped with validateArgs: false). */
export function checkAll(bad: Tensor, message: string): void {
  const any = bad.numel > 0 && bad.max().item() > 0;
  bad.dispose();
  check(!any, message);
}
