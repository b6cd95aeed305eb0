// One rank of the DDP tests: the MLP of models.mjs wrapped in DistributedDataParallel, trained
// for 20 steps on this rank's half of each batch of 16 rows, under several configurations;
// reports the final parameters of each (the test compares them with one process on the whole
// batches, and with each other).
import * as kiln from '../../../dist/index.js';
import { report } from './data.mjs';
import { batches, mlp } from './models.mjs';

const dist = kiln.distributed;
const { DistributedDataParallel } = kiln.nn.parallel;
await dist.initProcessGroup({ timeoutMs: 30000 });
const rank = dist.getRank();
const size = dist.getWorldSize();
const half = 16 / size;
const baseline = kiln.memory().allocations;

/**
 * A test stand-in for tensors' post-accumulate-grad hooks where this Kiln has none: after each
 * backward it calls the hooks of every parameter that got a gradient, in an order shuffled
 * differently on each rank, so DDP's readiness bookkeeping and its in-order launch are tested.
 */
function polyfillHooks() {
  const proto = kiln.Tensor.prototype;
  const native = proto.registerPostAccumulateGradHook;
  const hooks = new Map();
  proto.registerPostAccumulateGradHook = function (fn) {
    const list = hooks.get(this) ?? [];
    hooks.set(this, list);
    list.push(fn);
    return { remove: () => list.splice(list.indexOf(fn), 1) };
  };
  const backward = proto.backward;
  let turn = 0;
  proto.backward = function (...args) {
    backward.apply(this, args);
    const ready = [...hooks.keys()].filter((t) => t.grad !== null);
    const rot = (rank * 3 + turn++) % Math.max(ready.length, 1);
    for (const t of [...ready.slice(rot), ...ready.slice(0, rot)].reverse()) for (const fn of hooks.get(t)) fn(t);
  };
  return () => {
    proto.registerPostAccumulateGradHook = native;
    proto.backward = backward;
  };
}

function train(optName, options, { accumulate = false, sync = 'auto' } = {}) {
  kiln.manualSeed(0);
  const model = mlp(kiln, [12, 16, 16, 16, 5]);
  const data = batches(kiln, 20, 16);
  const ddp = new DistributedDataParallel(model, options);
  const opt = optName === 'adam' ? new kiln.optim.Adam(ddp.parameters(), { lr: 0.01 }) : new kiln.optim.SGD(ddp.parameters(), { lr: 0.1, momentum: 0.9 });
  const lossFn = (x, y) => kiln.F.crossEntropy(ddp.forward(x), y);
  const mine = (t, lo, n) => t.narrow(0, lo + rank * n, n);
  for (const [x, y] of data) {
    kiln.scope(() => {
      opt.zeroGrad();
      if (accumulate) {
        // two micro-steps of 8 rows each (this rank's 8 / size of each): the first only accumulates
        ddp.noSync(() => lossFn(mine(x, 0, half / 2), mine(y, 0, half / 2)).backward());
        lossFn(mine(x, 8, half / 2), mine(y, 8, half / 2)).backward();
      } else {
        lossFn(mine(x, 0, half), mine(y, 0, half)).backward();
      }
      if (sync === 'always' || !ddp.overlapsBackward) ddp.syncGradients();
      opt.step();
    });
  }
  const params = Object.fromEntries(ddp.namedParameters().map(([n, p]) => [n, Array.from(p.toTypedArray())]));
  const info = { overlapsBackward: ddp.overlapsBackward, buckets: ddp.bucketParameters.length };
  ddp.dispose();
  opt.zeroGrad();
  for (const st of opt.state.values()) for (const v of Object.values(st)) if (v instanceof kiln.Tensor) v.dispose();
  for (const t of [...model.parameters(), ...data.flat()]) t.dispose();
  return { params, ...info };
}

const out = { rank, size, hasHooks: typeof kiln.Tensor.prototype.registerPostAccumulateGradHook === 'function' };
for (const optName of ['sgd', 'adam']) {
  out[`${optName}.default`] = train(optName, {});
  out[`${optName}.perParam`] = train(optName, { bucketCapMb: 1e-6, gradSync: 'afterBackward' });
  out[`${optName}.small`] = train(optName, { bucketCapMb: 0.001, gradSync: 'afterBackward' });
  const restore = polyfillHooks();
  out[`${optName}.hooks`] = train(optName, { bucketCapMb: 0.001 });
  restore();
  out[`${optName}.noSync`] = train(optName, { bucketCapMb: 0.001 }, { accumulate: true });
}
function unusedCase(polyfill) { // a parameter the forward never uses: with findUnusedParameters it counts as ready at once
  const result = {};
  const restore = polyfill ? polyfillHooks() : () => {};
  kiln.manualSeed(0);
  const model = mlp(kiln, [12, 16, 5]);
  model.unusedHead = new kiln.nn.Linear(16, 3);
  const ddp = new DistributedDataParallel(model, { findUnusedParameters: true, bucketCapMb: 1e-6 });
  const [[x, y]] = batches(kiln, 1, 16);
  kiln.F.crossEntropy(ddp.forward(x.narrow(0, rank * half, half)), y.narrow(0, rank * half, half)).backward();
  result.headGrad = Array.from(model.unusedHead.weight.grad.toTypedArray());
  // without the option, the next forward says which parameters got no gradient
  model.zeroGrad();
  const strict = new DistributedDataParallel(model, { bucketCapMb: 1e-6 });
  kiln.F.crossEntropy(strict.forward(x.narrow(0, rank * half, half)), y.narrow(0, rank * half, half)).backward();
  try {
    strict.forward(x);
    result.unusedError = null;
  } catch (e) {
    result.unusedError = `${e.name}: ${e.message}`;
  }
  restore();
  // and without hooks, forwarding again before syncGradients is refused
  model.zeroGrad();
  const fallback = new DistributedDataParallel(model, { gradSync: 'afterBackward' });
  kiln.F.crossEntropy(fallback.forward(x.narrow(0, rank * half, half)), y.narrow(0, rank * half, half)).backward();
  try {
    fallback.forward(x);
    result.fallbackError = null;
  } catch (e) {
    result.fallbackError = `${e.name}: ${e.message}`;
  }
  fallback.syncGradients();
  model.zeroGrad();
  for (const d of [ddp, strict, fallback]) d.dispose();
  for (const t of [x, y, ...model.parameters()]) t.dispose();
  return result;
}
out.unused = kiln.scope(() => unusedCase(true));
if (out.hasHooks) out.unusedNative = kiln.scope(() => unusedCase(false));

{ // overlap: 8 layers of 256 in buckets of 256 KB; the all-reduces begin while backward runs
  const overlap = (gradSync) => kiln.scope(() => {
    kiln.manualSeed(1);
    const model = mlp(kiln, [256, ...Array(8).fill(256), 5]);
    const ddp = new DistributedDataParallel(model, { bucketCapMb: 0.25, gradSync });
    const x = kiln.randn([64, 256]);
    const y = kiln.randint(0, 5, [64]);
    let comm = 0;
    let hidden = 0;
    for (let i = 0; i < 10; i++) {
      model.zeroGrad();
      kiln.F.crossEntropy(ddp.forward(x), y).backward();
      if (!ddp.overlapsBackward) ddp.syncGradients();
      comm += ddp.stats.commMs;
      hidden += ddp.stats.hiddenMs;
    }
    const buckets = ddp.bucketParameters.length;
    ddp.dispose();
    model.zeroGrad();
    for (const t of model.parameters()) t.dispose();
    return { comm, hidden, buckets };
  });
  out.overlap = { auto: overlap('auto'), afterBackward: overlap('afterBackward') };
}
out.leaked = kiln.memory().allocations - baseline;
dist.destroyProcessGroup();
await report(rank, out);
