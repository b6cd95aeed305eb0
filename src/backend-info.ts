/** What Kiln runs on: the CPU kernel table and, when present, CUDA (with the reason if not). */
import { type CudaStatus, cudaAddon, loadCuda } from './cuda.js';
import { KilnError } from './errors.js';
import { native } from './native.js';

let cudaStatus: CudaStatus | null = null;

/** Loads the CUDA addon once, on first need; never throws. */
export function cudaInfo(): CudaStatus {
  cudaStatus ??= loadCuda(native);
  return cudaStatus;
}

export interface BackendInfo {
  cpu: { isa: string; detectedIsa: string; reason: string; threads: number; bf16: 'avx512_bf16' | 'emulated' };
  cuda: CudaStatus;
}

export function backendInfo(): BackendInfo {
  return { cpu: native.cpuInfo(), cuda: cudaInfo() };
}

/** Throws a KilnError with the reason when a CUDA device is asked for and not usable. */
export function requireCuda(device: string): void {
  const s = cudaInfo();
  if (!s.available) throw new KilnError(`device: ${device} was requested but CUDA is not available: ${s.reason}`);
  const index = Number(device.slice(5));
  if (!(index < s.deviceCount)) {
    throw new KilnError(`device: ${device} was requested but only ${s.deviceCount} CUDA device(s) exist`);
  }
}

export const cuda = {
  isAvailable: (): boolean => cudaInfo().available,
  deviceCount: (): number => (cudaInfo().available ? cudaInfo().deviceCount : 0),
};

export type MatmulPrecision = 'highest' | 'high' | 'medium';
let matmulPrecision: MatmulPrecision = 'highest';

/**
 * PyTorch's setting: 'highest' keeps float32 matmuls in full float32; 'high' and 'medium' let
 * CUDA use TF32 tensor cores. The CPU backend always computes in float32.
 */
export function setMatmulPrecision(precision: MatmulPrecision): void {
  if (precision !== 'highest' && precision !== 'high' && precision !== 'medium') {
    throw new KilnError(`precision: expected 'highest', 'high' or 'medium', got ${String(precision)}`);
  }
  matmulPrecision = precision;
  if (cudaInfo().available) cudaAddon()?.setMatmulPrecision(precision);
}

export function getMatmulPrecision(): MatmulPrecision {
  return matmulPrecision;
}
