"""PyTorch's side of the GPU benchmark: the work of bench/gpu/bench.mjs, timed the same way (host
wall time around repetitions that end in torch.cuda.synchronize(), after a warm-up).

    python3 bench/gpu/torch_bench.py out.json [--quick] [--cpu]
"""
import json
import sys
import time

import torch

out_path = sys.argv[1] if len(sys.argv) > 1 else None
quick = '--quick' in sys.argv
dev = 'cpu' if '--cpu' in sys.argv else 'cuda'  # --cpu: checks this script without a GPU
sync = torch.cuda.synchronize if dev == 'cuda' else (lambda: None)
results = {}


def timed(fn, reps, rounds=5):
    for _ in range(2):
        fn()
    sync()
    runs = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        sync()
        runs.append((time.perf_counter() - t0) / reps)
    runs.sort()
    return runs[len(runs) // 2]


def put(key, seconds, **extra):
    results[key] = {'ms': seconds * 1e3, **extra}
    print(f"{key:<28} {seconds * 1e3:9.3f} ms " + ' '.join(f'{k} {v:.1f}' for k, v in extra.items()), flush=True)


for n in ([1024] if quick else [4096, 8192]):
    torch.manual_seed(0)
    a = torch.randn(n, n, device=dev)
    b = torch.randn(n, n, device=dev)
    flops = 2 * n ** 3
    reps = 5 if n >= 8192 else 20
    for name, precision, bf16 in [('f32', 'highest', False), ('tf32', 'high', False), ('bf16', 'highest', True)]:
        torch.set_float32_matmul_precision(precision)
        if bf16:
            ab, bb = a.bfloat16(), b.bfloat16()
            s = timed(lambda: torch.matmul(ab, bb), reps)
        else:
            s = timed(lambda: torch.matmul(a, b), reps)
        put(f'matmul_{name}_{n}', s, TFLOPs=flops / s / 1e12)
    if dev == 'cuda':
        # Kiln's bf16 figure is autocast over float32 tensors: the same here (casts included)
        def autocast_mm():
            with torch.autocast('cuda', dtype=torch.bfloat16):
                return torch.matmul(a, b)
        s = timed(autocast_mm, reps)
        put(f'matmul_autocast_bf16_{n}', s, TFLOPs=flops / s / 1e12)
    torch.set_float32_matmul_precision('highest')
    if n == (1024 if quick else 4096):
        put(f'matmul_f32_nt_{n}', timed(lambda: torch.matmul(a, b.t()), reps))
        put(f'matmul_f32_tn_{n}', timed(lambda: torch.matmul(a.t(), b), reps))
        put(f'sum_dim0_{n}', timed(lambda: a.sum(0), reps))
        put(f'relu_{n}', timed(lambda: torch.relu(a), reps))
    del a, b

N = 10 ** 6 if quick else 10 ** 8
p = torch.randn(N, device=dev, requires_grad=True)
p.grad = torch.randn(N, device=dev)
if dev == 'cuda':
    opt = torch.optim.Adam([p], lr=1e-3, fused=True)
    s = timed(opt.step, 10)
    put('adam_100M', s, GBs=28 * N / s / 1e9)
opt = torch.optim.Adam([p], lr=1e-3)
s = timed(opt.step, 10)
put('adam_100M_unfused', s, GBs=28 * N / s / 1e9)
c = timed(lambda: p.detach().clone(), 10)
put('copy_100M', c, GBs=8 * N / c / 1e9)
del p, opt

for name, sizes, batch in [('mlp_4096', [4096, 4096, 4096, 10], 4096), ('mlp_784', [784, 512, 256, 10], 128)]:
    torch.manual_seed(0)
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i + 2 < len(sizes):
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers).to(dev)
    b = 64 if quick else batch
    x = torch.randn(b, sizes[0], device=dev)
    y = torch.randint(0, 10, (b,), device=dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def forward():
        return torch.nn.functional.cross_entropy(model(x), y)

    def backward():
        opt.zero_grad()
        forward().backward()

    def step():
        loss = forward()
        opt.zero_grad()
        loss.backward()
        opt.step()
    reps = 200 if name == 'mlp_784' else 10
    put(f'step_{name}_forward', timed(forward, reps))
    put(f'step_{name}_backward', timed(backward, reps))
    put(f'step_{name}', timed(step, reps))

if out_path:
    with open(out_path, 'w') as f:
        json.dump({'side': 'torch', 'torch': torch.__version__, 'results': results}, f, indent=2)
