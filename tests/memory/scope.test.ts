// kiln.memory() accounting: dispose frees at once, scopes free what they do not return, nested
// scopes hand returned tensors to the parent, async scopes work across await.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';

const live = () => {
  const m = kiln.memory();
  return { tensors: m.tensors, bytes: m.bytes, allocations: m.allocations };
};

describe('dispose and scope', () => {
  it('dispose() frees the bytes at once; a view keeps the storage until it is disposed too', () => {
    const m0 = live();
    const t = kiln.zeros([1000]);
    expect(live().bytes - m0.bytes).toBe(4000);
    expect(live().tensors - m0.tensors).toBe(1);
    const v = t.reshape([10, 100]);
    expect(live().tensors - m0.tensors).toBe(2);
    t.dispose();
    expect(live().bytes - m0.bytes).toBe(4000); // the view still uses the storage
    expect(Array.from(v.toTypedArray().slice(0, 2))).toEqual([0, 0]);
    v.dispose();
    expect(live()).toEqual(m0);
  });

  it('scope frees everything created inside that is not returned', () => {
    const m0 = live();
    const out = kiln.scope(() => {
      const a = kiln.randn([50, 20]);
      const b = a.matmul(a.t()).relu().sum(1);
      a.exp(); // garbage
      return b;
    });
    expect(live().tensors - m0.tensors).toBe(1);
    expect(live().bytes - m0.bytes).toBe(50 * 4);
    out.dispose();
    expect(live()).toEqual(m0);
  });

  it('tensors returned in arrays and plain objects survive', () => {
    const m0 = live();
    const r = kiln.scope(() => {
      const a = kiln.ones([3]);
      const b = kiln.ones([4]);
      kiln.ones([5]);
      return { list: [a], b };
    });
    expect(live().tensors - m0.tensors).toBe(2);
    expect(Array.from(r.list[0].toTypedArray())).toEqual([1, 1, 1]);
    r.list[0].dispose();
    r.b.dispose();
    expect(live()).toEqual(m0);
  });

  it('nested scopes hand returned tensors to the parent, which frees them if it drops them', () => {
    const m0 = live();
    let inner: kiln.Tensor | null = null;
    const kept = kiln.scope(() => {
      inner = kiln.scope(() => {
        kiln.zeros([7]);
        return kiln.ones([2]);
      });
      expect(inner.isDisposed).toBe(false);
      const k = kiln.scope(() => kiln.full([3], 2));
      return k;
    });
    expect(inner!.isDisposed).toBe(true); // the parent did not return it
    expect(kept.isDisposed).toBe(false);
    expect(Array.from(kept.toTypedArray())).toEqual([2, 2, 2]);
    kept.dispose();
    expect(live()).toEqual(m0);
  });

  it('keep() exempts a tensor from its scope', () => {
    const m0 = live();
    let k: kiln.Tensor | null = null;
    kiln.scope(() => {
      k = kiln.keep(kiln.ones([4]));
      kiln.ones([4]);
    });
    expect(k!.isDisposed).toBe(false);
    k!.dispose();
    expect(live()).toEqual(m0);
  });

  it('a throwing scope still frees its tensors', () => {
    const m0 = live();
    expect(() => kiln.scope(() => {
      kiln.ones([10]);
      throw new Error('boom');
    })).toThrow('boom');
    expect(live()).toEqual(m0);
  });

  it('async scope frees across await, including tensors made after the await', async () => {
    const m0 = live();
    const r = await kiln.scope(async () => {
      const a = kiln.ones([16]);
      await new Promise((res) => setTimeout(res, 2));
      const b = a.mul(3);
      await null;
      kiln.zeros([100]);
      return b;
    });
    expect(live().tensors - m0.tensors).toBe(1);
    expect(Array.from(r.toTypedArray().slice(0, 2))).toEqual([3, 3]);
    r.dispose();
    expect(live()).toEqual(m0);
  });

  it('backward inside a scope leaves only the leaves and their .grad', () => {
    const w = kiln.randn([8, 4], { requiresGrad: true });
    const m0 = live();
    kiln.scope(() => {
      w.matmul(kiln.randn([4, 3])).tanh().sum().backward();
    });
    // .grad is kept (persistent state), nothing else
    expect(live().tensors - m0.tensors).toBe(1);
    expect(live().bytes - m0.bytes).toBe(8 * 4 * 4);
    w.grad!.dispose();
    w.dispose();
  });
});

// What a scope sees in its return value: every tensor reachable through data, at any depth.
describe('scope keeps what the return value reaches', () => {
  class Pair {
    constructor(readonly a: kiln.Tensor, readonly b: kiln.Tensor) {}
  }
  class Hidden {
    #t: kiln.Tensor;
    constructor(t: kiln.Tensor) { this.#t = t; }
    get t(): kiln.Tensor { return this.#t; }
  }

  it('keeps tensors inside class instances, Maps (keys too), Sets, symbol and non-enumerable keys', () => {
    const m0 = live();
    const sym = Symbol('s');
    const r = kiln.scope(() => {
      const p = new Pair(kiln.full([2], 1), kiln.full([2], 2));
      const key = kiln.full([1], 3);
      const o: Record<string | symbol, unknown> = { map: new Map([[key, 'k']]), set: new Set([kiln.full([1], 4)]), [sym]: kiln.full([1], 5) };
      Object.defineProperty(o, 'quiet', { value: kiln.full([1], 6), enumerable: false });
      kiln.ones([100]); // garbage
      return { p, o, key };
    });
    expect(live().tensors - m0.tensors).toBe(6);
    expect(Array.from(r.p.b.toTypedArray())).toEqual([2, 2]);
    const setT = [...(r.o.set as Set<kiln.Tensor>)][0];
    expect(setT.item()).toBe(4);
    expect((r.o[sym] as kiln.Tensor).item()).toBe(5);
    expect(((r.o as { quiet?: kiln.Tensor }).quiet as kiln.Tensor).item()).toBe(6);
    for (const t of [r.p.a, r.p.b, r.key, setT, r.o[sym] as kiln.Tensor, (r.o as { quiet?: kiln.Tensor }).quiet!]) t.dispose();
    expect(live()).toEqual(m0);
  });

  it('keeps a tensor 200 levels deep and survives cycles (the old walk stopped at depth 4)', () => {
    const m0 = live();
    const r = kiln.scope(() => {
      const root: { next?: unknown; t?: kiln.Tensor; self?: unknown } = {};
      let cur = root;
      for (let i = 0; i < 200; i++) {
        const n: { next?: unknown; t?: kiln.Tensor; self?: unknown } = { self: root };
        cur.next = [n];
        cur = n;
      }
      cur.t = kiln.full([3], 7);
      return root;
    });
    let leaf = r;
    while (leaf.next) leaf = (leaf.next as (typeof r)[])[0];
    expect(live().tensors - m0.tensors).toBe(1);
    expect(Array.from(leaf.t!.toTypedArray())).toEqual([7, 7, 7]);
    leaf.t!.dispose();
    expect(live()).toEqual(m0);
  });

  it('does not search a returned tensor graph: saved intermediates are still freed', () => {
    const w = kiln.randn([4, 4], { requiresGrad: true });
    const m0 = live();
    const y = kiln.scope(() => w.exp().mul(2).sum());
    expect(live().tensors - m0.tensors).toBe(1); // only y: exp's output was not kept
    y.dispose();
    w.dispose();
  });

  it('does not see closures or #private fields: such tensors are freed (keep() them)', () => {
    const m0 = live();
    const h = kiln.scope(() => new Hidden(kiln.ones([2])));
    expect(h.t.isDisposed).toBe(true);
    const k = kiln.scope(() => new Hidden(kiln.keep(kiln.ones([2]))));
    expect(k.t.isDisposed).toBe(false);
    k.t.dispose();
    expect(live()).toEqual(m0);
  });

  it('a returned value whose property reads throw (a Proxy) is passed over; tensors beside it are kept', () => {
    const m0 = live();
    const trap = new Proxy({}, { get: () => { throw new Error('no property reads'); } });
    const r = kiln.scope(() => ({ trap, t: kiln.ones([3]), lost: new Proxy({ u: kiln.ones([2]) }, { ownKeys: () => { throw new Error('no keys'); } }) }));
    expect(r.t.isDisposed).toBe(false);
    r.t.dispose();
    expect(live()).toEqual(m0);
  });
});
