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

/**
 * A GPT (W8, examples/char-gpt.mjs): token + position embeddings, pre-norm blocks of causal
 * self-attention (F.scaledDotProductAttention, fused) and a 4x GELU MLP, a final LayerNorm, and
 * the output head tied to the token embedding. GPT-2's initialisation: N(0, 0.02) weights and
 * embeddings, zero biases, the residual projections N(0, 0.02 / sqrt(2 * nLayer)).
 * bench/peers/torch_gpt.py is the same model in PyTorch, with the same parameter names.
 */
export function gpt(kiln, { vocabSize, blockSize, nLayer, nHead, nEmbd, dropout = 0 }) {
  const { nn, F } = kiln;
  class CausalSelfAttention extends nn.Module {
    constructor() {
      super();
      this.c_attn = new nn.Linear(nEmbd, 3 * nEmbd);
      this.c_proj = new nn.Linear(nEmbd, nEmbd);
    }
    forward(x) {
      const [B, T, C] = x.shape;
      const [q, k, v] = this.c_attn.forward(x).split(C, 2).map((t) => t.reshape([B, T, nHead, C / nHead]).transpose(1, 2));
      const y = F.scaledDotProductAttention(q, k, v, { isCausal: true, dropoutP: this.training ? dropout : 0 });
      return this.c_proj.forward(y.transpose(1, 2).reshape([B, T, C]));
    }
  }
  class Block extends nn.Module {
    constructor() {
      super();
      this.ln_1 = new nn.LayerNorm(nEmbd);
      this.attn = new CausalSelfAttention();
      this.ln_2 = new nn.LayerNorm(nEmbd);
      this.mlp = new nn.Sequential(new nn.Linear(nEmbd, 4 * nEmbd), new nn.GELU(), new nn.Linear(4 * nEmbd, nEmbd));
      this.drop = new nn.Dropout(dropout);
    }
    forward(x) {
      const a = x.add(this.drop.forward(this.attn.forward(this.ln_1.forward(x))));
      return a.add(this.drop.forward(this.mlp.forward(this.ln_2.forward(a))));
    }
  }
  class GPT extends nn.Module {
    constructor() {
      super();
      this.wte = new nn.Embedding(vocabSize, nEmbd);
      this.wpe = new nn.Embedding(blockSize, nEmbd);
      this.h = new nn.ModuleList(Array.from({ length: nLayer }, () => new Block()));
      this.ln_f = new nn.LayerNorm(nEmbd);
      kiln.noGrad(() => {
        for (const [name, p] of this.namedParameters()) {
          if (name.endsWith('.bias')) p.zero_();
          else if (name.startsWith('ln') || name.includes('.ln_')) continue;
          else {
            const std = name.endsWith('c_proj.weight') || name.endsWith('mlp.2.weight') ? 0.02 / Math.sqrt(2 * nLayer) : 0.02;
            nn.init.normal_(p, 0, std);
          }
        }
      });
    }
    /** Logits [B, T, vocabSize] for int32 tokens [B, T]. */
    forward(idx) {
      const [, T] = idx.shape;
      const pos = kiln.arange(0, T);
      let x = this.wte.forward(idx).add(this.wpe.forward(pos));
      for (let i = 0; i < nLayer; i++) x = this.h.at(i).forward(x);
      // the head shares the token embedding's weight
      return F.linear(this.ln_f.forward(x), this.wte.weight);
    }
    /** Mean cross-entropy of the next-token predictions. */
    loss(idx, targets) {
      const logits = this.forward(idx);
      const [B, T, V] = logits.shape;
      return F.crossEntropy(logits.reshape([B * T, V]), targets.reshape([B * T]));
    }
  }
  return new GPT();
}
