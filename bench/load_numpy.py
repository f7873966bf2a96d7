"""Reference timing: load the six CIFAR-10 python batches with pickle + numpy, as the labs do.

Run with Debian's Python (it has python3-numpy): /usr/bin/python3 bench/load_numpy.py DIR
"""
import os
import pickle
import resource
import sys
import time

import numpy as np

d = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CIFAR10_DIR", "../shared/cifar10")
if os.path.isdir(os.path.join(d, "cifar-10-batches-py")):
    d = os.path.join(d, "cifar-10-batches-py")


def load(name):
    with open(os.path.join(d, name), "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    x = batch[b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return x, np.array(batch[b"labels"])


start = time.perf_counter()
parts = [load(f"data_batch_{i}") for i in range(1, 6)]
x_train = np.concatenate([p[0] for p in parts])  # makes the [N,32,32,3] array contiguous
y_train = np.concatenate([p[1] for p in parts])
x_test, y_test = load("test_batch")
x_test = np.ascontiguousarray(x_test)
elapsed = time.perf_counter() - start
decoded = (x_train.nbytes + x_test.nbytes + len(y_train) + len(y_test)) / 2**20
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"py  pickle+numpy load {elapsed*1000:7.1f} ms  decoded {decoded:.1f} MiB  peak RSS {peak:.1f} MiB  "
      f"pixel sum {int(x_train.sum(dtype=np.uint64)) + int(x_test.sum(dtype=np.uint64))}")
