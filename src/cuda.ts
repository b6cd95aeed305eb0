/**
 * The CUDA addon (build-cuda/Release/kiln_cuda.node, built by `npm run build:cuda`): finding it,
 * asking it whether CUDA can be used, and registering each device's backend with the core addon.
 *
 * Load order: KILN_CUDA_BINARY (a path to a .node file; when set, it is the only place tried),
 * else build-cuda/Release/kiln_cuda.node under the package root, then
 * prebuilds/<platform>-<arch>/cuda/kiln_cuda.node. Nothing here throws: a
 * missing addon, driver, device or cuBLAS gives available = false and a reason that names it.
 * On a machine without a GPU this only loads the addon and asks the CUDA runtime for devices.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CudaStatus {
  available: boolean;
  reason: string;
  deviceCount: number;
  devices: { name: string; totalMemory: number }[];
  cublas: string | null;
  searched: string[];
  addonPath: string | null;
}

/** What kiln_cuda.node exports (native/cuda/addon.cc). */
export interface CudaAddon {
  init(): {
    ok: boolean;
    reason: string;
    deviceCount: number;
    devices: { name: string; totalMemory: number; computeCapability: string }[];
    cublas: string | null;
    searched: string[];
    driverVersion: number;
    runtimeVersion: number;
  };
  backend(index: number): unknown;
  setMatmulPrecision(precision: 'highest' | 'high' | 'medium'): void;
  getMatmulPrecision(): 'highest' | 'high';
  findCublas(): { ok: boolean; path: string | null; reason: string; searched: string[] };
}

/** The package root: one level above this file (src/cuda.ts or dist/cuda.js). */
const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Candidate paths for the addon, in the order they are tried. */
export function cudaAddonCandidates(): string[] {
  const out: string[] = [];
  const override = process.env.KILN_CUDA_BINARY;
  if (override) return [resolve(override)];
  out.push(join(packageRoot, 'build-cuda', 'Release', 'kiln_cuda.node'));
  // a sub-folder: node-gyp-build would take a .node beside the core addon's prebuild as the core
  out.push(join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`, 'cuda', 'kiln_cuda.node'));
  return out;
}

let loadedAddon: CudaAddon | null = null;

/** The loaded CUDA addon, or null before loadCuda() found one. */
export function cudaAddon(): CudaAddon | null {
  return loadedAddon;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function loadCuda(core: any): CudaStatus {
  const status: CudaStatus = {
    available: false,
    reason: '',
    deviceCount: 0,
    devices: [],
    cublas: null,
    searched: [],
    addonPath: null,
  };
  const candidates = cudaAddonCandidates();
  const require = createRequire(import.meta.url);
  const failures: string[] = [];
  let addon: CudaAddon | null = null;
  for (const path of candidates) {
    if (!existsSync(path)) {
      failures.push(`${path} (not found)`);
      continue;
    }
    try {
      addon = require(path) as CudaAddon;
      status.addonPath = path;
      break;
    } catch (e) {
      failures.push(`${path} (failed to load: ${message(e)})`);
    }
  }
  if (addon === null) {
    status.reason = `CUDA addon not built (looked in ${failures.join('; ')}); run \`npm run build:cuda\``;
    return status;
  }
  loadedAddon = addon;
  try {
    const r = addon.init();
    status.reason = r.reason;
    status.deviceCount = r.deviceCount;
    status.devices = r.devices.map((d) => ({ name: d.name, totalMemory: d.totalMemory }));
    status.cublas = r.cublas;
    status.searched = r.searched;
    if (!r.ok) return status;
  } catch (e) {
    status.reason = `CUDA addon failed to initialise: ${message(e)}`;
    return status;
  }
  // Device ids 1..8 (native/include/dtype.h: kMaxDevices = 9, 0 is the CPU).
  const problems: string[] = [];
  let registered = 0;
  for (let i = 0; i < Math.min(status.deviceCount, 8); i++) {
    try {
      core.registerCudaBackend(addon.backend(i), 1 + i);
      registered++;
    } catch (e) {
      problems.push(`cuda:${i}: ${message(e)}`);
    }
  }
  status.available = registered > 0;
  if (problems.length > 0) {
    status.reason = `${status.reason}; not registered: ${problems.join('; ')}`;
  }
  return status;
}
