// The models of the training workloads, shared by bench/run.mjs and bench/profile-step.mjs:
// each builder returns [model, input, int32 targets] for one training step.

/** W2-W4: an MLP with ReLU between its Linear layers. */
export function mlp(kiln, sizes, batch) {
  const { nn } = kiln;
  const layers = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    layers.push(new nn.Linear(sizes[i], sizes[i + 1]));
    if (i + 2 < sizes.length) layers.push(new nn.ReLU());
  }
  return [new nn.Sequential(...layers), kiln.randn([batch, sizes[0]]), kiln.randint(0, sizes.at(-1), [batch])];
}

/** W5: conv3x3(32)+ReLU+pool2, conv3x3(64)+ReLU+pool2, linear 10 on 1x28x28, batch 64. */
export function cnn(kiln) {
  const { nn } = kiln;
  const model = new nn.Sequential(
    new nn.Conv2d(1, 32, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(32, 64, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Flatten(), new nn.Linear(64 * 7 * 7, 10));
  return [model, kiln.randn([64, 1, 28, 28]), kiln.randint(0, 10, [64])];
}

/** W6: LSTM 64->128 over 35 steps (batch 32, batch first), its last state -> linear 10. */
export function lstmLastStep(kiln) {
  const { nn } = kiln;
  class LastStep extends nn.Module {
    constructor() {
      super();
      this.lstm = new nn.LSTM(64, 128, { batchFirst: true });
      this.head = new nn.Linear(128, 10);
    }
    forward(x) {
      const [out] = this.lstm.forward(x);
      return this.head.forward(out.select(1, out.shape[1] - 1));
    }
  }
  return [new LastStep(), kiln.randn([32, 35, 64]), kiln.randint(0, 10, [32])];
}
