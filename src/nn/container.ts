import { check } from '../errors.js';
import { Module } from './module.js';

/** Runs its modules in order; children are named '0', '1', ... as in PyTorch. */
export class Sequential extends Module {
  readonly length: number;
  constructor(...modules: Module[]) {
    super();
    modules.forEach((m, i) => {
      check(m instanceof Module, () => `modules[${i}]: expected an nn.Module`);
      (this as any)[String(i)] = m;
    });
    this.length = modules.length;
  }
  at(i: number): Module {
    return (this as any)[String(i < 0 ? i + this.length : i)];
  }
  forward(x: any): any {
    for (let i = 0; i < this.length; i++) x = this.at(i).forward(x);
    return x;
  }
}

/** A list of modules registered as children '0', '1', ... */
export class ModuleList extends Module {
  length = 0;
  constructor(modules: Module[] = []) {
    super();
    for (const m of modules) this.append(m);
  }
  append(m: Module): this {
    check(m instanceof Module, 'module: expected an nn.Module');
    (this as any)[String(this.length++)] = m;
    return this;
  }
  at(i: number): Module {
    return (this as any)[String(i < 0 ? i + this.length : i)];
  }
  forward(): never {
    throw new Error('ModuleList has no forward; call its modules');
  }
}
