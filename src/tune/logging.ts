/** What kiln.tune prints: failed trials (warn, the default) and, at 'info', every finished trial. */
import { check } from '../errors.js';

export type LogLevel = 'silent' | 'warn' | 'info';
const LEVELS: LogLevel[] = ['silent', 'warn', 'info'];
let level: LogLevel = (LEVELS as string[]).includes(process.env.KILN_TUNE_LOG ?? '') ? (process.env.KILN_TUNE_LOG as LogLevel) : 'warn';

/** Sets the verbosity (also from the KILN_TUNE_LOG environment variable, which worker processes inherit). */
export function setLogLevel(l: LogLevel): void {
  check(LEVELS.includes(l), () => `setLogLevel: expected one of ${LEVELS.join(', ')}, got ${String(l)}`);
  level = l;
  process.env.KILN_TUNE_LOG = l;
}

export function getLogLevel(): LogLevel { return level; }

export function logWarn(msg: string): void {
  if (level !== 'silent') process.stderr.write(`[kiln.tune] ${msg}\n`);
}

export function logInfo(msg: string): void {
  if (level === 'info') process.stderr.write(`[kiln.tune] ${msg}\n`);
}
