"""Lock-step check, Keras side: exercise 2's model (seed 1) written to OUT/w0.bin, trained on the
first N training images for E epochs (batch 128, validation_split 0.2; shuffled only with a 4th
argument), the weights written to OUT/w1.bin and the History printed. `go run ./bench/keras/stepcheck
-dir OUT -n N -epochs E` starts keras from w0.bin, trains the same way and compares.

    CIFAR10_DIR=... .venv/bin/python lockstep.py N E OUT
"""
import os, sys, json, numpy as np
os.environ["TF_CPP_MIN_LOG_LEVEL"]="2"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keras
from keras_labs import load_cifar10, exercise2_model
x, y, _, _ = load_cifar10(os.environ["CIFAR10_DIR"])
n = int(sys.argv[1]); out = sys.argv[3]
os.makedirs(out, exist_ok=True)
x = x[:n].reshape(-1, 3072).astype("float32") / 255.0; y = y[:n]
keras.utils.set_random_seed(1)
m = exercise2_model()
m.compile(optimizer=keras.optimizers.Nadam(0.001), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
def dump(path):
    with open(path, "wb") as f:
        for w in m.get_weights(): f.write(np.asarray(w, "float32").tobytes())
dump(os.path.join(out, "w0.bin"))
h = m.fit(x, y, epochs=int(sys.argv[2]), batch_size=128, shuffle=len(sys.argv) > 4, validation_split=0.2, verbose=0)
dump(os.path.join(out, "w1.bin"))
print(json.dumps(h.history))
