// The README example, type-checked against the published declarations (npm run typecheck:examples).
import * as kiln from 'kiln';

const { nn, optim, F } = kiln;

kiln.manualSeed(0);
const x = kiln.randn([128, 784]);
const y = kiln.randint(0, 10, [128]); // int32 class indices
const model = new nn.Sequential(new nn.Linear(784, 512), new nn.ReLU(), new nn.Linear(512, 10));
const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });

for (let step = 0; step < 20; step++) {
  kiln.scope(() => {
    const loss: kiln.Tensor = F.crossEntropy(model.forward(x), y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    if (step % 10 === 0) console.log(step, loss.item());
  });
}
await kiln.save(model.stateDict(), '/tmp/kiln-quickstart.safetensors');
const info: kiln.BackendInfo = kiln.backendInfo();
console.log(info.cpu.isa, kiln.memory().tensors);
