"""PyTorch CPU peer for bench/run.mjs: the same workloads, median milliseconds as JSON.

usage: torch_workloads.py --quick|--full W1-256,W2,... [warmIters,warmSec,minIters,minSec]
(prints one JSON line last). Its OpenBLAS kernel is the one bench/run.mjs chose (peer-blas.mjs).
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

quick = len(sys.argv) > 1 and sys.argv[1] == '--quick'
ids = sys.argv[2].split(',') if len(sys.argv) > 2 else []
timing = [float(v) for v in sys.argv[3].split(',')] if len(sys.argv) > 3 else None
# PyTorch's default here: one ATen thread, OpenBLAS's own two threads for GEMM. Measured:
# set_num_threads(2) makes training several times slower on this 2-core machine.
torch.manual_seed(0)


def measure(fn):
    """Median ms: warm up, then time at least min_iters runs and min_sec (as bench/run.mjs)."""
    warm_iters, warm_sec, min_iters, min_sec = timing or ((2, 0.05, 5, 0.2) if quick else (5, 0.3, 30, 1.0))
    t0, i = time.perf_counter(), 0
    while i < warm_iters or time.perf_counter() - t0 < warm_sec:
        fn()
        i += 1
    times = []
    t0 = time.perf_counter()
    while len(times) < min_iters or time.perf_counter() - t0 < min_sec:
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    times.sort()
    return times[len(times) // 2]


def stepper(model, x, y):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def mlp(sizes, batch):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i + 2 < len(sizes):
            layers.append(nn.ReLU())
    return stepper(nn.Sequential(*layers), torch.randn(batch, sizes[0]), torch.randint(0, sizes[-1], (batch,)))


class LastStep(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(64, 128, batch_first=True)
        self.head = nn.Linear(128, 10)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def gpt_step():
    sys.path.insert(0, __import__('os').path.dirname(__file__))
    from torch_gpt import GPT
    model = GPT(65, 128, 4, 4, 256)
    x, y = torch.randint(0, 65, (16, 128)), torch.randint(0, 65, (16, 128))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        loss = model.loss(x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def attention_inputs():
    return [torch.randn(8, 8, 512, 64, requires_grad=True) for _ in range(3)]


def attention_step(q, k, v):
    # PyTorch 1.13 has no fused attention: softmax(QK^T / sqrt(d) + causal mask) V, composed
    mask = torch.triu(torch.full((512, 512), float('-inf')), 1)
    s = (q @ k.transpose(-1, -2)) * 0.125 + mask
    (torch.softmax(s, -1) @ v).sum().backward()
    for t in (q, k, v):
        t.grad = None


def attention_peak_mb():
    """Peak resident-memory growth of one step, in a fresh child: the high-water mark (VmHWM) is
    reset just before the step (clear_refs 5), so the import's own peak does not hide it."""
    import subprocess
    code = ('import sys; sys.path.insert(0, %r); import torch_workloads as w; '
            'kb = lambda key: int(next(l for l in open("/proc/self/status") if l.startswith(key)).split()[1]); '
            'q, k, v = w.attention_inputs(); open("/proc/self/clear_refs", "w").write("5"); r0 = kb("VmRSS:"); '
            'w.attention_step(q, k, v); print((kb("VmHWM:") - r0) / 1024)'
            % __import__('os').path.dirname(__file__))
    out = subprocess.run([sys.executable, '-c', code, '--quick', 'none'], capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def make(wid):
    if wid == 'W8':
        return gpt_step()
    if wid == 'W9':
        q, k, v = attention_inputs()
        return lambda: attention_step(q, k, v)
    if wid.startswith('W1-'):
        n = int(wid[3:])
        a, b = torch.randn(n, n), torch.randn(n, n)
        return lambda: torch.matmul(a, b)
    if wid == 'W2':
        return mlp([784, 512, 256, 10], 128)
    if wid == 'W3':
        return mlp([784, 2048, 2048, 10], 256)
    if wid == 'W4':
        return mlp([4, 32, 32, 2], 32)
    if wid == 'W5':
        model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(64 * 7 * 7, 10))
        return stepper(model, torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,)))
    if wid == 'W6':
        return stepper(LastStep(), torch.randn(32, 35, 64), torch.randint(0, 10, (32,)))
    if wid == 'W7':
        n = (1 if quick else 10) * 1_000_000
        p = torch.randn(n, requires_grad=True)
        p.grad = torch.randn(n)
        opt = torch.optim.Adam([p], lr=1e-3)
        return opt.step
    return None


if __name__ == '__main__':
    out = {}
    for wid in ids:
        fn = make(wid)
        if fn is not None:
            out[wid] = measure(fn)
        if wid == 'W9':
            out['W9-peakMB'] = attention_peak_mb()
    print(json.dumps(out))
