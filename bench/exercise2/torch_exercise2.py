#!/usr/bin/python3
"""Exercise 2 in PyTorch, written to Keras's semantics, as an independent reference for keras.

The first 5,000 training and 1,000 test images of CIFAR-10 (python batches, scaled to [0, 1]);
Flatten → 4 × Dense 256 ELU with Keras's he_normal (truncated normal, stddev √(2/fan_in)/0.8796,
cut at 2 stddev) → Dense 10 with Keras's glorot_uniform, zero biases; Keras 3's Nadam (β1 0.9,
β2 0.999, ε 1e-7, momentum schedule 0.96ᵗ); sparse categorical cross-entropy; batch 128 in one
shuffled order that every epoch repeats (as Keras 3 on TensorFlow does with its seed set); validation on the last 20%; EarlyStopping(val_loss, patience 5,
restore_best_weights). One JSON line per seed, like main.go.

    /usr/bin/python3 bench/exercise2/torch_exercise2.py --dir ../shared/cifar10 --seeds 1-10
"""
import argparse
import json
import math
import os
import pickle
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402


def load_batch(path):
    with open(path, "rb") as f:
        d = pickle.load(f, encoding="bytes")
    x = np.asarray(d[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return x, np.asarray(d[b"labels"], dtype=np.int64)


def batches_dir(root):
    sub = os.path.join(root, "cifar-10-batches-py")
    return sub if os.path.isdir(sub) else root


def keras_he_normal_(w, gen):
    fan_in = w.shape[1]  # torch Linear weight is [out, in]
    std = math.sqrt(2.0 / fan_in) / 0.87962566103423978
    with torch.no_grad():
        z = torch.randn(w.shape, generator=gen)
        while (bad := z.abs() > 2).any():  # re-draw outside 2 stddev, like Keras
            z[bad] = torch.randn(int(bad.sum()), generator=gen)
        w.copy_(z * std)


def keras_glorot_uniform_(w, gen):
    limit = math.sqrt(6.0 / (w.shape[0] + w.shape[1]))
    with torch.no_grad():
        w.uniform_(-limit, limit, generator=gen)


def model(gen):
    layers, fan_in = [nn.Flatten()], 3072
    for _ in range(4):
        lin = nn.Linear(fan_in, 256)
        keras_he_normal_(lin.weight, gen)
        nn.init.zeros_(lin.bias)
        layers += [lin, nn.ELU()]
        fan_in = 256
    out = nn.Linear(256, 10)
    keras_glorot_uniform_(out.weight, gen)
    nn.init.zeros_(out.bias)
    layers.append(out)  # logits; the softmax is in the loss, as Keras does for a softmax layer
    return nn.Sequential(*layers)


class KerasNadam:
    """keras/src/optimizers/nadam.py (Keras 3)."""

    def __init__(self, params, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7):
        self.params = list(params)
        self.lr, self.b1, self.b2, self.eps = lr, beta1, beta2, eps
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.iterations = 0
        self.u_product = 1.0

    @torch.no_grad()
    def step(self):
        t = self.iterations + 1
        u_t = self.b1 * (1 - 0.5 * 0.96 ** t)
        u_t1 = self.b1 * (1 - 0.5 * 0.96 ** (t + 1))
        self.u_product *= u_t
        u_prod_t1 = self.u_product * u_t1
        b2_power = self.b2 ** t
        for p, m, v in zip(self.params, self.m, self.v):
            g = p.grad
            m.add_((g - m) * (1 - self.b1))
            v.add_((g * g - v) * (1 - self.b2))
            m_hat = u_t1 * m / (1 - u_prod_t1) + (1 - u_t) * g / (1 - self.u_product)
            v_hat = v / (1 - b2_power)
            p.sub_(m_hat * self.lr / (v_hat.sqrt() + self.eps))
        self.iterations += 1

    def zero_grad(self):
        for p in self.params:
            p.grad = None


def run(seed, xtr, ytr, xval, yval, xte, yte):
    gen = torch.Generator().manual_seed(seed)
    net = model(gen)
    opt = KerasNadam(net.parameters())
    loss_fn = nn.CrossEntropyLoss()
    best, best_state, best_epoch, wait, epochs = float("inf"), None, 0, 0, 0
    start = time.perf_counter()
    perm = torch.randperm(len(xtr), generator=gen)  # once: Keras's seeded shuffle repeats each epoch
    for epoch in range(1, 51):
        epochs = epoch
        net.train()
        for i in range(0, len(xtr), 128):
            idx = perm[i:i + 128]
            opt.zero_grad()
            loss_fn(net(xtr[idx]), ytr[idx]).backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            val_loss = loss_fn(net(xval), yval).item()
        if val_loss < best:
            best, best_epoch, wait = val_loss, epoch, 0
            best_state = {k: v.clone() for k, v in net.state_dict().items()}
        else:
            wait += 1
            if wait >= 5:
                break
    net.load_state_dict(best_state)
    with torch.no_grad():
        acc = (net(xte).argmax(1) == yte).float().mean().item()
    return {"seed": seed, "epochs": epochs, "best_epoch": best_epoch, "best_val_loss": best,
            "test_accuracy": acc, "seconds": time.perf_counter() - start}


def parse_seeds(s):
    seeds = []
    for item in s.split(","):
        a, _, b = item.strip().partition("-")
        seeds += range(int(a), int(b or a) + 1)
    return seeds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=os.environ.get("CIFAR10_DIR", ""))
    ap.add_argument("--seeds", default="1-10")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if not args.dir:
        sys.exit("torch_exercise2.py: give --dir or set CIFAR10_DIR")
    torch.set_num_threads(args.threads)
    d = batches_dir(args.dir)
    x, y = load_batch(os.path.join(d, "data_batch_1"))
    xt, yt = load_batch(os.path.join(d, "test_batch"))
    x = torch.from_numpy(x[:5000].astype(np.float32) / 255)
    y = torch.from_numpy(y[:5000])
    xte = torch.from_numpy(xt[:1000].astype(np.float32) / 255)
    yte = torch.from_numpy(yt[:1000])
    xtr, ytr, xval, yval = x[:4000], y[:4000], x[4000:], y[4000:]
    for seed in parse_seeds(args.seeds):
        print(json.dumps(run(seed, xtr, ytr, xval, yval, xte, yte)), flush=True)


if __name__ == "__main__":
    main()
