"""One rank of the all-reduce benchmark's peer: PyTorch's Gloo all-reduce, measured as
allreduce-rank.mjs measures Kiln's (median of an agreed number of runs). Rank 0 prints one JSON
line. Environment: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT.

usage: torch_allreduce.py <MB,MB,...> <minSeconds>
"""
import json
import math
import sys
import time

import torch
import torch.distributed as dist

torch.set_num_threads(1)
sizes = [float(s) for s in sys.argv[1].split(',')]
min_sec = float(sys.argv[2])
dist.init_process_group('gloo')


def agreed_runs(estimate_ms):
    t = torch.tensor([float(min(200, max(5, math.ceil(min_sec * 1000 / estimate_ms))))])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return int(t.item())


out = []
for mb in sizes:
    x = torch.zeros(round(mb * 1e6 / 4))
    t0 = time.perf_counter()
    for _ in range(3):
        dist.all_reduce(x)
    runs = agreed_runs((time.perf_counter() - t0) * 1e3 / 3)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        dist.all_reduce(x)
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    ms = times[len(times) // 2]
    out.append({'mb': mb, 'ms': ms, 'gbps': x.numel() * 4 / (ms * 1e6), 'runs': runs})
if dist.get_rank() == 0:
    print('JSON ' + json.dumps(out))
dist.destroy_process_group()
