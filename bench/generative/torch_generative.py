"""The PyTorch peer of examples/{autoencoder,vae,dcgan,wgan-gp}.mjs: the same architectures,
initialisation scheme (PyTorch's defaults, which Kiln's layers copy), hyperparameters, loss
formulas, batch order and number of steps; it writes the same DIR/metrics.json and
DIR/samples.safetensors, so bench/generative/fid.mjs measures both sides with one classifier.

The batch order is Kiln's DataLoader order: seededPermutation(n, seed, epoch) from
src/data/seeded.ts, ported below (mulberry32 over a murmur3-mixed seed, Fisher-Yates). The weights
and the noise come from each side's own generator (torch.manual_seed(seed) here).

usage: /usr/bin/python3 bench/generative/torch_generative.py \
         autoencoder|vae|dcgan|wgan-gp [--epochs N] [--seed S] [--out DIR] [--limit N]
         [--test-limit N] [--samples N] [--data full|subset]
"""
import argparse
import gzip
import json
import os
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
FULL = '/usr/share/datasets/fashion-mnist'
SUBSET = os.path.join(ROOT, 'data', 'fashion-mnist-subset')
M32 = 0xFFFFFFFF


# ---- Kiln's seeded shuffle (src/data/seeded.ts), bit for bit ----
def _imul(a, b):
    return (a * b) & M32


def _mix32(h):
    h &= M32
    h ^= h >> 16
    h = _imul(h, 0x85EBCA6B)
    h ^= h >> 13
    h = _imul(h, 0xC2B2AE35)
    h ^= h >> 16
    return h


def _seed_from(seed, stream):
    lo = seed & M32
    hi = (seed // 4294967296) & M32
    return _mix32(_mix32(lo ^ 0x9E3779B9) ^ _mix32((hi + 0x7F4A7C15) & M32) ^ _mix32((stream + 0x1B873593) & M32))


def seeded_permutation(n, seed, stream):
    p = list(range(n))
    a = _seed_from(seed, stream)
    for i in range(n - 1, 0, -1):
        a = (a + 0x6D2B79F5) & M32
        t = _imul(a ^ (a >> 15), a | 1)
        t ^= (t + _imul(t ^ (t >> 7), t | 61)) & M32
        u = (t ^ (t >> 14)) & M32
        j = int((u / 4294967296) * (i + 1))
        p[i], p[j] = p[j], p[i]
    return torch.tensor(p, dtype=torch.long)


# ---- data and files ----
def read_idx(path):
    with gzip.open(path, 'rb') as f:
        buf = f.read()
    ndim = buf[3]
    dims = struct.unpack('>' + 'I' * ndim, buf[4:4 + 4 * ndim])
    return np.frombuffer(buf, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_images(args):
    full = args.data == 'full' or (args.data is None and os.path.exists(f'{FULL}/train-images-idx3-ubyte.gz'))
    d = FULL if full else SUBSET
    train = torch.tensor(read_idx(f'{d}/train-images-idx3-ubyte.gz')[:args.limit], dtype=torch.float32).unsqueeze(1) / 255
    test = torch.tensor(read_idx(f'{d}/t10k-images-idx3-ubyte.gz')[:args.test_limit], dtype=torch.float32).unsqueeze(1) / 255
    print(f'Fashion-MNIST {"full" if full else "subset"}: {len(train)} training, {len(test)} test images; '
          f'PyTorch {torch.__version__}, {torch.get_num_threads()} threads', flush=True)
    return train, test, 'full' if full else 'subset'


def save_safetensors(path, tensors):
    """Float32 tensors {name: tensor} in the safetensors format (8-byte header length, JSON
    header, data), written to a temporary file and renamed into place."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header).encode()
    head += b' ' * (-len(head) % 8)
    with open(path + '.tmp', 'wb') as f:
        f.write(struct.pack('<Q', len(head)) + head + b''.join(blobs))
    os.replace(path + '.tmp', path)


def batches(data, batch_size, seed, epoch):
    order = seeded_permutation(len(data), seed, epoch)
    for i in range(0, len(data), batch_size):
        yield data[order[i:i + batch_size]]


class LossLog:
    def __init__(self, names):
        self.names = names
        self.steps = {n: [] for n in names}
        self.epochs = []
        self.non_finite = 0
        self.train_seconds = 0.0
        self.train_cpu_seconds = 0.0

    def add(self, name, v):
        if not np.isfinite(v):
            self.non_finite += 1
        self.steps[name].append(v)

    def start_epoch(self):
        self.marks = {n: len(self.steps[n]) for n in self.names}
        self.cpu0 = time.process_time()  # this process, all threads
        self.t0 = time.perf_counter()

    def end_epoch(self, epoch):
        seconds = time.perf_counter() - self.t0
        cpu_seconds = time.process_time() - self.cpu0
        self.train_seconds += seconds
        self.train_cpu_seconds += cpu_seconds
        rec = {'epoch': epoch, 'seconds': seconds, 'cpuSeconds': cpu_seconds}
        for n in self.names:
            xs = self.steps[n][self.marks[n]:]
            rec[n] = sum(xs) / max(1, len(xs))
        self.epochs.append(rec)
        print(f'epoch {epoch}: ' + ', '.join(f'{n} {rec[n]:.4f}' for n in self.names) + f'  ({seconds:.1f} s)', flush=True)


def collect_samples(count, sample, batch=500):
    if count == 0:
        return None
    out = []
    with torch.no_grad():
        for i in range(0, count, batch):
            out.append(sample(min(batch, count - i)))
    return torch.cat(out).reshape(count, 1, 28, 28)


def write_outputs(args, program, log, config, metrics, samples=None):
    files = []
    if samples is not None:
        save_safetensors(os.path.join(args.out, 'samples.safetensors'), {'samples': samples})
        files.append('samples.safetensors')
    record = {'program': program, 'side': 'pytorch', 'seed': args.seed, 'epochs': args.epochs, 'config': config,
              'trainSeconds': log.train_seconds, 'trainCpuSeconds': log.train_cpu_seconds,
              'loadAverage': list(os.getloadavg()), 'metrics': metrics, 'nonFinite': log.non_finite,
              'epochLog': log.epochs, 'stepLosses': log.steps, 'files': files,
              'torch': torch.__version__, 'threads': torch.get_num_threads()}
    with open(os.path.join(args.out, 'metrics.json'), 'w') as f:
        json.dump(record, f, indent=1)
    print(f'{program}: ' + ', '.join(f'{k} {v:.4f}' for k, v in metrics.items()) +
          f'; {log.train_seconds:.1f} s of training; wrote {args.out}', flush=True)


def generator(noise):
    return nn.Sequential(
        nn.Linear(noise, 256 * 7 * 7), nn.BatchNorm1d(256 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (256, 7, 7)),
        nn.ConvTranspose2d(256, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.ReLU(),
        nn.ConvTranspose2d(128, 1, 4, 2, 1), nn.Tanh())


def critic(batch_norm):
    return nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1), *([nn.BatchNorm2d(128)] if batch_norm else []), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(128 * 7 * 7, 1))


# ---- the four programs ----
def autoencoder(args, train, test, data):
    config = {'batchSize': 128, 'lr': 1e-3, 'latent': 32}
    encoder = nn.Sequential(
        nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 32))
    decoder = nn.Sequential(
        nn.Linear(32, 32 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (32, 7, 7)),
        nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
        nn.ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid())
    model = nn.Sequential(encoder, decoder)
    opt = torch.optim.Adam(model.parameters(), lr=config['lr'])
    log = LossLog(['loss'])
    for epoch in range(1, args.epochs + 1):
        model.train()
        log.start_epoch()
        for x in batches(train, config['batchSize'], args.seed, epoch - 1):
            loss = F.mse_loss(model(x), x)
            opt.zero_grad()
            loss.backward()
            opt.step()
            log.add('loss', loss.item())
        log.end_epoch(epoch)
    model.eval()
    sq = 0.0
    with torch.no_grad():
        for i in range(0, len(test), 500):
            x = test[i:i + 500]
            sq += F.mse_loss(model(x), x, reduction='sum').item()
    write_outputs(args, 'autoencoder', log, {**config, 'data': data}, {'testMsePerPixel': sq / test.numel()})


def vae(args, train, test, data):
    config = {'batchSize': 128, 'lr': 1e-3, 'hidden': 400, 'latent': 20}

    class VAE(nn.Module):
        def __init__(self, hidden, latent):
            super().__init__()
            self.fc1 = nn.Linear(784, hidden)
            self.fc_mu = nn.Linear(hidden, latent)
            self.fc_logvar = nn.Linear(hidden, latent)
            self.fc3 = nn.Linear(latent, hidden)
            self.fc4 = nn.Linear(hidden, 784)

        def encode(self, x):
            h = F.relu(self.fc1(x))
            return Independent(Normal(self.fc_mu(h), (0.5 * self.fc_logvar(h)).exp(), validate_args=False), 1)

        def decode(self, z):
            return Independent(Bernoulli(logits=self.fc4(F.relu(self.fc3(z))), validate_args=False), 1)

        def elbo(self, x, prior):
            q = self.encode(x)
            return self.decode(q.rsample()).log_prob(x) - kl_divergence(q, prior)

    model = VAE(config['hidden'], config['latent'])
    prior = Independent(Normal(torch.zeros(config['latent']), torch.ones(config['latent'])), 1)
    opt = torch.optim.Adam(model.parameters(), lr=config['lr'])
    flat_train, flat_test = train.reshape(-1, 784), test.reshape(-1, 784)
    log = LossLog(['loss'])
    for epoch in range(1, args.epochs + 1):
        model.train()
        log.start_epoch()
        for x in batches(flat_train, config['batchSize'], args.seed, epoch - 1):
            loss = -model.elbo(x, prior).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            log.add('loss', loss.item())
        log.end_epoch(epoch)
    model.eval()
    elbo = recon = 0.0
    with torch.no_grad():
        for i in range(0, len(flat_test), 500):
            x = flat_test[i:i + 500]
            q = model.encode(x)
            lp = model.decode(q.rsample()).log_prob(x)
            recon += lp.sum().item()
            elbo += (lp - kl_divergence(q, prior)).sum().item()
    n = len(flat_test)
    samples = collect_samples(args.samples, lambda k: model.decode(torch.randn(k, config['latent'])).base_dist.probs)
    write_outputs(args, 'vae', log, {**config, 'data': data},
                  {'testElboNats': elbo / n, 'testReconstructionLogLik': recon / n, 'testKl': (recon - elbo) / n}, samples)


def dcgan(args, train, test, data):
    config = {'batchSize': 64, 'lr': 2e-4, 'betas': [0.5, 0.999], 'noise': 64}
    G, D = generator(config['noise']), critic(batch_norm=True)
    opt_g = torch.optim.Adam(G.parameters(), lr=config['lr'], betas=tuple(config['betas']))
    opt_d = torch.optim.Adam(D.parameters(), lr=config['lr'], betas=tuple(config['betas']))
    scaled = train * 2 - 1

    def bce(logits, label):
        return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, label))

    log = LossLog(['lossD', 'lossG', 'dReal', 'dFake'])
    for epoch in range(1, args.epochs + 1):
        G.train()
        D.train()
        log.start_epoch()
        for real in batches(scaled, config['batchSize'], args.seed, epoch - 1):
            fake = G(torch.randn(len(real), config['noise']))
            out_real = D(real)
            loss_d = bce(out_real, 1.0) + bce(D(fake.detach()), 0.0)
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            out_fake = D(fake)
            loss_g = bce(out_fake, 1.0)
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            log.add('lossD', loss_d.item())
            log.add('lossG', loss_g.item())
            log.add('dReal', out_real.sigmoid().mean().item())
            log.add('dFake', out_fake.sigmoid().mean().item())
        log.end_epoch(epoch)
    G.eval()
    samples = collect_samples(args.samples, lambda k: (G(torch.randn(k, config['noise'])) + 1) * 0.5)
    write_outputs(args, 'dcgan', log, {**config, 'data': data}, {}, samples)


def wgan_step(G, C, opt_g, opt_c, real, z_fake, eps, z_gen, gp_weight):
    """One critic step on the draws given (penalty at eps real + (1 - eps) fake), and the
    generator step when z_gen is given; returns (Wasserstein estimate, penalty, critic loss,
    generator loss or nan) as floats."""
    n = len(real)
    with torch.no_grad():
        fake = G(z_fake)
    gap = C(real).mean() - C(fake).mean()
    mixed = (real * eps + fake * (1 - eps)).requires_grad_()
    grad, = torch.autograd.grad(C(mixed).sum(), mixed, create_graph=True)
    penalty = ((grad.reshape(n, -1).square().sum(1) + 1e-12).sqrt() - 1).square().mean()
    loss_c = gp_weight * penalty - gap
    opt_c.zero_grad()
    loss_c.backward()
    opt_c.step()
    loss_g = float('nan')
    if z_gen is not None:
        lg = -C(G(z_gen)).mean()
        opt_g.zero_grad()
        lg.backward()
        opt_g.step()
        loss_g = lg.item()
    return gap.item(), penalty.item(), loss_c.item(), loss_g


def wgan_gp(args, train, test, data):
    config = {'batchSize': 64, 'lr': 1e-4, 'betas': [0.0, 0.9], 'noise': 64, 'gpWeight': 10, 'criticSteps': 5}
    G, C = generator(config['noise']), critic(batch_norm=False)
    opt_g = torch.optim.Adam(G.parameters(), lr=config['lr'], betas=tuple(config['betas']))
    opt_c = torch.optim.Adam(C.parameters(), lr=config['lr'], betas=tuple(config['betas']))
    scaled = train * 2 - 1

    log = LossLog(['lossC', 'lossG', 'wasserstein', 'penalty'])
    critic_steps = 0
    for epoch in range(1, args.epochs + 1):
        G.train()
        log.start_epoch()
        for real in batches(scaled, config['batchSize'], args.seed, epoch - 1):
            n = len(real)
            # drawn in the order the step uses them: fake noise, penalty mix, generator noise
            z_fake, eps = torch.randn(n, config['noise']), torch.rand(n, 1, 1, 1)
            critic_steps += 1
            z_gen = torch.randn(n, config['noise']) if critic_steps % config['criticSteps'] == 0 else None
            gap, penalty, loss_c, loss_g = wgan_step(G, C, opt_g, opt_c, real, z_fake, eps, z_gen, config['gpWeight'])
            log.add('lossC', loss_c)
            log.add('wasserstein', gap)
            log.add('penalty', penalty)
            if z_gen is not None:
                log.add('lossG', loss_g)
        log.end_epoch(epoch)
    G.eval()
    samples = collect_samples(args.samples, lambda k: (G(torch.randn(k, config['noise'])) + 1) * 0.5)
    write_outputs(args, 'wgan-gp', log, {**config, 'data': data}, {}, samples)


def main():
    programs = {'autoencoder': autoencoder, 'vae': vae, 'dcgan': dcgan, 'wgan-gp': wgan_gp}
    p = argparse.ArgumentParser()
    p.add_argument('program', choices=list(programs))
    p.add_argument('--epochs', type=int)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out')
    p.add_argument('--limit', type=int)
    p.add_argument('--test-limit', type=int)
    p.add_argument('--samples', type=int, default=10000)
    p.add_argument('--data', choices=['full', 'subset'])
    args = p.parse_args()
    if args.epochs is None:
        args.epochs = 10 if args.program in ('autoencoder', 'vae') else 5
    args.out = args.out or os.path.join('out', 'torch-' + args.program)
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    train, test, data = load_images(args)
    programs[args.program](args, train, test, data)


if __name__ == '__main__':
    main()
