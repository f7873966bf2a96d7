#!/usr/bin/python3
"""PyTorch CPU reference for bench/train: the same two MLPs as keras's reference models
(lab 3 and exercise 2), the same optimizers, batch sizes and shapes, on random data.

Run by bench/train/run.sh with PyTorch 2.x from PyPI (bench/.venv, bench/requirements-torch.txt),
GLIBC_TUNABLES set so that Adam's fresh buffers do not page-fault, and OMP_WAIT_POLICY=PASSIVE:
    bench/.venv/bin/python bench/train/torch_ref.py
Prints one JSON object per measurement (ms/step medians and, with --epoch, s/epoch).
"""
import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402
from torch import nn  # noqa: E402


def lab3():
    # Keras lab 3: Flatten, Dense 512/256/128 ReLU with Dropout 0.3/0.4/0.5, Dense 10 softmax;
    # Adam(0.001), categorical cross-entropy, batch 32.
    model = nn.Sequential(
        nn.Flatten(),
        nn.Linear(3072, 512), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(512, 256), nn.ReLU(), nn.Dropout(0.4),
        nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)  # Keras's epsilon
    return model, opt, 32


def exercise2():
    # Keras exercise 2: Flatten, 4 x Dense 256 ELU (he_normal), Dense 10 softmax; Nadam(0.001),
    # sparse categorical cross-entropy, batch 128.
    layers = [nn.Flatten()]
    inp = 3072
    for _ in range(4):
        lin = nn.Linear(inp, 256)
        nn.init.kaiming_normal_(lin.weight)
        nn.init.zeros_(lin.bias)
        layers += [lin, nn.ELU()]
        inp = 256
    layers.append(nn.Linear(256, 10))
    model = nn.Sequential(*layers)
    opt = torch.optim.NAdam(model.parameters(), lr=1e-3, eps=1e-7, momentum_decay=4e-3)
    return model, opt, 128


MODELS = {"lab3": lab3, "exercise2": exercise2}
LOSS = nn.CrossEntropyLoss()  # softmax + cross-entropy, as Keras's softmax layer + CCE


def train_step(model, opt, x, y):
    opt.zero_grad(set_to_none=True)
    loss = LOSS(model(x), y)
    loss.backward()
    opt.step()
    return loss


def bench_step(name, steps, repeats):
    torch.manual_seed(1)
    model, opt, batch = MODELS[name]()
    model.train()
    x = torch.rand(batch, 32, 32, 3)
    y = torch.randint(0, 10, (batch,))
    for _ in range(10):  # warm-up
        train_step(model, opt, x, y)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            train_step(model, opt, x, y)
        times.append((time.perf_counter() - t0) / steps * 1e3)
    return {"model": name, "what": "step", "batch": batch, "ms_per_step": statistics.median(times),
            "runs_ms_per_step": [round(t, 3) for t in times]}


def bench_epoch(name, samples, val_split):
    torch.manual_seed(1)
    model, opt, batch = MODELS[name]()
    x = torch.rand(samples, 32, 32, 3)
    y = torch.randint(0, 10, (samples,))
    n_val = int(samples * val_split)
    n_train = samples - n_val
    xt, yt, xv, yv = x[:n_train], y[:n_train], x[n_train:], y[n_train:]
    t0 = time.perf_counter()
    model.train()
    perm = torch.randperm(n_train)
    for i in range(0, n_train, batch):
        idx = perm[i:i + batch]
        train_step(model, opt, xt[idx], yt[idx])
    model.eval()
    with torch.no_grad():
        for i in range(0, n_val, batch):
            LOSS(model(xv[i:i + batch]), yv[i:i + batch])
    return {"model": name, "what": "epoch", "batch": batch, "train_samples": n_train, "val_samples": n_val,
            "s_per_epoch": time.perf_counter() - t0}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="lab3,exercise2")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--epoch", action="store_true", help="also time one full lab 3 epoch (40k + 10k)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--keep-denormals", action="store_true", help="do not flush denormals to zero")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    # TensorFlow (Keras) and the Go fast path flush denormals to zero on CPU; so does the reference,
    # or Adam's decaying moments make it slower over a long run.
    torch.set_flush_denormal(not args.keep_denormals)
    info = {"torch": torch.__version__, "threads": torch.get_num_threads(),
            "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"), "blas": blas_name(),
            "flush_denormal": not args.keep_denormals}
    print(json.dumps({"what": "info", **info}), flush=True)
    for name in filter(None, args.models.split(",")):
        print(json.dumps(bench_step(name, args.steps, args.repeats)), flush=True)
    if args.epoch:
        print(json.dumps(bench_epoch("lab3", 50000, 0.2)), flush=True)


def blas_name():
    """The BLAS torch's matrix products use: MKL when built in (PyPI's torch), else the BLAS
    library mapped into the process (Debian's torch: OpenBLAS)."""
    if torch.backends.mkl.is_available():
        return f"MKL (built in), oneDNN {'on' if torch.backends.mkldnn.is_available() else 'off'}"
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1].rsplit("/", 1)[-1] for line in f if "blas" in line}
        return ",".join(sorted(libs))
    except OSError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
