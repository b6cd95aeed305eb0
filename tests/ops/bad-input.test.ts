// Every public entry point rejects bad input with a KilnError whose message names the argument
// and the expectation — never a TypeError from deep inside, never a native crash.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { crossEntropyRows } from '../../src/ops/nn.js';

const ints = (v: number[]) => kiln.tensor(Int32Array.from(v), { shape: [v.length] });

/** fn throws a KilnError whose message matches every pattern. */
function rejects(fn: () => unknown, ...patterns: RegExp[]): void {
  let err: unknown = null;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a throw').toBeInstanceOf(kiln.KilnError);
  for (const p of patterns) expect((err as Error).message).toMatch(p);
}

describe('shape mismatches', () => {
  it('add / mul / where name both shapes', () => {
    rejects(() => kiln.zeros([2, 3]).add(kiln.zeros([3, 2])), /\[2, 3\]/, /\[3, 2\]/, /broadcast/);
    rejects(() => kiln.zeros([4]).mul(kiln.zeros([5])), /\[4\]/, /\[5\]/);
    rejects(() => kiln.where(kiln.ones([3]), kiln.zeros([4]), 0), /\[3\]/, /\[4\]/);
  });
  it('matmul names both shapes', () => {
    rejects(() => kiln.zeros([2, 3]).matmul(kiln.zeros([4, 5])), /matmul/, /\[2, 3\]/, /\[4, 5\]/);
    rejects(() => kiln.zeros([3]).matmul(kiln.zeros([4])), /matmul/, /3/, /4/);
    rejects(() => kiln.zeros([2, 2, 3]).matmul(kiln.zeros([3, 3, 1])), /batch/);
    rejects(() => kiln.zeros([3]).mm(kiln.zeros([3, 1])), /mm/, /2-D/);
  });
  it('cat / stack name the offending tensor', () => {
    rejects(() => kiln.cat([kiln.zeros([2, 3]), kiln.zeros([2, 4])], 0), /tensors\[1\]/, /\[2, 4\]/);
    rejects(() => kiln.cat([]), /tensors/, /non-empty/);
    rejects(() => kiln.stack([kiln.zeros([2]), kiln.zeros([3])]), /tensors\[1\]/, /same shape/);
  });
  it('conv2d names input/weight/bias', () => {
    rejects(() => kiln.F.conv2d(kiln.zeros([1, 3, 5, 5]), kiln.zeros([2, 4, 3, 3])), /weight/, /4/, /3/);
    rejects(() => kiln.F.conv2d(kiln.zeros([3, 5, 5]), kiln.zeros([2, 3, 3, 3])), /input/, /\[N, C, H, W\]/);
    rejects(() => kiln.F.conv2d(kiln.zeros([1, 3, 5, 5]), kiln.zeros([2, 3, 3, 3]), kiln.zeros([3])), /bias/, /\[2\]/);
    rejects(() => kiln.F.conv2d(kiln.zeros([1, 1, 2, 2]), kiln.zeros([1, 1, 3, 3])), /input height/);
    rejects(() => kiln.F.conv2d(kiln.zeros([1, 1, 5, 5]), kiln.zeros([1, 1, 3, 3]), null, { stride: 0 }), /stride/);
  });
  it('reshape / view / expand / permute', () => {
    rejects(() => kiln.zeros([2, 3]).reshape([4, 2]), /shape/, /\[4, 2\]/, /6/);
    rejects(() => kiln.zeros([2, 3]).reshape([-1, -1]), /-1/);
    rejects(() => kiln.zeros([2, 3]).expand([4, 3]), /expand/, /\[2, 3\]/);
    rejects(() => kiln.zeros([2, 3]).permute([0]), /dims/);
    rejects(() => kiln.zeros([2, 3]).permute([0, 0]), /dims/, /repeat/);
  });
  it('F.linear / layerNorm / batchNorm / embedding', () => {
    rejects(() => kiln.F.linear(kiln.zeros([2, 3]), kiln.zeros([4, 5])), /input/, /5/);
    rejects(() => kiln.F.layerNorm(kiln.zeros([2, 3]), [4]), /normalizedShape/);
    rejects(() => kiln.F.batchNorm(kiln.zeros([1, 3]), { training: true }), /input/, /more than one/);
    rejects(() => kiln.F.batchNorm(kiln.zeros([2, 3])), /runningMean/);
    rejects(() => kiln.F.embedding(kiln.zeros([2]), kiln.zeros([4, 3])), /indices/, /int32/);
  });
  it('backward with a wrong gradient shape; copy_ with a wrong source shape', () => {
    const x = kiln.ones([2], { requiresGrad: true });
    rejects(() => x.mul(2).backward(kiln.ones([3])), /gradient/, /\[2\]/, /\[3\]/);
    rejects(() => kiln.zeros([2]).copy_(kiln.zeros([3])), /src/, /\[2\]/, /\[3\]/);
    rejects(() => kiln.zeros([2]).add_(kiln.zeros([2, 2])), /\[2, 2\]/);
  });
});

describe('wrong dtypes', () => {
  const i = () => kiln.tensor([1, 2], { dtype: 'int32' });
  it('int32 into float-only ops', () => {
    rejects(() => i().sigmoid(), /float32/, /int32/);
    rejects(() => i().exp(), /float32/);
    rejects(() => i().softmax(), /float32/);
    rejects(() => i().matmul(kiln.zeros([2])), /input/, /float32/);
    rejects(() => kiln.F.conv2d(kiln.zeros([1, 1, 3, 3], { dtype: 'int32' }), kiln.zeros([1, 1, 1, 1])), /input/, /float32/);
    rejects(() => i().mean(), /float32/);
  });
  it('float target into the class-index cross-entropy path', () => {
    rejects(() => crossEntropyRows(kiln.zeros([2, 3]), kiln.zeros([2])), /target/, /int32/);
    rejects(() => crossEntropyRows(kiln.zeros([2, 3]), ints([0])), /target/, /\[2\]/);
    rejects(() => crossEntropyRows(kiln.zeros([3]), ints([0])), /input/, /\[batch, classes\]/);
  });
  it('float index tensors', () => {
    rejects(() => kiln.zeros([3]).indexSelect(0, kiln.zeros([1])), /index/, /int32/);
    rejects(() => kiln.zeros([3]).gather(0, kiln.zeros([1])), /index/, /int32/);
    rejects(() => kiln.zeros([3]).scatterAdd(0, kiln.zeros([1]), kiln.zeros([1])), /index/, /int32/);
  });
  it('unknown dtype names', () => {
    rejects(() => kiln.zeros([2], { dtype: 'float16' as any }), /dtype/, /float32/);
    rejects(() => kiln.zeros([2]).to('float16' as any), /float16|device/);
  });
});

describe('out-of-range indices', () => {
  it('indexSelect / gather / scatterAdd', () => {
    rejects(() => kiln.zeros([3, 2]).indexSelect(0, ints([0, 3])), /index/, /3/);
    rejects(() => kiln.zeros([3, 2]).indexSelect(0, ints([-1])), /index/);
    rejects(() => kiln.zeros([3]).gather(0, ints([5])), /index/, /5/);
    rejects(() => kiln.zeros([3]).scatterAdd(0, ints([3]), kiln.ones([1])), /index/);
    rejects(() => kiln.F.embedding(ints([4]), kiln.zeros([4, 2])), /ind/, /4/);
  });
  it('select / narrow / slice / dims', () => {
    rejects(() => kiln.zeros([3, 2]).select(0, 3), /index/, /3/, /size 3/);
    rejects(() => kiln.zeros([3, 2]).select(1, -3), /index/);
    rejects(() => kiln.zeros([3, 2]).narrow(0, 2, 2), /narrow/, /start 2/, /length 2/);
    rejects(() => kiln.zeros([3, 2]).slice(0, 0, 2, 0), /step/, /positive/);
    rejects(() => kiln.zeros([3, 2]).sum(2), /dim/, /out of range/);
    rejects(() => kiln.zeros([3, 2]).softmax(-3), /dim/);
    rejects(() => kiln.zeros([3, 2]).transpose(0, 5), /dim1/);
  });
  it('crossEntropy target outside [0, C) (and not ignoreIndex)', () => {
    rejects(() => crossEntropyRows(kiln.zeros([2, 3]), ints([0, 3])), /target/, /3/);
    rejects(() => crossEntropyRows(kiln.zeros([2, 3]), ints([0, -1])), /target/);
  });
});

describe('disposed tensors and non-finite scalars', () => {
  it('a disposed tensor as self or as argument', () => {
    const d = kiln.ones([2]);
    d.dispose();
    rejects(() => d.toArray(), /disposed/);
    rejects(() => d.add(1), /disposed/);
    rejects(() => kiln.ones([2]).add(d), /disposed/);
    rejects(() => kiln.cat([kiln.ones([2]), d]), /disposed/);
    rejects(() => d.reshape([2, 1]), /disposed/);
    rejects(() => d.backward(), /disposed/);
  });
  it('NaN where a number must be meaningful', () => {
    rejects(() => kiln.ones([2]).clamp(NaN, 1), /clamp/, /NaN/);
    rejects(() => kiln.ones([2]).clamp(0, NaN), /clamp/, /NaN/);
    rejects(() => kiln.ones([2]).clamp(2, 1), /min/, /max/);
    rejects(() => kiln.F.dropout(kiln.ones([2]), NaN), /p/, /finite/);
    rejects(() => kiln.F.dropout(kiln.ones([2]), 1.5), /p/, /\[0, 1\]/);
    rejects(() => kiln.ones([2]).mul(NaN), /other/, /finite/);
    rejects(() => kiln.ones([2]).pow(Infinity), /exponent/);
    rejects(() => kiln.ones([2]).leakyRelu(NaN), /negativeSlope/);
    rejects(() => crossEntropyRows(kiln.zeros([2, 3]), ints([0, 1]), -100, NaN), /labelSmoothing/);
  });
});

describe('wrong argument types are KilnErrors, not crashes', () => {
  const x = () => kiln.ones([2]);
  const s = 'a' as any;
  it('a string where a tensor is expected', () => {
    rejects(() => x().add(s), /other/, /Tensor/);
    rejects(() => x().mul(s), /other/, /Tensor/);
    rejects(() => x().sub(s), /other/);
    rejects(() => x().div(s), /other/);
    rejects(() => x().pow(s), /exponent|other/);
    rejects(() => x().eq(s), /other/);
    rejects(() => x().maximum(s), /other/);
    rejects(() => x().matmul(s), /other/, /Tensor/);
    rejects(() => kiln.matmul(s, x()), /input/, /Tensor/);
    rejects(() => kiln.cat([x(), s]), /tensors/);
    rejects(() => kiln.stack([s]), /tensors/);
    rejects(() => kiln.where(s, 1, 2), /condition/);
    rejects(() => kiln.where(x(), s, 2), /Tensor|number/);
    rejects(() => x().indexSelect(0, s), /index/, /Tensor/);
    rejects(() => x().gather(0, s), /index/, /Tensor/);
    rejects(() => x().copy_(s), /src/, /Tensor/);
    rejects(() => x().add_(s), /other/);
    rejects(() => kiln.F.conv2d(s, kiln.ones([1, 1, 1, 1])), /input/, /Tensor/);
    rejects(() => kiln.F.linear(x(), s), /weight/);
    rejects(() => kiln.exp(s), /Tensor/);
    rejects(() => kiln.sum(s), /Tensor/);
    rejects(() => kiln.ones([2], { requiresGrad: true }).sum().backward(s), /gradient/, /Tensor/);
  });
  it('non-integer dims and shapes', () => {
    rejects(() => x().sum(0.5), /dim/, /integer/);
    rejects(() => kiln.zeros([2.5]), /shape/);
    rejects(() => kiln.zeros('3' as any), /shape/);
    rejects(() => x().reshape('2' as any), /shape/);
    rejects(() => kiln.tensor('abc' as any), /data/);
    rejects(() => kiln.tensor([[1, 2], [3]]), /data/, /ragged/);
  });
});
