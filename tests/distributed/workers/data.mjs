// Deterministic inputs shared by the ranks and by the tests that check them: small integers and
// halves, so every sum, average of 2 and max is exact in float32 and the tests compare exactly.
export function values(rank, n, seed = 0) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (((rank + 1) * 7919 + i * 104729 + seed * 31) % 17) - 8 + ((i + rank) % 2) * 0.5;
  return a;
}

export function ints(rank, n, seed = 0) {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = (((rank + 3) * 7919 + i * 104729 + seed * 131) % 2001) - 1000;
  return a;
}

/** The same summary the ranks send back for a long vector: its sum and a few elements. */
export function summary(a) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return [s, a[0], a[a.length >> 1], a[a.length - 1]];
}

/** A rank's report: a `RESULT <json>` line, or a file in RESULT_DIR (mpirun cuts long lines). */
export async function report(rank, out) {
  const dir = process.env.RESULT_DIR;
  if (!dir) return console.log('RESULT ' + JSON.stringify(out));
  const { writeFileSync } = await import('node:fs');
  writeFileSync(`${dir}/rank-${rank}.json`, JSON.stringify(out));
}
