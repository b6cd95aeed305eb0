"""The DDP benchmark's peer: PyTorch 1.13's DistributedDataParallel on Gloo with W3's MLP
(784-2048-2048-10, Adam, 256 rows a step), measured as ddp-rank.mjs measures Kiln: 2 ranks x 1
thread, 128 rows each; the step, the step under no_sync (compute alone) and the bucket
all-reduces alone (communication alone; buckets as DDP builds them: the first 1 MB, then 25 MB,
in reverse parameter order). Rank 0 prints one JSON line. Environment: RANK, WORLD_SIZE,
MASTER_ADDR, MASTER_PORT.

usage: torch_ddp.py <minSeconds>
"""
import json
import math
import sys
import time

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
min_sec = float(sys.argv[1])
dist.init_process_group('gloo')
size = dist.get_world_size()
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(784, 2048), nn.ReLU(), nn.Linear(2048, 2048), nn.ReLU(), nn.Linear(2048, 10))
x = torch.randn(256 // size, 784)
y = torch.randint(0, 10, (256 // size,))
ddp = nn.parallel.DistributedDataParallel(model)
opt = torch.optim.Adam(ddp.parameters(), lr=1e-3)


def step():
    opt.zero_grad()
    F.cross_entropy(ddp(x), y).backward()
    opt.step()


def local_step():
    with ddp.no_sync():
        step()


def agreed(n):
    t = torch.tensor([float(n)])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return int(t.item())


def median(fn):
    # the same counts on every rank: fn runs collectives
    t0, warm = time.perf_counter(), 5
    for _ in range(warm):
        fn()
    est = (time.perf_counter() - t0) * 1e3 / warm
    runs = agreed(max(10, math.ceil(min_sec * 1000 / est)))
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    return times[len(times) // 2]


def buckets():
    sizes, cur, cap = [], 0, 1024 * 1024
    for p in reversed(list(model.parameters())):
        cur += p.numel()
        if cur * 4 >= cap:
            sizes.append(cur)
            cur, cap = 0, 25 * 1024 * 1024
    if cur:
        sizes.append(cur)
    return sizes


out = {'mode': 'torch-ddp', 'size': size, 'threads': torch.get_num_threads()}
out['stepMs'] = median(step)
out['samplesPerSec'] = 256 / out['stepMs'] * 1000
out['noSyncMs'] = median(local_step)
out['buckets'] = buckets()
bufs = [torch.zeros(n) for n in out['buckets']]


def all_reduces():
    works = [dist.all_reduce(b, async_op=True) for b in bufs]
    for w in works:
        w.wait()


out['allReduceMs'] = median(all_reduces)
out['hiddenFromSteps'] = 1 - max(0.0, out['stepMs'] - out['noSyncMs']) / out['allReduceMs']
if dist.get_rank() == 0:
    print('JSON ' + json.dumps(out))
dist.destroy_process_group()
