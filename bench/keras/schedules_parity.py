"""Evaluates Keras 3's own learning-rate schedules, and the learning rate of a short fit with one,
for keras/schedules_parity_test.go, which compares cifarlab's.

    KERAS_BACKEND=jax python schedules_parity.py < cases.json > results.json

The input has "schedules": each a schedule as cifarlab serializes it ({"class_name", "config"},
Keras's names; a CosineDecay without warmup_target has Keras's None) with the steps to evaluate it
at; and "fit": a schedule, the samples, batch size and epochs of a fit of a small model with SGD.
The output has, per schedule, its values at the steps (float32, as float), and for the fit the
learning rate read by a callback at the beginning of every batch and at the end of every epoch
(float(model.optimizer.learning_rate), what Keras's callbacks log as "learning_rate").
"""
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
import numpy as np  # noqa: E402
import keras  # noqa: E402


def schedule(s):
    config = dict(s["config"])
    # JSON writes 0.0 as 0, which Keras would take as an integer tensor: the rates are floats.
    for key in ("initial_learning_rate", "decay_rate", "alpha", "warmup_target"):
        if key in config:
            config[key] = float(config[key])
    if "values" in config:
        config["values"] = [float(v) for v in config["values"]]
    if s["class_name"] == "CosineDecay" and not config.get("warmup_target"):
        config.pop("warmup_target", None)
        config.pop("warmup_steps", None)
    return getattr(keras.optimizers.schedules, s["class_name"])(**config)


def values(case):
    sched = schedule(case["schedule"])
    return [float(np.float32(sched(keras.ops.convert_to_tensor(step)))) for step in case["steps"]]


class Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.batch_rates, self.epoch_rates = [], []

    def on_train_batch_begin(self, batch, logs=None):
        self.batch_rates.append(float(self.model.optimizer.learning_rate))

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_rates.append(float(self.model.optimizer.learning_rate))


def fit(case):
    keras.utils.set_random_seed(1)
    n = case["samples"]
    x = np.random.default_rng(0).normal(size=(n, 8)).astype("float32")
    y = keras.utils.to_categorical(np.arange(n) % 3, 3)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=schedule(case["schedule"])), loss="categorical_crossentropy")
    rec = Recorder()
    model.fit(x, y, batch_size=case["batch_size"], epochs=case["epochs"], verbose=0, callbacks=[rec])
    return {"batch_rates": rec.batch_rates, "epoch_rates": rec.epoch_rates}


def main():
    cases = json.load(sys.stdin)
    json.dump({"schedules": [values(c) for c in cases["schedules"]], "fit": fit(cases["fit"])}, sys.stdout)


if __name__ == "__main__":
    main()
