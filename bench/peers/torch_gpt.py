"""PyTorch peer of examples/char-gpt.mjs (and W8 of bench/run.mjs): the same GPT (parameter names,
GPT-2 initialisation, weight tying), the same data (Tiny Shakespeare, 90/10 split, character
vocabulary sorted by code point), the same window offsets (mulberry32 seeded as the example),
Adam with the same learning rate and gradient clipping at 1.0. With --init FILE (written by
`node examples/char-gpt.mjs --save-init FILE`) both start from the same weights.

usage: torch_gpt.py [--steps N] [--batch B] [--block T] [--layers L] [--heads H] [--embd C]
                    [--lr LR] [--eval-every N] [--eval-batches N] [--seed S] [--init FILE] [--json FILE]
"""
import argparse
import json
import math
import os
import struct
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')


def mulberry32(seed):
    """The example's generator (src/data/seeded.ts), bit for bit."""
    a = seed & 0xFFFFFFFF

    def imul(x, y):
        return (x * y) & 0xFFFFFFFF

    def rnd():
        nonlocal a
        a = (a + 0x6D2B79F5) & 0xFFFFFFFF
        t = a
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296
    return rnd


def read_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        assert e['dtype'] == 'F32', name
        a, b = e['data_offsets']
        vals = struct.unpack('<%df' % ((b - a) // 4), data[a:b])
        out[name] = torch.tensor(vals, dtype=torch.float32).reshape(e['shape'])
    return out


class CausalSelfAttention(nn.Module):
    def __init__(self, c, h):
        super().__init__()
        self.c_attn = nn.Linear(c, 3 * c)
        self.c_proj = nn.Linear(c, c)
        self.h = h

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = [t.view(B, T, self.h, C // self.h).transpose(1, 2) for t in self.c_attn(x).split(C, 2)]
        # PyTorch 1.13 has no fused attention on the CPU: softmax(QK^T / sqrt(d) + causal mask) V
        s = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(C // self.h))
        s = s.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float('-inf'))
        y = torch.softmax(s, -1) @ v
        return self.c_proj(y.transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    def __init__(self, c, h):
        super().__init__()
        self.ln_1 = nn.LayerNorm(c)
        self.attn = CausalSelfAttention(c, h)
        self.ln_2 = nn.LayerNorm(c)
        self.mlp = nn.Sequential(nn.Linear(c, 4 * c), nn.GELU(), nn.Linear(4 * c, c))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, vocab, block, layers, heads, embd):
        super().__init__()
        self.wte = nn.Embedding(vocab, embd)
        self.wpe = nn.Embedding(block, embd)
        self.h = nn.ModuleList([Block(embd, heads) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(embd)
        for name, p in self.named_parameters():
            if name.endswith('.bias'):
                nn.init.zeros_(p)
            elif name.startswith('ln') or '.ln_' in name:
                continue
            else:
                std = 0.02 / math.sqrt(2 * layers) if name.endswith('c_proj.weight') or name.endswith('mlp.2.weight') else 0.02
                nn.init.normal_(p, 0, std)

    def forward(self, idx):
        T = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for b in self.h:
            x = b(x)
        return F.linear(self.ln_f(x), self.wte.weight)

    def loss(self, idx, targets):
        logits = self(idx)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def main():
    ap = argparse.ArgumentParser()
    for name, default in [('steps', 2000), ('batch', 32), ('block', 128), ('layers', 4), ('heads', 4), ('embd', 128),
                          ('eval-every', 250), ('eval-batches', 20), ('seed', 1337)]:
        ap.add_argument('--' + name, type=int, default=default)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--init', default='')
    ap.add_argument('--json', default='')
    a = ap.parse_args()

    text = open(os.path.join(root, 'data', 'tinyshakespeare', 'input.txt'), encoding='utf-8').read()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    n_train = int(0.9 * len(ids))
    train, val = ids[:n_train], ids[n_train:]
    print(f'Tiny Shakespeare: {len(ids)} characters, vocabulary {len(chars)}; torch {torch.__version__}, '
          f'{torch.get_num_threads()} threads')

    torch.manual_seed(a.seed)
    model = GPT(len(chars), a.block, a.layers, a.heads, a.embd)
    if a.init:
        missing, unexpected = model.load_state_dict(read_safetensors(a.init), strict=True), None
        print(f'initial weights: {a.init}')
    print(f'GPT: {sum(p.numel() for p in model.parameters())} parameters')

    def offsets(rng, n, data):
        return [int(math.floor(rng() * (len(data) - a.block - 1))) for _ in range(n)]

    def batch_at(data, offs):
        x = torch.stack([data[o:o + a.block] for o in offs])
        y = torch.stack([data[o + 1:o + a.block + 1] for o in offs])
        return x, y

    train_rng = mulberry32(a.seed)
    val_offs = offsets(mulberry32(a.seed + 1), a.eval_batches * a.batch, val)

    def evaluate():
        model.eval()
        with torch.no_grad():
            s = sum(model.loss(*batch_at(val, val_offs[b * a.batch:(b + 1) * a.batch])).item() for b in range(a.eval_batches))
        model.train()
        return s / a.eval_batches

    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    history, train_time, acc, n = [], 0.0, 0.0, 0
    for step in range(1, a.steps + 1):
        t0 = time.perf_counter()
        x, y = batch_at(train, offsets(train_rng, a.batch, train))
        loss = model.loss(x, y)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        l = loss.item()
        train_time += time.perf_counter() - t0
        acc += l
        n += 1
        if step % a.eval_every == 0 or step == a.steps:
            v = evaluate()
            tps = step * a.batch * a.block / train_time
            history.append({'step': step, 'train': acc / n, 'val': v, 'tokensPerSecond': tps})
            print(f'step {step}: train loss {acc / n:.4f}, val loss {v:.4f}, {tps:.0f} tokens/s', flush=True)
            acc, n = 0.0, 0
    if a.json:
        with open(a.json, 'w') as f:
            json.dump({'config': vars(a), 'history': history}, f, indent=1)


if __name__ == '__main__':
    main()
