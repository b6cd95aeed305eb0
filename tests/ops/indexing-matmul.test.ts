// indexSelect / gather / scatterAdd / embedding, and matmul in all its PyTorch forms.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { expectMatches, gradcheck, toKiln } from '../helpers/gradcheck.js';
import * as ref from '../helpers/reference.js';
import { randArr } from '../helpers/reference.js';

const idx = (shape: number[], values: number[]) => kiln.tensor(Int32Array.from(values), { shape });

describe('index ops: forward and gradient', () => {
  it('indexSelect on each dim with repeated indices (gradients accumulate)', () => {
    const x = randArr([4, 3, 2], 1);
    const rows = [3, 0, 3, 1, 3];
    gradcheck((t) => t.indexSelect(0, idx([5], rows)), (r) => ref.indexSelect(r, 0, rows), [x]);
    gradcheck((t) => kiln.indexSelect(t, -2, idx([2], [2, 2])), (r) => ref.indexSelect(r, 1, [2, 2]), [x]);
    gradcheck((t) => t.indexSelect(2, idx([3], [1, 0, 1])), (r) => ref.indexSelect(r, 2, [1, 0, 1]), [x]);
  });

  it('indexSelect of an int32 tensor and with an empty index', () => {
    const t = kiln.tensor([[1, 2], [3, 4], [5, 6]], { dtype: 'int32' });
    const s = t.indexSelect(0, idx([2], [2, 0]));
    expect(s.dtype).toBe('int32');
    expect(s.toArray()).toEqual([[5, 6], [1, 2]]);
    expect([...t.indexSelect(0, idx([0], [])).shape]).toEqual([0, 2]);
  });

  it('gather along dims 0, 1 and -1 with repeated indices', () => {
    const x = randArr([3, 4], 2);
    const i1 = ref.arr([3, 2], [3, 3, 0, 1, 2, 0]);
    gradcheck((t) => t.gather(1, toKiln(i1, { dtype: 'int32' })), (r) => ref.gather(r, 1, i1), [x]);
    const i0 = ref.arr([2, 4], [2, 0, 1, 2, 2, 2, 0, 1]);
    gradcheck((t) => kiln.gather(t, 0, toKiln(i0, { dtype: 'int32' })), (r) => ref.gather(r, 0, i0), [x]);
    gradcheck((t) => t.gather(-1, toKiln(i1, { dtype: 'int32' })), (r) => ref.gather(r, 1, i1), [x]);
  });

  it('scatterAdd: gradient to the base and to src, duplicates add up', () => {
    const base = randArr([3, 4], 3);
    const src = randArr([3, 2], 4);
    const index = ref.arr([3, 2], [1, 1, 0, 3, 2, 2]);
    gradcheck((b, s) => b.scatterAdd(1, toKiln(index, { dtype: 'int32' }), s), (b, s) => ref.scatterAdd(b, 1, index, s), [base, src]);
    const i0 = ref.arr([2, 4], [0, 2, 2, 1, 0, 0, 1, 1]);
    gradcheck((b, s) => b.scatterAdd(0, toKiln(i0, { dtype: 'int32' }), s), (b, s) => ref.scatterAdd(b, 0, i0, s), [base, randArr([2, 4], 5)]);
  });

  it('F.embedding with indices of any shape', () => {
    const w = randArr([5, 3], 6);
    const ids = [[4, 0, 4], [1, 2, 0]];
    gradcheck(
      (t) => kiln.F.embedding(idx([2, 3], ids.flat()), t),
      (r) => ref.reshape(ref.indexSelect(r, 0, ids.flat()), [2, 3, 3]),
      [w],
    );
  });
});

describe('matmul', () => {
  const cases: [string, number[], number[]][] = [
    ['1-D · 1-D (dot)', [5], [5]],
    ['1-D @ 2-D', [4], [4, 3]],
    ['2-D @ 1-D', [3, 4], [4]],
    ['2-D @ 2-D', [3, 4], [4, 5]],
    ['batched 3-D @ 3-D', [2, 3, 4], [2, 4, 5]],
    ['batched @ 2-D (weight broadcast)', [2, 3, 4], [4, 5]],
    ['2-D @ batched', [3, 4], [2, 4, 5]],
    ['2-D @ two batch dims', [3, 4], [2, 3, 4, 5]],
    ['two batch dims @ 2-D', [2, 3, 3, 4], [4, 5]],
    ['batch of 1 @ batched (the one matrix shared)', [1, 3, 4], [2, 4, 5]],
    ['batched @ batch of 1', [2, 3, 3, 4], [1, 1, 4, 5]],
    ['broadcast batch dims [2,1] x [3]', [2, 1, 3, 4], [3, 4, 2]],
    ['1-D @ batched', [4], [2, 4, 3]],
    ['batched @ 1-D', [2, 3, 4], [4]],
    ['K = 1 outer product', [3, 1], [1, 4]],
  ];
  for (const [name, sa, sb] of cases) {
    it(name, () => {
      gradcheck((a, b) => a.matmul(b), ref.matmul, [randArr(sa, sa.length + 10), randArr(sb, sb.length + 20)]);
    });
  }

  it('transposed views as operands (no copy needed by the caller)', () => {
    const a = randArr([4, 3], 30);
    const b = randArr([5, 4], 31);
    gradcheck((p, q) => p.t().matmul(q.t()), (p, q) => ref.matmul(ref.transpose(p, 0, 1), ref.transpose(q, 0, 1)), [a, b]);
    gradcheck((p, q) => kiln.matmul(p.t(), q.t().t().t()),
      (p, q) => ref.matmul(ref.transpose(p, 0, 1), ref.transpose(q, 0, 1)), [a, b]);
    const c = randArr([2, 4, 3], 32);
    const d = randArr([2, 5, 4], 33);
    gradcheck((p, q) => p.transpose(1, 2).matmul(q.transpose(-1, -2)),
      (p, q) => ref.matmul(ref.transpose(p, 1, 2), ref.transpose(q, 1, 2)), [c, d]);
  });

  it('sliced (strided) operands', () => {
    const a = randArr([3, 8], 34);
    const b = randArr([4, 5], 35);
    gradcheck((p, q) => p.slice(1, 0, 8, 2).matmul(q), (p, q) => ref.matmul(ref.slice(p, 1, 0, 8, 2), q), [a, b]);
  });

  it('mm and F.linear', () => {
    gradcheck((a, b) => a.mm(b), ref.matmul, [randArr([3, 4], 36), randArr([4, 2], 37)]);
    const x = randArr([5, 4], 38);
    const w = randArr([3, 4], 39);
    const bias = randArr([3], 40);
    gradcheck((p, q, r) => kiln.F.linear(p, q, r), (p, q, r) => ref.add(ref.matmul(p, ref.transpose(q, 0, 1)), r), [x, w, bias]);
  });

  it('a larger product stays within float32 accuracy', () => {
    const a = randArr([64, 96], 41);
    const b = randArr([96, 48], 42);
    expectMatches(toKiln(a).matmul(toKiln(b)), ref.matmul(a, b), { rtol: 1e-5, atol: 1e-4 });
  });

  it('empty dims: [0, 3] @ [3, 4] is [0, 4]; [2, 0] @ [0, 3] is zeros', () => {
    expect([...kiln.zeros([0, 3]).matmul(kiln.zeros([3, 4])).shape]).toEqual([0, 4]);
    const z = kiln.zeros([2, 0]).matmul(kiln.zeros([0, 3]));
    expect(z.toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
  });
});
