"""Drives Keras 3's own EarlyStopping and ReduceLROnPlateau over scripted metric sequences, for
keras/callbacks_parity_test.go, which drives cifarlab's over the same sequences and compares.

    KERAS_BACKEND=jax python callbacks_parity.py < cases.json > results.json

Each case is one callback with its arguments and the monitored value of every epoch; the model is
a stand-in that records what the callback does to it (stop_training, get_weights/set_weights, the
optimizer's learning rate, kept as a float32 like Keras's variable). The result of a case: how
many epochs ran, the stopped and best epochs (1-based, 0 for none), the epoch whose weights were
restored (0-based, -1 for none) and the learning rate of every epoch. Keras infers the direction
of an accuracy in mode "auto" from the compiled model's metrics, which the stand-in lacks; such a
case is run with mode "max", which is what Keras infers.
"""
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
import numpy as np  # noqa: E402
import keras  # noqa: E402


class Optimizer:
    def __init__(self, lr):
        self._lr = np.float32(lr)

    @property
    def learning_rate(self):
        return self._lr

    @learning_rate.setter
    def learning_rate(self, value):
        self._lr = np.float32(value)


class Model:
    """What the callbacks touch of a model: weights stand for the epoch they were taken at."""

    def __init__(self, lr):
        self.stop_training = False
        self.optimizer = Optimizer(lr)
        self.epoch = 0
        self.restored = -1

    def get_weights(self):
        return [np.array([self.epoch])]

    def set_weights(self, weights):
        self.restored = int(weights[0][0])
        self.epoch = self.restored


def run(case):
    mode = case["mode"]
    if mode == "auto" and "acc" in case["monitor"]:
        mode = "max"
    model = Model(case.get("lr", 0.001))
    if case["kind"] == "early":
        cb = keras.callbacks.EarlyStopping(
            monitor=case["monitor"], min_delta=case["min_delta"], patience=case["patience"], mode=mode,
            baseline=case.get("baseline"), restore_best_weights=case["restore"],
            start_from_epoch=case["start_from_epoch"])
    else:
        cb = keras.callbacks.ReduceLROnPlateau(
            monitor=case["monitor"], factor=case["factor"], patience=case["patience"], mode=mode,
            min_delta=case["min_delta"], cooldown=case["cooldown"], min_lr=case["min_lr"])
    cb.set_model(model)
    cb.on_train_begin()
    lrs, ran = [], 0
    for epoch, value in enumerate(case["values"]):
        if model.stop_training:
            break
        model.epoch = epoch
        lrs.append(float(model.optimizer.learning_rate))
        cb.on_epoch_end(epoch, {case["monitor"]: value})
        ran += 1
    cb.on_train_end()
    out = {"ran": ran, "lrs": lrs}
    if case["kind"] == "early":
        out.update(stopped=cb.stopped_epoch + 1 if cb.stopped_epoch > 0 else 0,
                   best=cb.best_epoch + 1 if cb.best is not None else 0, restored=model.restored)
    return out


def main():
    cases = json.load(sys.stdin)
    json.dump([run(c) for c in cases], sys.stdout)


if __name__ == "__main__":
    main()
