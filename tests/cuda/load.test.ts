// The CUDA addon loads everywhere and says exactly why CUDA is not in use. On a machine without a
// GPU (CI, the CPU build machine) it must report the real cause: the addon not built, no driver,
// or no device; on a GPU machine it must register its backends or name what is missing (cuBLAS).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cudaAddonCandidates, loadCuda } from '../../src/cuda.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const require = createRequire(import.meta.url);
const core = require('../../build/Release/kiln.node');
core.setErrorClass(class KilnError extends Error {});

const addonPath = join(root, 'build-cuda', 'Release', 'kiln_cuda.node');
const addonBuilt = existsSync(addonPath);
// A Linux NVIDIA driver exposes /dev/nvidia0 (or /dev/nvidiactl) and libcuda.so.1.
const gpuNodes = existsSync('/dev/nvidia0') || existsSync('/dev/nvidiactl');

describe('CUDA loader', () => {
  it('never throws and reports the real cause when CUDA is not usable', () => {
    const s = loadCuda(core);
    expect(typeof s.reason).toBe('string');
    expect(s.reason.length).toBeGreaterThan(10);
    if (!addonBuilt && !process.env.KILN_CUDA_BINARY) {
      expect(s.available).toBe(false);
      expect(s.addonPath).toBeNull();
      expect(s.reason).toMatch(/CUDA addon not built/);
      expect(s.reason).toContain(addonPath);
      return;
    }
    expect(s.addonPath).not.toBeNull();
    if (!gpuNodes) {
      // No driver device nodes: the runtime cannot see a GPU, and the reason must say which of
      // "no driver" / "no device" it met, with the CUDA error name.
      expect(s.available).toBe(false);
      expect(s.deviceCount).toBe(0);
      expect(s.devices).toEqual([]);
      expect(s.reason).toMatch(/no CUDA driver found|no CUDA device found|driver is too old/);
      expect(s.reason).toMatch(/cudaError\w+|returned 0/);
    } else if (s.available) {
      expect(s.deviceCount).toBeGreaterThan(0);
      expect(s.devices[0]!.totalMemory).toBeGreaterThan(0);
      expect(s.cublas).toMatch(/libcublasLt/);
    } else {
      // A GPU machine where CUDA is still unusable must say why (cuBLAS missing names the places).
      expect(s.reason).toMatch(/cuBLASLt not found|driver|device|compute capability/);
    }
  });

  it('honours KILN_CUDA_BINARY as the only place to look', () => {
    const saved = process.env.KILN_CUDA_BINARY;
    process.env.KILN_CUDA_BINARY = join(root, 'no-such-dir', 'kiln_cuda.node');
    try {
      expect(cudaAddonCandidates()).toEqual([join(root, 'no-such-dir', 'kiln_cuda.node')]);
      const s = loadCuda(core);
      expect(s.available).toBe(false);
      expect(s.reason).toMatch(/CUDA addon not built/);
      expect(s.reason).toContain('no-such-dir');
    } finally {
      if (saved === undefined) delete process.env.KILN_CUDA_BINARY;
      else process.env.KILN_CUDA_BINARY = saved;
    }
  });

  it.skipIf(!addonBuilt)('searches for cuBLAS in the documented order', () => {
    const addon = require(addonPath);
    const saved = process.env.KILN_CUBLAS_PATH;
    process.env.KILN_CUBLAS_PATH = '/no-such-cublas-dir';
    try {
      const r = addon.findCublas();
      expect(r.searched[0]).toMatch(/^\/no-such-cublas-dir\/libcublasLt\.so\.13 /);
      const i13 = r.searched.findIndex((p: string) => p.startsWith('libcublasLt.so.13 '));
      const i12 = r.searched.findIndex((p: string) => p.startsWith('libcublasLt.so.12 '));
      if (!r.ok) {
        expect(i13).toBeGreaterThan(0);
        expect(i12).toBeGreaterThan(i13);
        expect(r.reason).toMatch(/cuBLASLt not found \(looked in: /);
        expect(r.reason).toContain('/no-such-cublas-dir/libcublasLt.so.13');
      } else {
        expect(r.path).toMatch(/libcublasLt/);
      }
    } finally {
      if (saved === undefined) delete process.env.KILN_CUBLAS_PATH;
      else process.env.KILN_CUBLAS_PATH = saved;
    }
  });

  it.skipIf(!addonBuilt)('switches matmul precision with PyTorch names', () => {
    const addon = require(addonPath);
    expect(addon.getMatmulPrecision()).toBe('highest');
    addon.setMatmulPrecision('high');
    expect(addon.getMatmulPrecision()).toBe('high');
    addon.setMatmulPrecision('highest');
    expect(addon.getMatmulPrecision()).toBe('highest');
    expect(() => addon.setMatmulPrecision('fast')).toThrow(/precision/);
  });
});
