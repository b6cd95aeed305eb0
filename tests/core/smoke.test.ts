import { it, expect } from 'vitest';
import * as kiln from '../../src/index.js';
it('smoke', () => {
  const a = kiln.tensor([[1, 2], [3, 4]], { requiresGrad: true });
  const b = kiln.tensor([[5, 6], [7, 8]]);
  const c = a.matmul(b).relu().sum();
  c.backward();
  console.log(c.item(), a.grad!.toArray());
  const x = kiln.randn([3, 4]);
  console.log(x.toArray(), kiln.memory());
  console.log(kiln.backendInfo?.());
});
