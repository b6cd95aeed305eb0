"""PyTorch 1.13 peer of bench/rl/speed.mjs: DQN and PPO on CartPole-v1 with the same
hyperparameters, update order and environment dynamics as Kiln's agents (CartPole written in
plain Python, as Gymnasium's equations), timed over the whole training loop.

  python3 bench/rl/torch_rl.py dqn|ppo <steps> <seed> [--eval] [--env=cartpole|mountaincar|acrobot]
      [--timeout-terminal]
    -> one JSON line {steps, seconds, stepsPerSec, ...}
  (DQN only: --env picks the zoo config, CartPole by default; --eval adds the final greedy
  policy's mean return over 100 episodes; --timeout-terminal stores a time-limit cut as a
  terminal transition, as Stable-Baselines3 before 1.1.0 did)
"""
import json
import math
import random
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(int(__import__("os").environ.get("TORCH_THREADS", "1")))


class CartPole:
    def __init__(self, rng):
        self.rng = rng
        self.state = None
        self.t = 0

    def reset(self):
        self.state = [self.rng.uniform(-0.05, 0.05) for _ in range(4)]
        self.t = 0
        return np.array(self.state, dtype=np.float32)

    def step(self, action):
        x, x_dot, theta, theta_dot = self.state
        force = 10.0 if action == 1 else -10.0
        cos, sin = math.cos(theta), math.sin(theta)
        temp = (force + 0.05 * theta_dot * theta_dot * sin) / 1.1
        theta_acc = (9.8 * sin - cos * temp) / (0.5 * (4.0 / 3.0 - 0.1 * cos * cos / 1.1))
        x_acc = temp - 0.05 * theta_acc * cos / 1.1
        x, x_dot = x + 0.02 * x_dot, x_dot + 0.02 * x_acc
        theta, theta_dot = theta + 0.02 * theta_dot, theta_dot + 0.02 * theta_acc
        self.state = [x, x_dot, theta, theta_dot]
        self.t += 1
        terminated = x < -2.4 or x > 2.4 or theta < -12 * 2 * math.pi / 360 or theta > 12 * 2 * math.pi / 360
        truncated = self.t >= 500
        return np.array(self.state, dtype=np.float32), 1.0, terminated, truncated


def mlp(sizes, act):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


class MountainCar:
    """Gymnasium's MountainCar-v0 (float64 state, float32 observations), with its 200-step limit."""

    def __init__(self, rng):
        self.rng = rng
        self.state = None
        self.t = 0

    def reset(self):
        self.state = [self.rng.uniform(-0.6, -0.4), 0.0]
        self.t = 0
        return np.array(self.state, dtype=np.float32)

    def step(self, action):
        position, velocity = self.state
        velocity += (action - 1) * 0.001 + math.cos(3 * position) * (-0.0025)
        velocity = min(max(velocity, -0.07), 0.07)
        position += velocity
        position = min(max(position, -1.2), 0.6)
        if position == -1.2 and velocity < 0:
            velocity = 0.0
        self.state = [position, velocity]
        self.t += 1
        terminated = position >= 0.5 and velocity >= 0
        return np.array(self.state, dtype=np.float32), -1.0, terminated, self.t >= 200


class Acrobot:
    """Gymnasium's Acrobot-v1 ("book" dynamics, one RK4 step of 0.2 s, float32 start state), with its 500-step limit."""

    def __init__(self, rng):
        self.rng = rng
        self.state = None
        self.t = 0

    def reset(self):
        self.state = [float(np.float32(self.rng.uniform(-0.1, 0.1))) for _ in range(4)]
        self.t = 0
        return self._obs()

    def _obs(self):
        s = self.state
        return np.array([math.cos(s[0]), math.sin(s[0]), math.cos(s[1]), math.sin(s[1]), s[2], s[3]], dtype=np.float32)

    @staticmethod
    def _dsdt(s, a):
        m1 = m2 = l1 = i1 = i2 = 1.0
        lc1 = lc2 = 0.5
        g = 9.8
        th1, th2, dth1, dth2 = s
        d1 = m1 * lc1**2 + m2 * (l1**2 + lc2**2 + 2 * l1 * lc2 * math.cos(th2)) + i1 + i2
        d2 = m2 * (lc2**2 + l1 * lc2 * math.cos(th2)) + i2
        phi2 = m2 * lc2 * g * math.cos(th1 + th2 - math.pi / 2.0)
        phi1 = (-m2 * l1 * lc2 * dth2**2 * math.sin(th2) - 2 * m2 * l1 * lc2 * dth2 * dth1 * math.sin(th2)
                + (m1 * lc1 + m2 * l1) * g * math.cos(th1 - math.pi / 2) + phi2)
        ddth2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * dth1**2 * math.sin(th2) - phi2) / (m2 * lc2**2 + i2 - d2**2 / d1)
        ddth1 = -(d2 * ddth2 + phi1) / d1
        return [dth1, dth2, ddth1, ddth2]

    def step(self, action):
        s, a, dt = self.state, float(action - 1), 0.2
        k1 = self._dsdt(s, a)
        k2 = self._dsdt([s[i] + dt / 2 * k1[i] for i in range(4)], a)
        k3 = self._dsdt([s[i] + dt / 2 * k2[i] for i in range(4)], a)
        k4 = self._dsdt([s[i] + dt * k3[i] for i in range(4)], a)
        ns = [s[i] + dt / 6.0 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]) for i in range(4)]

        def wrap(x):
            while x > math.pi:
                x -= 2 * math.pi
            while x < -math.pi:
                x += 2 * math.pi
            return x
        ns = [wrap(ns[0]), wrap(ns[1]), min(max(ns[2], -4 * math.pi), 4 * math.pi), min(max(ns[3], -9 * math.pi), 9 * math.pi)]
        self.state = ns
        self.t += 1
        terminated = -math.cos(ns[0]) - math.cos(ns[1] + ns[0]) > 1.0
        return self._obs(), 0.0 if terminated else -1.0, terminated, self.t >= 500


# rl-baselines3-zoo hyperparams/dqn.yml (as bench/rl/zoo.mjs); SB3 defaults: tau 1, max_grad_norm 10,
# exploration_initial_eps 1, Adam (0.9, 0.999, eps 1e-8), PyTorch's default Linear init
DQN_CONFIGS = {
    "cartpole": dict(env=CartPole, obs=4, actions=2, lr=2.3e-3, batch=64, buffer=100_000, starts=1000, gamma=0.99,
                     target_every=10, train_freq=256, grad_steps=128, expl_fraction=0.16, expl_final=0.04),
    "mountaincar": dict(env=MountainCar, obs=2, actions=3, lr=4e-3, batch=128, buffer=10_000, starts=1000, gamma=0.98,
                        target_every=600, train_freq=16, grad_steps=8, expl_fraction=0.2, expl_final=0.07),
    # grad_steps -1: one gradient step per environment step of the rollout
    "acrobot": dict(env=Acrobot, obs=6, actions=3, lr=6.3e-4, batch=128, buffer=50_000, starts=0, gamma=0.99,
                    target_every=250, train_freq=4, grad_steps=-1, expl_fraction=0.12, expl_final=0.1),
}


def dqn(total, seed, config="cartpole"):
    c = DQN_CONFIGS[config]
    torch.manual_seed(seed)
    rng = random.Random(seed)
    env = c["env"](rng)
    sizes = [c["obs"], 256, 256, c["actions"]]
    q, q_target = mlp(sizes, nn.ReLU), mlp(sizes, nn.ReLU)
    q_target.load_state_dict(q.state_dict())
    opt = torch.optim.Adam(q.parameters(), lr=c["lr"])
    size, batch, gamma = c["buffer"], c["batch"], c["gamma"]
    obs_buf, next_buf = np.zeros((size, c["obs"]), np.float32), np.zeros((size, c["obs"]), np.float32)
    act_buf, rew_buf, done_buf = np.zeros(size, np.int64), np.zeros(size, np.float32), np.zeros(size, np.float32)
    pos, full = 0, False
    obs = env.reset()
    timeout_terminal = "--timeout-terminal" in sys.argv
    # SB3's DQN starts with exploration_rate 0.0 (a learning_starts 0 run's first action is greedy)
    steps, n_calls, eps, episodes = 0, 0, 0.0, 0
    returns, ep_ret = [], 0.0
    start = time.perf_counter()
    while steps < total:
        collected = 0
        for _ in range(c["train_freq"]):
            if steps >= total:
                break
            if steps < c["starts"] or rng.random() < eps:
                a = rng.randrange(c["actions"])
            else:
                with torch.no_grad():
                    a = int(q(torch.as_tensor(obs).unsqueeze(0)).argmax(1)[0])
            nxt, r, term, trunc = env.step(a)
            done = term or (trunc and timeout_terminal)
            obs_buf[pos], next_buf[pos], act_buf[pos], rew_buf[pos], done_buf[pos] = obs, nxt, a, r, float(done)
            pos = (pos + 1) % size
            full = full or pos == 0
            ep_ret += r
            if term or trunc:
                returns.append(ep_ret)
                ep_ret = 0.0
            obs = env.reset() if (term or trunc) else nxt
            episodes += term or trunc
            steps += 1
            collected += 1
            n_calls += 1
            if n_calls % c["target_every"] == 0:
                q_target.load_state_dict(q.state_dict())
            done_frac = steps / total
            f, e1 = c["expl_fraction"], c["expl_final"]
            eps = e1 if done_frac > f else 1.0 + done_frac * (e1 - 1.0) / f
        if steps > c["starts"]:
            n = size if full else pos
            for _ in range(c["grad_steps"] if c["grad_steps"] > 0 else collected):
                idx = np.array([rng.randrange(n) for _ in range(batch)])
                with torch.no_grad():
                    target = torch.as_tensor(rew_buf[idx]) + (1 - torch.as_tensor(done_buf[idx])) * gamma * q_target(torch.as_tensor(next_buf[idx])).max(1)[0]
                qa = q(torch.as_tensor(obs_buf[idx])).gather(1, torch.as_tensor(act_buf[idx]).unsqueeze(1)).squeeze(1)
                loss = F.smooth_l1_loss(qa, target)
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(q.parameters(), 10)
                opt.step()
    seconds = time.perf_counter() - start
    # training return of the last 100 episodes, as Kiln's log reports it
    dqn.train_return = float(np.mean(returns[-100:])) if returns else None
    if "--eval" in sys.argv:
        # the final greedy policy over 100 episodes, as bench/rl/train.mjs evaluates Kiln's
        erng = random.Random(10_000 + seed)
        env = c["env"](erng)
        scores = []
        for _ in range(100):
            o, total = env.reset(), 0.0
            while True:
                with torch.no_grad():
                    a = int(q(torch.as_tensor(o).unsqueeze(0)).argmax(1)[0])
                o, r, term, trunc = env.step(a)
                total += r
                if term or trunc:
                    break
            scores.append(total)
        dqn.eval_mean = float(np.mean(scores))
    return seconds, episodes


def ortho(module, gain):
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.orthogonal_(m.weight, gain)
            m.bias.data.fill_(0.0)


def ppo(total, seed):
    # rl-baselines3-zoo CartPole-v1: n_envs 8, n_steps 32, batch 256, gae_lambda 0.8, gamma 0.98, n_epochs 20,
    # ent_coef 0, lr lin_0.001, clip lin_0.2; SB3 defaults: vf_coef 0.5, max_grad_norm 0.5, Adam eps 1e-5
    torch.manual_seed(seed)
    rng = random.Random(seed)
    n_envs, n_steps, gamma, lam = 8, 32, 0.98, 0.8
    envs = [CartPole(rng) for _ in range(n_envs)]
    pi, vf = mlp([4, 64, 64], nn.Tanh), mlp([4, 64, 64], nn.Tanh)
    pi_head, vf_head = nn.Linear(64, 2), nn.Linear(64, 1)
    for m, g in ((pi, math.sqrt(2)), (vf, math.sqrt(2)), (pi_head, 0.01), (vf_head, 1.0)):
        ortho(m, g)
    params = [*pi.parameters(), *vf.parameters(), *pi_head.parameters(), *vf_head.parameters()]
    opt = torch.optim.Adam(params, lr=1e-3, eps=1e-5)

    def dist_values(x):
        return torch.distributions.Categorical(logits=pi_head(pi(x))), vf_head(vf(x)).squeeze(-1)

    obs = np.stack([e.reset() for e in envs])
    starts = np.ones(n_envs, np.float32)
    steps, episodes = 0, 0
    start = time.perf_counter()
    while steps < total:
        b_obs = np.zeros((n_steps, n_envs, 4), np.float32)
        b_act, b_rew, b_start = np.zeros((n_steps, n_envs), np.int64), np.zeros((n_steps, n_envs), np.float32), np.zeros((n_steps, n_envs), np.float32)
        b_val, b_logp = np.zeros((n_steps, n_envs), np.float32), np.zeros((n_steps, n_envs), np.float32)
        for t in range(n_steps):
            with torch.no_grad():
                d, v = dist_values(torch.as_tensor(obs))
                a = d.sample()
                lp = d.log_prob(a)
            acts = a.numpy()
            nxt = np.zeros_like(obs)
            rew = np.zeros(n_envs, np.float32)
            dones = np.zeros(n_envs, np.float32)
            for i, e in enumerate(envs):
                o, r, term, trunc = e.step(int(acts[i]))
                if trunc and not term:
                    with torch.no_grad():
                        r += gamma * float(dist_values(torch.as_tensor(o).unsqueeze(0))[1][0])
                if term or trunc:
                    o = e.reset()
                    episodes += 1
                nxt[i], rew[i], dones[i] = o, r, float(term or trunc)
            b_obs[t], b_act[t], b_rew[t], b_start[t], b_val[t], b_logp[t] = obs, acts, rew, starts, v.numpy(), lp.numpy()
            obs, starts = nxt, dones
            steps += n_envs
        with torch.no_grad():
            last_v = dist_values(torch.as_tensor(obs))[1].numpy()
        adv = np.zeros((n_steps, n_envs), np.float32)
        last = 0
        for t in reversed(range(n_steps)):
            nnt = 1.0 - (starts if t == n_steps - 1 else b_start[t + 1])
            nv = last_v if t == n_steps - 1 else b_val[t + 1]
            delta = b_rew[t] + gamma * nv * nnt - b_val[t]
            last = delta + gamma * lam * nnt * last
            adv[t] = last
        ret = adv + b_val
        progress = max(0.0, 1 - steps / total)
        for g in opt.param_groups:
            g["lr"] = 1e-3 * progress
        clip = 0.2 * progress
        f_obs, f_act, f_adv, f_ret, f_logp = (torch.as_tensor(x.reshape(n_steps * n_envs, *x.shape[2:])) for x in (b_obs, b_act, adv, ret, b_logp))
        for _ in range(20):
            perm = torch.as_tensor(np.array([rng.random() for _ in range(256)]).argsort())
            for s in range(0, 256, 256):
                idx = perm[s:s + 256]
                d, v = dist_values(f_obs[idx])
                lp = d.log_prob(f_act[idx])
                a_ = f_adv[idx]
                a_ = (a_ - a_.mean()) / (a_.std() + 1e-8)
                ratio = torch.exp(lp - f_logp[idx])
                pl = -torch.min(a_ * ratio, a_ * torch.clamp(ratio, 1 - clip, 1 + clip)).mean()
                vl = F.mse_loss(f_ret[idx], v)
                el = -d.entropy().mean()
                loss = pl + 0.0 * el + 0.5 * vl
                with torch.no_grad():
                    # the diagnostics SB3 (and Kiln) log each minibatch
                    _ = torch.mean((torch.abs(ratio - 1) > clip).float()).item()
                    _ = torch.mean((ratio - 1) - (lp - f_logp[idx])).item()
                _ = (pl.item(), vl.item(), el.item(), loss.item())
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(params, 0.5)
                opt.step()
    return time.perf_counter() - start, episodes


if __name__ == "__main__":
    algo, total, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    env_arg = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--env=")), "cartpole")
    seconds, episodes = dqn(total, seed, env_arg) if algo == "dqn" else ppo(total, seed)
    extra = {"env": env_arg, "timeoutTerminal": "--timeout-terminal" in sys.argv, "trainReturn": dqn.train_return} if algo == "dqn" else {}
    if hasattr(dqn, "eval_mean"):
        extra["evalMean"] = dqn.eval_mean
    print(json.dumps({**extra, "seed": seed, "algo": algo, "steps": total, "seconds": seconds, "stepsPerSec": total / seconds, "episodes": episodes,
                      "torch": torch.__version__, "threads": torch.get_num_threads()}))
