// Trains a small MLP from the installed package (scripts/check-package.sh): the loss must fall.
import * as kiln from 'kiln';

const { nn, optim, F } = kiln;
kiln.manualSeed(0);
const x = kiln.randn([256, 8]);
const y = x.narrow(1, 0, 1).add(x.narrow(1, 1, 1)).gt(0).reshape([256]).int(); // a learnable rule
const model = new nn.Sequential(new nn.Linear(8, 32), new nn.ReLU(), new nn.Linear(32, 2));
const opt = new optim.Adam(model.parameters(), { lr: 1e-2 });
let first = 0;
let last = 0;
for (let step = 0; step < 100; step++) {
  last = kiln.scope(() => {
    const loss = F.crossEntropy(model.forward(x), y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    return loss.item();
  });
  if (step === 0) first = last;
}
console.log(`installed kiln trained: loss ${first.toFixed(4)} -> ${last.toFixed(4)}`);
if (!(last < first * 0.5)) {
  console.error('loss did not fall');
  process.exit(1);
}
