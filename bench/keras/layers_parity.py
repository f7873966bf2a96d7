"""Runs Keras 3's own layers on fixed weights and inputs, for keras/layers_parity_test.go, which
runs cifarlab's on the same ones and compares.

    KERAS_BACKEND=jax python layers_parity.py < cases.json > results.json

Each case is a small Sequential model (its layers, input shape and weights in Keras's order), a
batch x and a fixed cotangent r: the result is the output y = model(x, training=...), the
gradients of sum(y·r) + the model's losses (its kernel regularizers' penalties) with respect to x
and to every trainable weight, and every non-trainable
weight after the call (BatchNormalization's moving statistics after one training step; an adapted
Normalization's mean and variance). A Normalization is adapted to the case's "adapt" data by
Keras itself. An AlphaDropout draws its mask from the case's "keep" values (1 kept, 0 dropped)
instead of its random generator, so that Keras's own formula runs on cifarlab's mask.

A case "augment" runs random preprocessing layers (RandomFlip, RandomTranslation, RandomRotation) in
training on cifarlab's draws: every call of the JAX backend's random.uniform that the layers make
returns the next of the case's "u" values (uniform in [0, 1), scaled to the call's [minval,
maxval) as jax.random.uniform scales them), so that Keras's own get_random_transformation and
transform_images run on the values cifarlab drew. The result is the output y.

A case "loss" computes a Keras cross-entropy loss object (its "loss" name and "from_logits") on the
case's x as the model's output and its "labels" (class ids or one-hot rows): y is the loss value
(Keras's mean over the batch) and grad_x its gradient with respect to x.

A case "initializer" instead draws a kernel of the given shape with a Keras initializer and
returns its mean, standard deviation and largest magnitude.
"""
import importlib
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras.src import ops as keras_ops  # noqa: E402

_fixed_uniform = None
_keras_uniform = keras_ops.random.uniform


def _uniform(shape, *args, **kwargs):
    """ops.random.uniform, or the case's mask as uniform values (1 ≥ rate: kept; 0 < rate)."""
    if _fixed_uniform is None:
        return _keras_uniform(shape, *args, **kwargs)
    return jnp.reshape(jnp.asarray(_fixed_uniform, dtype="float32"), shape)


keras_ops.random.uniform = _uniform

_draws = []
_jax_random = importlib.import_module("keras.src.backend.jax.random")
_jax_uniform = _jax_random.uniform


def _drawn_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """The backend's random.uniform, or the next of an augment case's draws scaled to [minval, maxval)."""
    if not _draws:
        return _jax_uniform(shape, minval=minval, maxval=maxval, dtype=dtype, seed=seed)
    u = jnp.reshape(jnp.asarray(_draws.pop(0), dtype="float32"), shape)
    return u * (jnp.float32(maxval) - jnp.float32(minval)) + jnp.float32(minval)


_jax_random.uniform = _drawn_uniform


def regularizer(spec):
    """The layer's kernel regularizer: keras.regularizers.L2 when the case gives a factor."""
    return keras.regularizers.L2(spec["l2"]) if spec.get("l2") else None


def layer(spec):
    t = spec["type"]
    if t == "Dense":
        return keras.layers.Dense(spec["units"], activation=spec.get("activation") or None,
                                  kernel_regularizer=regularizer(spec))
    if t == "BatchNormalization":
        return keras.layers.BatchNormalization(momentum=spec["momentum"], epsilon=spec["epsilon"])
    if t == "AlphaDropout":
        return keras.layers.AlphaDropout(spec["rate"])
    if t == "Flatten":
        return keras.layers.Flatten()
    if t == "Normalization":
        return keras.layers.Normalization()
    if t == "Conv2D":
        return keras.layers.Conv2D(spec["filters"], tuple(spec["kernel_size"]), strides=tuple(spec["strides"]),
                                   padding=spec["padding"], activation=spec.get("activation") or None,
                                   kernel_regularizer=regularizer(spec))
    if t == "MaxPooling2D":
        return keras.layers.MaxPooling2D(tuple(spec["pool_size"]), strides=tuple(spec["strides"]), padding=spec["padding"])
    if t == "AveragePooling2D":
        return keras.layers.AveragePooling2D(tuple(spec["pool_size"]), strides=tuple(spec["strides"]),
                                             padding=spec["padding"])
    if t == "GlobalAveragePooling2D":
        return keras.layers.GlobalAveragePooling2D()
    if t == "RandomFlip":
        return keras.layers.RandomFlip(spec["mode"])
    if t == "RandomTranslation":
        return keras.layers.RandomTranslation(spec.get("height_factor", 0.0), spec.get("width_factor", 0.0))
    if t == "RandomRotation":
        return keras.layers.RandomRotation(spec["factor"])
    raise ValueError(f"unknown layer {t}")


def run_case(c):
    global _fixed_uniform
    if c["kind"] == "initializer":
        init = keras.initializers.get(c["initializer"])
        w = np.asarray(init(tuple(c["shape"]), dtype="float32"), dtype=np.float64)
        return {"mean": float(w.mean()), "std": float(w.std()), "max_abs": float(np.abs(w).max())}
    shape = tuple(c["input_shape"])
    x = np.asarray(c["x"], dtype=np.float32).reshape((-1,) + shape)
    if c["kind"] == "loss":
        sparse = c["loss"] == "sparse_categorical_crossentropy"
        cls = keras.losses.SparseCategoricalCrossentropy if sparse else keras.losses.CategoricalCrossentropy
        loss_fn = cls(from_logits=c["from_logits"])
        labels = np.asarray(c["labels"], dtype=np.int32 if sparse else np.float32)
        if not sparse:
            labels = labels.reshape(x.shape)
        value, gx = jax.value_and_grad(lambda z: loss_fn(labels, z))(jnp.asarray(x))
        return {"y": [float(value)], "grad_x": np.asarray(gx, dtype=np.float64).ravel().tolist()}
    if c["kind"] == "augment":
        model = keras.Sequential([keras.Input(shape)] + [layer(spec) for spec in c["layers"]])
        _draws.extend(c["u"])
        y = model(jnp.asarray(x), training=True)
        if _draws:
            raise ValueError(f"{c['name']}: Keras drew {len(c['u']) - len(_draws)} of the {len(c['u'])} draws")
        return {"y": np.asarray(y, dtype=np.float64).ravel().tolist()}
    layers = []
    for spec in c["layers"]:
        lay = layer(spec)
        if spec["type"] == "Normalization":
            lay.adapt(np.asarray(c["adapt"], dtype=np.float32).reshape((-1,) + shape))
        layers.append(lay)
    model = keras.Sequential([keras.Input(shape)] + layers)
    for lay, spec in zip(layers, c["layers"]):
        if spec.get("weights"):
            lay.set_weights([np.asarray(w, dtype=np.float32).reshape(v.shape)
                             for w, v in zip(spec["weights"], lay.weights)])
    _fixed_uniform = c.get("keep")
    r = jnp.asarray(np.asarray(c["r"], dtype=np.float32).reshape((-1,) + tuple(model.output_shape[1:])))
    tv = [v.value for v in model.trainable_variables]
    ntv = [v.value for v in model.non_trainable_variables]

    def loss(x, tv):
        y, new_ntv, losses = model.stateless_call(tv, ntv, x, training=c["training"], return_losses=True)
        return jnp.sum(y * r) + sum(losses), (y, new_ntv)

    (_, (y, new_ntv)), (gx, gtv) = jax.value_and_grad(loss, argnums=(0, 1), has_aux=True)(jnp.asarray(x), tv)
    _fixed_uniform = None
    flat = lambda a: np.asarray(a, dtype=np.float64).ravel().tolist()  # noqa: E731
    # Keras numbers its layers' names across models ("dense_3"): weights are named by the index
    # of their layer in the case and their own name.
    where = {id(v): (i, v.name) for i, lay in enumerate(layers) for v in lay.weights}
    named = lambda vs, values: [  # noqa: E731
        {"layer": where[id(v)][0], "name": where[id(v)][1], "values": flat(a)}
        for v, a in zip(vs, values) if id(v) in where]  # not a seed generator's state
    return {
        "y": flat(y),
        "grad_x": flat(gx),
        "grads": named(model.trainable_variables, gtv),
        "non_trainable": named(model.non_trainable_variables, new_ntv),
    }


def main():
    cases = json.load(sys.stdin)
    keras.utils.set_random_seed(27)
    json.dump([run_case(c) for c in cases], sys.stdout)


if __name__ == "__main__":
    main()
