"""The labs' reference runs in real Keras 3 on TensorFlow 2.20 (CPU), for the comparison with
cifarlab's keras (main.go trains the same runs and prints the same JSON lines).

    python keras_labs.py --lab exercise2 --seeds 1-20 [--epochs N] [--dir DIR]
    python keras_labs.py --lab lab3 --seeds 1-3
    python keras_labs.py --lab ex2bn|ex2selu|ex2onecycle --seeds 1-10   (issue 27's (c), (d), (f))
    python keras_labs.py --speed [--repeats 3] [--steps 30] [--epoch]

Each lab is written as its cells are: the data loaded from the python batches the way the lab
loads them, the model, compile and fit calls with the lab's arguments, and the seed set with
keras.utils.set_random_seed(seed) (Python's random, NumPy and TensorFlow at once) before the model
is built. TensorFlow's threading is left at its defaults (what a student gets).

--speed times one training step of each lab's model on random data (a fit of one epoch over
--steps batches, after one untimed fit that traces the graph; the median of --repeats) and, with
--epoch, one full lab 3 epoch (40k training + 10k validation samples, tracing included), in
bench/train's JSON format.
"""
import argparse
import json
import math
import os
import pickle
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up banners, not its warnings
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402


def batches_dir(root):
    sub = os.path.join(root, "cifar-10-batches-py")
    return sub if os.path.isdir(sub) else root


def unpickle(path):
    with open(path, "rb") as f:
        return pickle.load(f, encoding="bytes")


def load_cifar10(root):
    """Lab 3's loader: unpickle each batch, reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)."""
    d = batches_dir(root)
    xs, ys = [], []
    for i in range(1, 6):
        b = unpickle(os.path.join(d, f"data_batch_{i}"))
        xs.append(b[b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        ys.append(np.array(b[b"labels"]))
    t = unpickle(os.path.join(d, "test_batch"))
    x_test = t[b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.concatenate(xs), np.concatenate(ys), x_test, np.array(t[b"labels"])


class EpochInfo(keras.callbacks.Callback):
    """Records the learning rate used during each epoch and the epoch's wall time."""

    def on_train_begin(self, logs=None):
        self.lr, self.seconds = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.lr.append(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))
        self.t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.t0)


def exercise2(seed, data, epochs):
    x_train, y_train, x_test, y_test = data
    # The exercise: the first 5,000 training and 1,000 test images, flattened, scaled, sparse labels.
    x_train, y_train = x_train[:5000], y_train[:5000]
    x_test, y_test = x_test[:1000], y_test[:1000]
    x_train = x_train.reshape(-1, 3072).astype("float32") / 255.0
    x_test = x_test.reshape(-1, 3072).astype("float32") / 255.0

    keras.utils.set_random_seed(seed)
    model = exercise2_model()
    model.compile(optimizer=keras.optimizers.Nadam(learning_rate=0.001),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    early = keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
    info = EpochInfo()
    t0 = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=128, validation_split=0.2,
                        callbacks=[early, info], verbose=0)
    return model, early, info, history, time.perf_counter() - t0, x_test, y_test


def exercise2_data(data):
    """Exercise 2's images: the first 5,000 training and 1,000 test images, flattened, /255."""
    x_train, y_train, x_test, y_test = data
    x_train, y_train = x_train[:5000], y_train[:5000]
    x_test, y_test = x_test[:1000], y_test[:1000]
    x_train = x_train.reshape(-1, 3072).astype("float32") / 255.0
    x_test = x_test.reshape(-1, 3072).astype("float32") / 255.0
    return x_train, y_train, x_test, y_test


def ex2bn(seed, data, epochs):
    """Issue 27 (c): exercise 2's network with BatchNormalization between each hidden Dense and its
    activation, as the book's solution writes it, Nadam(5e-4) as the book's."""
    x_train, y_train, x_test, y_test = exercise2_data(data)
    keras.utils.set_random_seed(seed)
    model = ex2bn_model()
    model.compile(optimizer=keras.optimizers.Nadam(learning_rate=5e-4),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return fit_early(model, x_train, y_train, x_test, y_test, epochs)


def ex2bn_model():
    model = keras.Sequential([keras.Input(shape=(3072,))])
    for _ in range(4):
        model.add(keras.layers.Dense(256, kernel_initializer="he_normal"))
        model.add(keras.layers.BatchNormalization())
        model.add(keras.layers.Activation("elu"))
    model.add(keras.layers.Dense(10, activation="softmax"))
    return model


def selu_model(x_train):
    """Issue 27 (d)'s network: inputs standardized by a Normalization layer adapted to the training
    images (per pixel and channel, as the book's (X - X.mean(0)) / X.std(0)), 4 x Dense 256 SELU
    LeCun-normal, softmax."""
    norm = keras.layers.Normalization()
    norm.adapt(x_train)
    model = keras.Sequential([keras.Input(shape=(3072,)), norm])
    for _ in range(4):
        model.add(keras.layers.Dense(256, activation="selu", kernel_initializer="lecun_normal"))
    model.add(keras.layers.Dense(10, activation="softmax"))
    return model


def ex2selu(seed, data, epochs):
    """Issue 27 (d): the SELU network, Nadam(7e-4) as the book's."""
    x_train, y_train, x_test, y_test = exercise2_data(data)
    keras.utils.set_random_seed(seed)
    model = selu_model(x_train)
    model.compile(optimizer=keras.optimizers.Nadam(learning_rate=7e-4),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return fit_early(model, x_train, y_train, x_test, y_test, epochs)


def fit_early(model, x_train, y_train, x_test, y_test, epochs):
    early = keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
    info = EpochInfo()
    t0 = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=128, validation_split=0.2,
                        callbacks=[early, info], verbose=0)
    return model, early, info, history, time.perf_counter() - t0, x_test, y_test


class OneCycleScheduler(keras.callbacks.Callback):
    """Géron's 1cycle callback (Hands-On Machine Learning, ch. 11), as the book's notebook writes
    it, with Keras 3's optimizer.learning_rate.assign in place of K.set_value."""

    def __init__(self, iterations, max_rate, start_rate=None, last_iterations=None, last_rate=None):
        super().__init__()
        self.iterations = iterations
        self.max_rate = max_rate
        self.start_rate = start_rate or max_rate / 10
        self.last_iterations = last_iterations or iterations // 10 + 1
        self.half_iteration = (iterations - self.last_iterations) // 2
        self.last_rate = last_rate or self.start_rate / 1000
        self.iteration = 0

    def _interpolate(self, iter1, iter2, rate1, rate2):
        return (rate2 - rate1) * (self.iteration - iter1) / (iter2 - iter1) + rate1

    def on_batch_begin(self, batch, logs=None):
        if self.iteration < self.half_iteration:
            rate = self._interpolate(0, self.half_iteration, self.start_rate, self.max_rate)
        elif self.iteration < 2 * self.half_iteration:
            rate = self._interpolate(self.half_iteration, 2 * self.half_iteration, self.max_rate, self.start_rate)
        else:
            rate = self._interpolate(2 * self.half_iteration, self.iterations, self.start_rate, self.last_rate)
        self.iteration += 1
        self.model.optimizer.learning_rate.assign(rate)


class NoEarlyStopping:
    """What train() reads of an EarlyStopping, for a fit without one: the epoch of lowest val_loss
    (0-based) and no stop."""

    def __init__(self, history):
        v = history.history["val_loss"]
        self.best_epoch = min(range(len(v)), key=v.__getitem__)
        self.stopped_epoch = 0


def ex2onecycle(seed, data, epochs):
    """Issue 27 (f): (d)'s SELU network (as the book) with plain SGD and the book's 1cycle schedule,
    max_rate 0.05, over a fixed 15 epochs (the book's n_epochs; --epochs is ignored), no early
    stopping: the test accuracy is the last epoch's weights'."""
    x_train, y_train, x_test, y_test = exercise2_data(data)
    keras.utils.set_random_seed(seed)
    model = selu_model(x_train)
    model.compile(optimizer=keras.optimizers.SGD(), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    n_epochs, batch_size = 15, 128
    fitted = int(len(x_train) * (1 - 0.2))  # what validation_split=0.2 leaves for training: 4,000
    onecycle = OneCycleScheduler(math.ceil(fitted / batch_size) * n_epochs, max_rate=0.05)
    info = EpochInfo()
    t0 = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=n_epochs, batch_size=batch_size, validation_split=0.2,
                        callbacks=[onecycle, info], verbose=0)
    return model, NoEarlyStopping(history), info, history, time.perf_counter() - t0, x_test, y_test


def lab3(seed, data, epochs):
    x_train, y_train, x_test, y_test = data
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    y_train = keras.utils.to_categorical(y_train, 10)
    y_test = keras.utils.to_categorical(y_test, 10)

    keras.utils.set_random_seed(seed)
    model = lab3_model()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    early = keras.callbacks.EarlyStopping(monitor="val_loss", patience=10, restore_best_weights=True)
    reduce = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=5, min_lr=1e-5)
    info = EpochInfo()
    t0 = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=32, validation_split=0.2,
                        callbacks=[early, reduce, info], verbose=0)
    return model, early, info, history, time.perf_counter() - t0, x_test, y_test


def lab3_model():
    return keras.Sequential([
        keras.Input(shape=(32, 32, 3)),
        keras.layers.Flatten(),
        keras.layers.Dense(512, activation="relu"),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dropout(0.4),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10, activation="softmax"),
    ])


def exercise2_model():
    model = keras.Sequential([keras.Input(shape=(3072,))])
    for _ in range(4):
        model.add(keras.layers.Dense(256, activation="elu", kernel_initializer="he_normal"))
    model.add(keras.layers.Dense(10, activation="softmax"))
    return model


def info_line():
    return {
        "what": "info", "tensorflow": tf.__version__, "keras": keras.__version__,
        "numpy": np.__version__, "python": sys.version.split()[0],
        # 0 means "TensorFlow's default": one thread per core for each pool.
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "cpus": os.cpu_count(),
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on)"),
    }


def train(args):
    data = load_cifar10(args.dir)
    run = {"exercise2": exercise2, "lab3": lab3, "ex2bn": ex2bn, "ex2selu": ex2selu, "ex2onecycle": ex2onecycle}[args.lab]
    for seed in parse_seeds(args.seeds):
        model, early, info, history, seconds, x_test, y_test = run(seed, data, args.epochs)
        test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
        h = history.history
        best = early.best_epoch  # 0-based
        out = {
            "who": "keras", "backend": f"TensorFlow {tf.__version__} CPU, Keras {keras.__version__}",
            "jit_compile": bool(model.jit_compile), "lab": args.lab, "seed": seed,
            "epochs": len(h["loss"]), "best_epoch": best + 1,
            "stopped_epoch": early.stopped_epoch + 1 if early.stopped_epoch else 0,
            "best_val_loss": h["val_loss"][best], "best_val_accuracy": h["val_accuracy"][best],
            "max_val_accuracy": max(h["val_accuracy"]),
            "test_loss": float(test_loss), "test_accuracy": float(test_acc), "train_seconds": seconds,
            "history": {k: [float(v) for v in h[k]] for k in ("loss", "accuracy", "val_loss", "val_accuracy")}
            | {"learning_rate": info.lr, "seconds": info.seconds},
        }
        print(json.dumps(out), flush=True)


def random_data(n, sparse, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8).astype("float32") / 255
    y = rng.integers(0, 10, size=n)
    return x, (y if sparse else keras.utils.to_categorical(y, 10))


def speed(args):
    print(json.dumps(info_line()), flush=True)
    refs = {
        # name: (model builder, optimizer, loss, batch, sparse labels, input flattened)
        "lab3": (lab3_model, lambda: keras.optimizers.Adam(0.001), "categorical_crossentropy", 32, False, False),
        "exercise2": (exercise2_model, lambda: keras.optimizers.Nadam(0.001),
                      "sparse_categorical_crossentropy", 128, True, True),
        "ex2bn": (ex2bn_model, lambda: keras.optimizers.Nadam(5e-4),
                  "sparse_categorical_crossentropy", 128, True, True),
    }
    for name in [m for m in args.models.split(",") if m]:
        build, opt, loss, batch, sparse, flat = refs[name]
        keras.utils.set_random_seed(1)
        model = build()
        model.compile(optimizer=opt(), loss=loss, metrics=["accuracy"])
        x, y = random_data(args.steps * batch, sparse, 1)
        if flat:
            x = x.reshape(-1, 3072)
        model.fit(x, y, epochs=1, batch_size=batch, shuffle=False, verbose=0)  # traces the graph
        runs = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            model.fit(x, y, epochs=1, batch_size=batch, shuffle=False, verbose=0)
            runs.append((time.perf_counter() - t0) * 1e3 / args.steps)
        print(json.dumps({"model": name, "what": "step", "batch": batch, "ms_per_step": float(np.median(runs)),
                          "runs_ms_per_step": runs}), flush=True)
    if args.epoch:
        keras.utils.set_random_seed(2)
        model = lab3_model()
        model.compile(optimizer=keras.optimizers.Adam(0.001), loss="categorical_crossentropy", metrics=["accuracy"])
        x, y = random_data(50000, False, 2)
        t0 = time.perf_counter()
        model.fit(x, y, epochs=1, batch_size=32, validation_split=0.2, verbose=0)
        print(json.dumps({"model": "lab3", "what": "epoch", "batch": 32, "train_samples": 40000,
                          "val_samples": 10000, "s_per_epoch": time.perf_counter() - t0}), flush=True)


def parse_seeds(s):
    out = []
    for f in s.split(","):
        a, _, b = f.strip().partition("-")
        out += list(range(int(a), int(b or a) + 1))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lab", choices=("exercise2", "lab3", "ex2bn", "ex2selu", "ex2onecycle"), default="exercise2")
    p.add_argument("--seeds", default="1-20")
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--dir", default=os.environ.get("CIFAR10_DIR", ""))
    p.add_argument("--speed", action="store_true")
    p.add_argument("--models", default="lab3,exercise2")
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--epoch", action="store_true")
    args = p.parse_args()
    if args.speed:
        speed(args)
        return
    if not args.dir:
        sys.exit("keras_labs.py: set CIFAR10_DIR or --dir to the folder holding cifar-10-batches-py")
    train(args)


if __name__ == "__main__":
    main()
