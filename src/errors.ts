/** The error every bad input raises: it names the argument and what was expected. */
export class KilnError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KilnError';
  }
}

export function check(cond: unknown, message: string | (() => string)): asserts cond {
  if (!cond) throw new KilnError(typeof message === 'function' ? message() : message);
}

export function checkFinite(value: number, name: string): void {
  check(typeof value === 'number' && Number.isFinite(value), () => `${name}: expected a finite number, got ${String(value)}`);
}

export function checkInt(value: number, name: string): void {
  check(Number.isInteger(value), () => `${name}: expected an integer, got ${String(value)}`);
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
