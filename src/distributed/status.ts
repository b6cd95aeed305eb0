/**
 * Which communication engines this machine can use, and why not (as torch.distributed's
 * is_gloo_available / is_mpi_available / is_nccl_available, with the reason). Nothing is
 * initialised: the libraries are only opened.
 */
import { distAddon, glooAddon } from './native.js';

export interface EngineStatus {
  available: boolean;
  /** Why not, naming the package to install; '' when available. */
  reason: string;
  /** The library opened (a path or soname), or Gloo's version. */
  library: string;
}

function probe(fn: () => EngineStatus): EngineStatus {
  try {
    return fn();
  } catch (e) {
    return { available: false, reason: (e as Error).message, library: '' };
  }
}

export function backendStatus(): { gloo: EngineStatus; mpi: EngineStatus; nccl: EngineStatus & { version: number } } {
  const gloo = probe(() => ({ available: true, reason: '', library: `gloo ${glooAddon().version}` }));
  const mpi = probe(() => {
    const s = distAddon().mpiProbe();
    return { available: s.ok, reason: s.reason, library: s.library };
  });
  let version = 0;
  const nccl = probe(() => {
    const s = distAddon().ncclProbe();
    version = s.version;
    return { available: s.ok, reason: s.reason, library: s.library };
  });
  return { gloo, mpi, nccl: { ...nccl, version } };
}

export const isGlooAvailable = (): boolean => backendStatus().gloo.available;
export const isMpiAvailable = (): boolean => backendStatus().mpi.available;
export const isNcclAvailable = (): boolean => backendStatus().nccl.available;
