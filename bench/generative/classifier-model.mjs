// The Fashion-MNIST classifier whose 128 penultimate features measure sample quality (the FID
// recipe with a domain classifier in place of Inception). classifier.mjs trains and saves it;
// fid.mjs loads it and measures Kiln's and PyTorch's samples alike.
import * as kiln from '../../dist/index.js';

const { nn } = kiln;

export const FEATURES = 128;

/** [N, 1, 28, 28] in [0, 1] -> features [N, 128] (after ReLU) -> logits [N, 10] */
export class Classifier extends nn.Module {
  constructor() {
    super();
    this.body = new nn.Sequential(
      new nn.Conv2d(1, 32, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(32, 64, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Flatten(), new nn.Linear(64 * 7 * 7, FEATURES), new nn.ReLU(),
    );
    this.head = new nn.Linear(FEATURES, 10);
  }
  features(x) { return this.body.forward(x); }
  forward(x) { return this.head.forward(this.features(x)); }
}
