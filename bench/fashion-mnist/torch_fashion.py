"""The Fashion-MNIST accuracy runs of bench/RESULTS.md in PyTorch (same models, data, optimiser,
batch size and epochs as examples/fashion-mnist-{mlp,cnn}.mjs).

usage: /usr/bin/python3 bench/fashion-mnist/torch_fashion.py mlp|cnn [epochs]
"""
import gzip
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DIR = '/usr/share/datasets/fashion-mnist'


def idx(path):
    with gzip.open(path, 'rb') as f:
        buf = f.read()
    ndim = buf[3]
    dims = struct.unpack('>' + 'I' * ndim, buf[4:4 + 4 * ndim])
    return np.frombuffer(buf, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


kind = sys.argv[1]
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
# PyTorch's default here: one ATen thread, OpenBLAS's own two threads for GEMM. Measured:
# set_num_threads(2) makes training several times slower on this 2-core machine.
torch.manual_seed(0)
xtr = torch.tensor(idx(f'{DIR}/train-images-idx3-ubyte.gz'), dtype=torch.float32).unsqueeze(1) / 255
ytr = torch.tensor(idx(f'{DIR}/train-labels-idx1-ubyte.gz'), dtype=torch.long)
xte = torch.tensor(idx(f'{DIR}/t10k-images-idx3-ubyte.gz'), dtype=torch.float32).unsqueeze(1) / 255
yte = torch.tensor(idx(f'{DIR}/t10k-labels-idx1-ubyte.gz'), dtype=torch.long)
mean, std = xtr.mean(), xtr.std()
xtr, xte = (xtr - mean) / std, (xte - mean) / std
if kind == 'mlp':
    xtr, xte = xtr.reshape(-1, 784), xte.reshape(-1, 784)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
else:
    model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(64 * 7 * 7, 10))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
train_seconds = 0.0
for epoch in range(epochs):
    t0 = time.perf_counter()
    model.train()
    perm = torch.randperm(len(xtr))
    for i in range(0, len(xtr), 64):
        idx_ = perm[i:i + 64]
        loss = F.cross_entropy(model(xtr[idx_]), ytr[idx_])
        opt.zero_grad()
        loss.backward()
        opt.step()
    sched.step()
    train_seconds += time.perf_counter() - t0
    model.eval()
    with torch.no_grad():
        acc = sum((model(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum().item() for i in range(0, len(xte), 1000)) / len(xte)
    print(f'epoch {epoch + 1}: test accuracy {acc * 100:.2f}%  ({train_seconds:.1f}s of training)', flush=True)
print(f'PyTorch {torch.__version__} {kind}: test accuracy {acc * 100:.2f}% after {epochs} epochs ({train_seconds:.1f}s of training, {torch.get_num_threads()} threads)')
