"""WGAN-GP from one shared start, the PyTorch half of bench/generative/wgan-trajectory.mjs.

Draws the initial weights (PyTorch's default init), the batches (the first STEPS*64 training
images in Kiln's DataLoader order for --seed), and every noise and penalty draw; runs the loop of
examples/wgan-gp.mjs on them in float32 and in float64; writes all of it with the per-step
figures (Wasserstein estimate, penalty, critic loss, generator loss) to one safetensors file
that the Kiln half reads. Float64 is the reference: float32 PyTorch's distance from it is what
rounding alone does to this loop.

usage: /usr/bin/python3 bench/generative/wgan_trajectory.py [--steps 200] [--seed 0] [--out FILE]
"""
import argparse
import copy
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_generative as tg  # noqa: E402

BATCH, NOISE, CRITIC_STEPS, GP = 64, 64, 5, 10


def run(G0, C0, draws, dtype):
    G, C = copy.deepcopy(G0).to(dtype), copy.deepcopy(C0).to(dtype)
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.0, 0.9))
    opt_c = torch.optim.Adam(C.parameters(), lr=1e-4, betas=(0.0, 0.9))
    G.train()
    rows = []
    for i in range(len(draws['real'])):
        z_gen = draws['zGen'][i // CRITIC_STEPS].to(dtype) if (i + 1) % CRITIC_STEPS == 0 else None
        rows.append(tg.wgan_step(G, C, opt_g, opt_c, draws['real'][i].to(dtype), draws['zFake'][i].to(dtype),
                                 draws['eps'][i].to(dtype), z_gen, GP))
    return torch.tensor(rows, dtype=torch.float64)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--steps', type=int, default=200)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', default=os.path.join(tg.ROOT, 'bench', 'out', 'generative', 'wgan-trajectory.safetensors'))
    args = p.parse_args()
    torch.manual_seed(args.seed)
    G0, C0 = tg.generator(NOISE), tg.critic(batch_norm=False)
    images = torch.tensor(tg.read_idx(f'{tg.FULL}/train-images-idx3-ubyte.gz'), dtype=torch.float32).unsqueeze(1) / 255
    scaled = images * 2 - 1
    batches = tg.batches(scaled, BATCH, args.seed, 0)
    real = torch.stack([next(batches) for _ in range(args.steps)])
    draws = {
        'real': real,
        'zFake': torch.randn(args.steps, BATCH, NOISE),
        'eps': torch.rand(args.steps, BATCH, 1, 1, 1),
        'zGen': torch.randn(args.steps // CRITIC_STEPS, BATCH, NOISE),
    }
    out = dict(draws)
    for prefix, m in (('G', G0), ('C', C0)):
        for name, t in m.state_dict().items():
            if not name.endswith('num_batches_tracked'):
                out[f'{prefix}.{name}'] = t
    out['torch32'] = run(G0, C0, draws, torch.float32)
    out['torch64'] = run(G0, C0, draws, torch.float64)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    tg.save_safetensors(args.out, out)
    print(f'wrote {args.out}: {args.steps} critic steps, PyTorch {torch.__version__}, {torch.get_num_threads()} threads')


if __name__ == '__main__':
    main()
