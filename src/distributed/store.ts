/**
 * TCPStore, as torch.distributed.TCPStore: the key-value store the ranks rendezvous through.
 * initProcessGroup runs one on rank 0 at MASTER_ADDR:MASTER_PORT; scripts can make their own
 * (e.g. to share a run id). The server runs natively on a thread of its own; each request from
 * here uses a connection of its own on a worker thread, so a `get` waiting for a key never
 * holds up a `set` of the same process.
 */
import { check } from '../errors.js';
import { distAddon } from './native.js';
import { DEFAULT_TIMEOUT_MS } from './group.js';

export interface TCPStoreOptions {
  /** This process serves the store (one process of the job does). */
  isMaster?: boolean;
  /** Every request fails after this long; a `get` waits up to it for its key. Default 30 minutes. */
  timeoutMs?: number;
}

const encoder = new TextEncoder();

export class TCPStore {
  readonly host: string;
  /** The port served (when `port` was 0 on the master, the one the system chose). */
  readonly port: number;
  readonly timeoutMs: number;
  private serverId = -1;

  constructor(host: string, port: number, options: TCPStoreOptions = {}) {
    check(typeof host === 'string' && host.length > 0, 'host: expected a host name or address');
    const master = options.isMaster ?? false;
    check(Number.isInteger(port) && port >= (master ? 0 : 1) && port <= 65535,
      () => `port: expected an integer in [${master ? 0 : 1}, 65535], got ${String(port)}`);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    check(Number.isInteger(this.timeoutMs) && this.timeoutMs > 0, 'timeoutMs: expected a positive integer');
    this.host = host;
    if (master) {
      const [id, bound] = distAddon().storeServe(port);
      this.serverId = id;
      this.port = bound;
    } else {
      this.port = port;
    }
  }

  private request(op: number, key: string, value: Uint8Array | null, delta: number, timeoutMs = this.timeoutMs) {
    check(typeof key === 'string' && key.length > 0, 'key: expected a non-empty string');
    return distAddon().storeRequest(op, this.host, this.port, key, value, delta, timeoutMs);
  }

  async set(key: string, value: string | Uint8Array): Promise<void> {
    check(typeof value === 'string' || value instanceof Uint8Array, 'value: expected a string or a Uint8Array');
    await this.request(0, key, typeof value === 'string' ? encoder.encode(value) : value, 0);
  }

  /** The value of `key`, waiting (up to the timeout) until some process sets it. */
  async get(key: string): Promise<Uint8Array> {
    return (await this.request(1, key, null, 0)) as Uint8Array;
  }

  /** Adds `amount` to the integer counter at `key` (0 when unset) and returns the new value. */
  async add(key: string, amount: number): Promise<number> {
    check(Number.isSafeInteger(amount), 'amount: expected an integer');
    return (await this.request(2, key, null, amount)) as number;
  }

  /** Whether every key is set, without waiting. */
  async check(keys: string[]): Promise<boolean> {
    check(Array.isArray(keys), 'keys: expected an array of strings');
    for (const k of keys) if (!((await this.request(3, k, null, 0)) as boolean)) return false;
    return true;
  }

  /** Waits until every key is set (up to timeoutMs, default the store's). */
  async wait(keys: string[], timeoutMs = this.timeoutMs): Promise<void> {
    check(Array.isArray(keys), 'keys: expected an array of strings');
    await Promise.all(keys.map((k) => this.request(1, k, null, 0, timeoutMs)));
  }

  /** Stops serving (the master); a no-op elsewhere. */
  close(): void {
    if (this.serverId >= 0) distAddon().storeStop(this.serverId);
    this.serverId = -1;
  }
}
