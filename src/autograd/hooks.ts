/** The handle every register*Hook returns: remove() takes the hook out again. */
export class RemovableHandle {
  private removed = false;

  constructor(private readonly list: unknown[], private readonly hook: unknown) {}

  remove(): void {
    if (this.removed) return;
    this.removed = true;
    const i = this.list.indexOf(this.hook);
    if (i >= 0) this.list.splice(i, 1);
  }
}

/**
 * Post-accumulate-grad hooks that only read their leaf's gradient (never write the leaf, as DDP's
 * do): for linear, matmul and conv2d, backward runs them as soon as the weight gradient is final,
 * before it computes the input gradient that reads the weight (backward.ts). Other hooks run after
 * the whole node, so one may update the weight in place (an optimizer step in backward).
 */
export const gradOnlyHooks = new WeakSet<(t: any) => void>();
