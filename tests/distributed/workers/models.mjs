// The small models and data the DDP and pipeline tests share with their ranks: built from the
// seed alone, so every rank and the test's single-process reference get identical copies.
export function mlp(kiln, sizes = [12, 16, 16, 5]) {
  const { nn } = kiln;
  const layers = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    layers.push(new nn.Linear(sizes[i], sizes[i + 1]));
    if (i + 2 < sizes.length) layers.push(i % 2 === 0 ? new nn.Tanh() : new nn.ReLU());
  }
  return new nn.Sequential(...layers);
}

/** `steps` batches of `batch` rows: inputs and int32 class targets. */
export function batches(kiln, steps, batch, inFeatures = 12, classes = 5) {
  const out = [];
  for (let s = 0; s < steps; s++) out.push([kiln.randn([batch, inFeatures]), kiln.randint(0, classes, [batch])]);
  return out;
}
