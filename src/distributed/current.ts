/**
 * This process's place in the default group, kept apart from group.ts so that what only needs
 * it (data.DistributedSampler's defaults) does not load the process-group machinery.
 */
let current: { rank: number; size: number } | null = null;

/** @internal set by initProcessGroup, cleared by destroyProcessGroup */
export function setCurrentWorld(w: { rank: number; size: number } | null): void {
  current = w;
}

export function currentWorld(): { rank: number; size: number } | null {
  return current;
}
