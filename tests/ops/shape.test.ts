// Shape ops and views: values and gradients, storage sharing, copies when the layout needs one.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { expectMatches, gradcheck, toKiln } from '../helpers/gradcheck.js';
import * as ref from '../helpers/reference.js';
import { randArr } from '../helpers/reference.js';

const x234 = () => randArr([2, 3, 4], 77);

describe('shape ops: forward and gradient', () => {
  it('reshape / view with -1', () => {
    gradcheck((t) => t.reshape([4, -1]), (r) => ref.reshape(r, [4, 6]), [x234()]);
    gradcheck((t) => t.view([24]), (r) => ref.reshape(r, [24]), [x234()]);
    gradcheck((t) => kiln.reshape(t, [-1, 2, 2]), (r) => ref.reshape(r, [6, 2, 2]), [x234()]);
  });

  it('flatten (default, start/end dims, 0-d)', () => {
    gradcheck((t) => t.flatten(), (r) => ref.reshape(r, [24]), [x234()]);
    gradcheck((t) => t.flatten(1), (r) => ref.reshape(r, [2, 12]), [x234()]);
    gradcheck((t) => kiln.flatten(t, 0, 1), (r) => ref.reshape(r, [6, 4]), [x234()]);
    expect([...kiln.tensor(3).flatten().shape]).toEqual([1]);
  });

  it('transpose / t / permute (incl. negative dims)', () => {
    gradcheck((t) => t.transpose(0, 2), (r) => ref.transpose(r, 0, 2), [x234()]);
    gradcheck((t) => kiln.transpose(t, -1, -2), (r) => ref.transpose(r, -1, -2), [x234()]);
    gradcheck((t) => t.permute([2, 0, 1]), (r) => ref.permute(r, [2, 0, 1]), [x234()]);
    gradcheck((t) => kiln.permute(t, [-1, 1, 0]), (r) => ref.permute(r, [2, 1, 0]), [x234()]);
    gradcheck((t) => t.t(), (r) => ref.transpose(r, 0, 1), [randArr([3, 5], 1)]);
    gradcheck((t) => t.t(), (r) => r, [randArr([5], 2)]);
  });

  it('expand (incl. new leading dims and -1)', () => {
    gradcheck((t) => t.expand([2, 3, 4]), (r) => ref.expand(r, [2, 3, 4]), [randArr([3, 1], 3)]);
    gradcheck((t) => t.expand([4, -1, 5]), (r) => ref.expand(r, [4, 3, 5]), [randArr([3, 1], 4)]);
  });

  it('squeeze / unsqueeze', () => {
    const x = randArr([1, 3, 1, 2], 5);
    gradcheck((t) => t.squeeze(), (r) => ref.reshape(r, [3, 2]), [x]);
    gradcheck((t) => t.squeeze(2), (r) => ref.reshape(r, [1, 3, 2]), [x]);
    gradcheck((t) => kiln.squeeze(t, 1), (r) => r, [x]); // not size 1: unchanged
    gradcheck((t) => t.unsqueeze(0), (r) => ref.reshape(r, [1, 1, 3, 1, 2]), [x]);
    gradcheck((t) => kiln.unsqueeze(t, -1), (r) => ref.reshape(r, [1, 3, 1, 2, 1]), [x]);
  });

  it('narrow / slice with step / select (incl. negative indices)', () => {
    gradcheck((t) => t.narrow(2, 1, 2), (r) => ref.slice(r, 2, 1, 3), [x234()]);
    gradcheck((t) => t.narrow(-1, -3, 3), (r) => ref.slice(r, 2, 1, 4), [x234()]);
    const y = randArr([3, 10], 6);
    gradcheck((t) => t.slice(1, 1, 9, 3), (r) => ref.slice(r, 1, 1, 9, 3), [y]);
    gradcheck((t) => t.slice(1, -7, undefined, 2), (r) => ref.slice(r, 1, -7, 10, 2), [y]);
    gradcheck((t) => t.slice(0, 1), (r) => ref.slice(r, 0, 1, 3), [y]);
    gradcheck((t) => t.slice(1, 4, 100, 4), (r) => ref.slice(r, 1, 4, 10, 4), [y]);
    gradcheck((t) => t.select(1, 2), (r) => ref.reshape(ref.slice(r, 1, 2, 3), [2, 4]), [x234()]);
    gradcheck((t) => t.select(-1, -1), (r) => ref.reshape(ref.slice(r, 2, 3, 4), [2, 3]), [x234()]);
    expect([...kiln.zeros([3, 4]).slice(1, 3, 2).shape]).toEqual([3, 0]);
  });

  it('contiguous and clone of a transposed view', () => {
    const x = randArr([3, 4], 8);
    gradcheck((t) => t.t().contiguous(), (r) => ref.transpose(r, 0, 1), [x]);
    gradcheck((t) => t.t().clone(), (r) => ref.transpose(r, 0, 1), [x]);
    expect(toKiln(x).t().contiguous().isContiguous()).toBe(true);
  });

  it('cat along each dim (incl. negative and unequal sizes)', () => {
    const a = randArr([2, 3], 9);
    const b = randArr([2, 1], 10);
    const c = randArr([2, 4], 11);
    gradcheck((p, q, r) => kiln.cat([p, q, r], 1), (p, q, r) => ref.cat([p, q, r], 1), [a, b, c]);
    gradcheck((p, q) => kiln.cat([p, q], -2), (p, q) => ref.cat([p, q], 0), [a, randArr([4, 3], 12)]);
    gradcheck((p, q) => kiln.cat([p, q], 0), (p, q) => ref.cat([p, q], 0), [a, ref.arr([0, 3], [])]);
  });

  it('stack along a new dim (first, middle, last)', () => {
    const a = randArr([2, 3], 13);
    const b = randArr([2, 3], 14);
    for (const d of [0, 1, 2, -1]) gradcheck((p, q) => kiln.stack([p, q], d), (p, q) => ref.stack([p, q], d), [a, b]);
  });

  it('cat / stack of int32 tensors stay int32 and exact', () => {
    const a = kiln.tensor([[1, 2]], { dtype: 'int32' });
    const b = kiln.tensor([[16777217, -3]], { dtype: 'int32' });
    const c = kiln.cat([a, b], 0);
    expect(c.dtype).toBe('int32');
    expect(c.toArray()).toEqual([[1, 2], [16777217, -3]]);
    const s = kiln.stack([a, b], 2);
    expect(s.dtype).toBe('int32');
    expect(s.toArray()).toEqual([[[1, 16777217], [2, -3]]]);
  });

  it('cat promotes int32 + float32 to float32', () => {
    const c = kiln.cat([kiln.tensor([1, 2], { dtype: 'int32' }), kiln.tensor([0.5])]);
    expect(c.dtype).toBe('float32');
    expect(c.toArray()).toEqual([1, 2, 0.5]);
  });
});

describe('views share storage', () => {
  const cases: [string, (t: kiln.Tensor) => kiln.Tensor][] = [
    ['reshape', (t) => t.reshape([2, 6])],
    ['view', (t) => t.view([12])],
    ['transpose', (t) => t.transpose(0, 1)],
    ['permute', (t) => t.permute([1, 0])],
    ['narrow', (t) => t.narrow(1, 1, 2)],
    ['slice with step', (t) => t.slice(1, 0, 4, 2)],
    ['select', (t) => t.select(0, 1)],
    ['unsqueeze', (t) => t.unsqueeze(0)],
    ['detach', (t) => t.detach()],
  ];
  for (const [name, f] of cases) {
    it(`${name}: writing the base via copy_ under noGrad shows through the view`, () => {
      const base = kiln.zeros([3, 4], { requiresGrad: true });
      const v = f(base);
      expect(v.storage).toBe(base.storage);
      const src = ref.arr([3, 4], (i) => i + 1);
      kiln.noGrad(() => base.copy_(toKiln(src)));
      const expected = f(toKiln(src)).toTypedArray();
      expect(Array.from(v.toTypedArray())).toEqual(Array.from(expected));
    });
  }

  it('writing through a contiguous view changes the base', () => {
    const base = kiln.zeros([2, 3]);
    base.reshape([6]).narrow(0, 2, 2).fill_(7);
    expect(base.toArray()).toEqual([[0, 0, 7], [7, 0, 0]]);
  });

  it('reshape of a transpose forces a copy (own storage, right values)', () => {
    const x = randArr([3, 4], 20);
    const t = toKiln(x);
    const r = t.t().reshape([12]);
    expect(r.storage).not.toBe(t.storage);
    expectMatches(r, ref.reshape(ref.transpose(x, 0, 1), [12]), { atol: 0 });
    // and writing the base no longer shows through
    t.fill_(0);
    expectMatches(r, ref.reshape(ref.transpose(x, 0, 1), [12]), { atol: 0 });
  });

  it('reshape that only splits a dim of a transposed view stays a view', () => {
    const t = kiln.arange(0, 24).float().reshape([4, 6]);
    const v = t.t().reshape([2, 3, 4]);
    expect(v.storage).toBe(t.storage);
    expectMatches(v, ref.reshape(ref.transpose(ref.arr([4, 6], (i) => i), 0, 1), [2, 3, 4]), { atol: 0 });
  });
});
