// Times every native call between start() and stop(): wraps each function of the native table
// (dist/native.js) once. A GEMM's key names its transposes and M x N x K and carries its FLOPs
// (batch count included), so profiles can print GFLOP/s per shape; other keys are the function.
//   const timer = timeNativeCalls(native); timer.start(); step(); const calls = timer.stop();
//   // calls: Map key -> { ms, calls, flops }
export function timeNativeCalls(native) {
  let current = null;
  for (const name of Object.keys(native)) {
    const fn = native[name];
    if (typeof fn !== 'function') continue;
    native[name] = (...args) => {
      if (current === null) return fn(...args);
      const t0 = process.hrtime.bigint();
      const r = fn(...args);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const gemm = name === 'gemm';
      const key = gemm ? `gemm ${args[0] ? 'T' : 'N'}${args[1] ? 'T' : 'N'} ${args[2]}x${args[3]}x${args[4]}` : name;
      const e = current.get(key) ?? { ms: 0, calls: 0, flops: gemm ? 2 * args[2] * args[3] * args[4] * args[19] : 0 };
      e.ms += ms;
      e.calls++;
      current.set(key, e);
      return r;
    };
  }
  return {
    start() { current = new Map(); },
    stop() { const calls = current; current = null; return calls; },
  };
}

/** Runs step warmup times, then steps times timed: each step's wall ms and its native calls. */
export function profileSteps(native, step, { warmup, steps }) {
  const timer = timeNativeCalls(native);
  for (let i = 0; i < warmup; i++) step();
  const walls = [];
  const perStep = [];
  for (let i = 0; i < steps; i++) {
    timer.start();
    const t0 = process.hrtime.bigint();
    step();
    walls.push(Number(process.hrtime.bigint() - t0) / 1e6);
    perStep.push(timer.stop());
  }
  return { walls, perStep };
}
