"""Does Keras 3 on TensorFlow shuffle anew every epoch? With the seed set it does not.

    .venv/bin/python shuffle_check.py seed      # keras.utils.set_random_seed(42) first
    .venv/bin/python shuffle_check.py noseed

A learning rate too small to move any weight makes the running loss after each batch depend only
on which samples came first; the script prints, per epoch, whether that sequence is epoch 1's.
Measured with TensorFlow 2.20 / Keras 3.15: "seed" gives [True, True, True] (the tf.data shuffle
repeats its draw every epoch), "noseed" [True, False, False].
"""
import os, sys; os.environ["TF_CPP_MIN_LOG_LEVEL"]="2"
import numpy as np, keras
class Rec(keras.callbacks.Callback):
    def on_train_begin(self, logs=None): self.e=[]
    def on_epoch_begin(self, epoch, logs=None): self.e.append([])
    def on_train_batch_end(self, batch, logs=None): self.e[-1].append(round(logs["loss"], 6))
if sys.argv[1] == "seed": keras.utils.set_random_seed(42)
rng=np.random.default_rng(0); x=rng.normal(size=(64,5)).astype("float32"); y=rng.integers(0,3,64)
m=keras.Sequential([keras.Input((5,)), keras.layers.Dense(3, activation="softmax")])
m.compile(optimizer=keras.optimizers.SGD(1e-30), loss="sparse_categorical_crossentropy")
r=Rec(); m.fit(x,y,batch_size=8,epochs=3,verbose=0,callbacks=[r])
print(sys.argv[1], "graph mode; epochs with the same batch order as epoch 1:", [e == r.e[0] for e in r.e])
