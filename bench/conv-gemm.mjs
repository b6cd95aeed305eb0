// The batched GEMMs of convolutions (one weight shared by every image: GEMM stride 0 for A) on two
// builds of the addon side by side, alternating rounds, median of 7 rounds of 20 calls each. For
// kernel changes: build the old commit into a worktree and pass its kiln.node first.
//
//   KILN_NUM_THREADS=1 node bench/conv-gemm.mjs OLD/build/Release/kiln.node build/Release/kiln.node
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const require = createRequire(import.meta.url);
const paths = process.argv.slice(2);
if (paths.length !== 2) throw new Error('usage: node bench/conv-gemm.mjs OLD.node NEW.node');
const addons = paths.map((p) => {
  const m = require(resolve(p));
  m.setErrorClass(class KilnError extends Error {});
  return m;
});

// [name, transA, M, N (= OH*OW), K, images]: y[n] = W x col[n], dcol[n] = W^T x dy[n]
const SHAPES = [
  ['W5 conv1 forward, W[32,9] x col[n][9,784]', false, 32, 784, 9, 64],
  ['W5 conv2 forward, W[64,288] x col[n][288,196]', false, 64, 196, 288, 64],
  ['W5 conv2 input grad, W^T[288,64] x dy[n][64,196]', true, 288, 196, 64, 64],
  ['GAN critic conv2 forward, W[128,1024] x col[n][1024,49]', false, 128, 49, 1024, 64],
  ['GAN critic conv2 input grad, W^T[1024,128] x dy[n][128,49]', true, 1024, 49, 128, 64],
  ['GAN generator ConvTranspose2d 1, W^T[2048,256] x x[n][256,49]', true, 2048, 49, 256, 64],
];

function gemmCall(m, [, transA, M, N, K, images]) {
  const fill = (n, f) => Float32Array.from({ length: n }, (_, i) => f(i));
  const a = m.alloc(0, 0, M * K), b = m.alloc(0, 0, K * N * images), c = m.alloc(0, 0, M * N * images);
  m.write(a, 0, fill(M * K, Math.sin));
  m.write(b, 0, fill(K * N * images, Math.cos));
  return () => m.gemm(transA, false, M, N, K, 1, a, 0, transA ? M : K, 0, b, 0, N, K * N, 0, c, 0, N, M * N, images);
}

const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
console.log('| GEMM | old ms | new ms | old GFLOP/s | new GFLOP/s | new / old |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const shape of SHAPES) {
  const calls = addons.map((m) => gemmCall(m, shape));
  const times = [[], []];
  for (let round = 0; round < 7; round++) {
    for (const side of round % 2 ? [1, 0] : [0, 1]) {
      calls[side]();
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < 20; i++) calls[side]();
      times[side].push(Number(process.hrtime.bigint() - t0) / 1e6 / 20);
    }
  }
  const [, , M, N, K, images] = shape;
  const gflop = (2 * M * N * K * images) / 1e6;
  const [old, now] = times.map(median);
  console.log(`| ${shape[0]} | ${old.toFixed(2)} | ${now.toFixed(2)} | ${(gflop / old).toFixed(0)} | ${(gflop / now).toFixed(0)} | ${(now / old).toFixed(2)} |`);
}
