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
