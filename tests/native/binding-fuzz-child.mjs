// Calls every native export with random argument lists, most of them shaped like the real ones
// (from the op table's field lists) with edge values mixed in, the rest arbitrary. Each call
// must return or throw a KilnError: anything else is reported, and a crash kills the process
// (the parent test sees the exit). Prints one JSON line of counts.
//   node tests/native/binding-fuzz-child.mjs <seed> <calls>
import { createRequire } from 'node:module';

const seed = Number(process.argv[2] ?? 1);
const calls = Number(process.argv[3] ?? 1000);

class KilnError extends Error {}
const native = createRequire(import.meta.url)('../../build/Release/kiln.node');
native.setErrorClass(KilnError);

// mulberry32: deterministic for a seed
let state = seed >>> 0;
const rand = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const chance = (p) => rand() < p;

const EDGE_NUMBERS = [-1, -(2 ** 31), 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 60, -(2 ** 63), 1.5, -0.5, NaN, Infinity, -Infinity, 1e300];
const ODD_VALUES = [undefined, null, '3', true, {}, [], [1, 2], () => 0, Symbol('s'), 10n];
const smallInt = () => Math.floor(rand() * 9);
const size = () => (chance(0.85) ? pick([0, 1, 2, 3, 4, 5, 8, 16, smallInt(), Math.floor(rand() * 300)]) : pick(EDGE_NUMBERS));
const anyValue = () => (chance(0.5) ? pick(EDGE_NUMBERS) : chance(0.5) ? size() : pick(ODD_VALUES));

// a pool of live storages of every dtype, small, holding small integers (valid indices sometimes)
const typed = (dtype, n) => (dtype === 0 ? new Float32Array(n) : dtype === 1 ? new Int32Array(n) : new Float64Array(n));
const pool = [];
for (const dtype of [0, 1, 2]) {
  for (const n of [0, 1, 2, 3, 4, 6, 8, 16, 27, 64, 257, 1024]) {
    const h = native.alloc(0, dtype, n);
    const data = typed(dtype, n);
    for (let i = 0; i < n; i++) data[i] = dtype !== 1 ? rand() * 4 - 2 : Math.floor(rand() * 6) - 1;
    if (n > 0) native.write(h, 0, data);
    pool.push({ h, n });
  }
}
const released = native.alloc(0, 0, 4);
native.release(released);
// big buffers for plausible calls: distinct ones per call, so outputs overlap nothing by chance
const big = { 0: [], 1: [], 2: [], index: [] };
for (let k = 0; k < 12; k++) {
  for (const dtype of [0, 1, 2]) {
    const h = native.alloc(0, dtype, 4096);
    const data = typed(dtype, 4096);
    for (let i = 0; i < 4096; i++) data[i] = dtype !== 1 ? rand() * 4 - 2 : Math.floor(rand() * 7) - 1;
    native.write(h, 0, data);
    big[dtype].push(h);
  }
  const idx = native.alloc(0, 1, 4096);
  native.write(idx, 0, Int32Array.from({ length: 4096 }, () => Math.floor(rand() * 2)));
  big.index.push(idx);
}

function buffer(optional) {
  if (optional && chance(0.2)) return [null, 0];
  if (chance(0.05)) return [pick([released, 12345.5, -1, 2 ** 53, 'h', undefined]), 0];
  const b = pick(pool);
  const off = chance(0.8) ? (b.n > 0 && chance(0.3) ? Math.floor(rand() * b.n) : 0) : pick([b.n, b.n + 1, -1, 1.5, NaN, 2 ** 53]);
  return [b.h, off];
}

function dims() {
  if (chance(0.05)) return anyValue();
  const n = chance(0.9) ? Math.floor(rand() * 5) : Math.floor(rand() * 11);
  return Array.from({ length: n }, () => (chance(0.9) ? pick([0, 1, 1, 2, 3, 4, smallInt()]) : anyValue()));
}

function field(f) {
  switch (f.kind) {
    case 'IN': case 'OUT': case 'IN_ANY': case 'OUT_ANY': case 'INDEX': case 'INDEX_OR': return buffer(false);
    case 'OPT_IN': case 'OPT_OUT': case 'OPT_IN_ANY': return buffer(true);
    case 'ENUM': return [chance(0.9) ? Math.floor(rand() * f.values) : pick([f.values, -1, 1.5, 2 ** 40])];
    case 'BOOL': return [chance(0.95) ? chance(0.5) : anyValue()];
    case 'DIMS': return [dims()];
    case 'CONV': return [
      chance(0.9) ? [pick([0, 1, 2]), pick([1, 2]), pick([1, 2, 4, 5]), pick([1, 2, 4, 5])] : dims(),
      chance(0.9) ? [pick([1, 2, 3]), pick([1, 2, 3]), pick([1, 2]), pick([1, 2]), pick([0, 1]), pick([0, 1])] : dims(),
      chance(0.9) ? [pick([0, 1, 2, 3, 4]), pick([0, 1, 2, 3, 4])] : dims(),
    ];
    case 'F32': case 'F64': return [chance(0.8) ? rand() * 4 - 2 : anyValue()];
    default: return [chance(0.9) ? size() : anyValue()]; // SIZE, I32, U64
  }
}

// Plausible arguments: small sizes (0-3), one dim count for all DIMS of the call, a consistent
// convolution geometry, distinct 4096-element buffers of the right dtype: most such calls pass
// the checks, so the kernels run on random shapes, strides and offsets.
// One size in ten calls is 0 while another is huge (2^40): the product is 0, every buffer extent
// is 0, and a kernel that walks the huge dim anyway would hang.
function plausible(spec) {
  const degenerate = chance(0.1);
  const [first, second] = chance(0.5) ? [0, 2 ** 40] : [2 ** 40, 0];
  let picked = 0;
  const ndim = Math.floor(rand() * 5); // 0-4 dims (attention reads 4-D strides)
  const used = new Set();
  const take = (list) => {
    const free = list.filter((h) => !used.has(h));
    const h = pick(free.length > 0 ? free : list);
    used.add(h);
    return [h, chance(0.8) ? 0 : Math.floor(rand() * 8)];
  };
  return spec.fields.flatMap((f) => {
    switch (f.kind) {
      case 'IN': case 'OUT': return take(big[f.type === 'int32_t' ? 1 : f.type === 'double' ? 2 : 0]);
      case 'OPT_IN': case 'OPT_OUT': return chance(0.3) ? [null, 0] : take(big[f.type === 'int32_t' ? 1 : f.type === 'double' ? 2 : 0]);
      case 'IN_ANY': case 'OUT_ANY': return take(big[chance(0.5) ? 0 : chance(0.6) ? 2 : 1]);
      case 'OPT_IN_ANY': return chance(0.3) ? [null, 0] : take(big[chance(0.5) ? 0 : chance(0.6) ? 2 : 1]);
      case 'INDEX': case 'INDEX_OR': return take(big.index);
      case 'ENUM': return [Math.floor(rand() * f.values)];
      case 'BOOL': return [chance(0.5)];
      case 'DIMS': {
        const d = Array.from({ length: ndim }, () => (f.name === 'shape' ? 1 + Math.floor(rand() * 3) : Math.floor(rand() * 4)));
        // row strides usually end in 1, as the kernels that read rows (attention) require
        if (f.name.endsWith('Strides') && ndim > 0 && chance(0.9)) d[ndim - 1] = 1;
        return [d];
      }
      case 'CONV': {
        if (degenerate) return [[1, 1, 2, 2], [2 ** 20, 2 ** 20, 1, 1, 2 ** 20, 2 ** 20], [0, 0]];
        const [H, W, k, st, pd] = [1 + Math.floor(rand() * 5), 1 + Math.floor(rand() * 5), 1 + Math.floor(rand() * 3), 1 + Math.floor(rand() * 2), Math.floor(rand() * 2)];
        const out = (n) => Math.max(0, Math.floor((n + 2 * pd - k) / st) + 1);
        return [[1 + Math.floor(rand() * 2), 1 + Math.floor(rand() * 2), H, W], [k, k, st, st, pd, pd], [out(H), out(W)]];
      }
      case 'F32': case 'F64': return [rand() * 2 - 1];
      case 'I32': return [Math.floor(rand() * 5) - 1];
      default:
        if (degenerate && picked < 2 && chance(0.5)) return [picked++ === 0 ? first : second];
        return [Math.floor(rand() * 4)];
    }
  });
}

// the memory exports, shaped like their real arguments
const memoryCalls = {
  alloc: () => [pick([0, 0, 1, 5, 9, -1, 1.5]), pick([0, 1, 2, -1]), pick([0, 1, 16, 1000, 2 ** 45, 2 ** 53, -1, 1.5, NaN])],
  write: () => [...buffer(false), pick([new Float32Array(smallInt()), new Int32Array(smallInt()), new Float64Array(smallInt()), new Uint8Array(3), [1, 2], null])],
  read: () => [...buffer(false), pick([new Float32Array(smallInt()), new Int32Array(smallInt()), new Float64Array(2), 'x'])],
  copy: () => [...buffer(false), ...buffer(false), size()],
  storageView: () => [...buffer(false), size()],
  synchronize: () => [pick([0, 1, 8, 9, -1, NaN])],
  memoryStats: () => [],
  resetPeak: () => [],
  cpuInfo: () => [],
  opSpecs: () => [],
  registerCudaBackend: () => [anyValue(), pick([1, 2, 0, 9])],
};

const specs = native.opSpecs();
const counts = { calls: 0, returned: 0, kilnErrors: 0, otherErrors: 0, byOp: {} };
const others = [];
const slow = [];
for (let i = 0; i < calls; i++) {
  let name;
  let args;
  if (chance(0.1)) {
    name = pick(Object.keys(memoryCalls));
    args = memoryCalls[name]();
  } else {
    const spec = pick(specs);
    name = spec.name;
    args = chance(0.6) ? plausible(spec) : spec.fields.flatMap(field);
  }
  if (chance(0.05)) args.pop();
  if (chance(0.05)) args.push(anyValue());
  if (chance(0.05) && args.length > 0) args[Math.floor(rand() * args.length)] = anyValue();
  if (chance(0.02)) args = Array.from({ length: Math.floor(rand() * 12) }, anyValue);
  counts.calls++;
  const c = (counts.byOp[name] ??= { calls: 0, returned: 0 });
  c.calls++;
  const t0 = performance.now();
  try {
    const r = native[name](...args);
    if (name === 'alloc') native.release(r);
    counts.returned++;
    c.returned++;
  } catch (e) {
    if (e instanceof KilnError) counts.kilnErrors++;
    else {
      counts.otherErrors++;
      if (others.length < 10) others.push(`${name}: ${e?.constructor?.name}: ${e?.message}`);
    }
  }
  // every buffer here holds at most 4096 elements: no call should take long
  const ms = performance.now() - t0;
  if (ms > 2000 && slow.length < 10) slow.push(`${name} took ${ms.toFixed(0)} ms: ${JSON.stringify(args, (k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
}
console.log(JSON.stringify({ seed, ...counts, others, slow }));
