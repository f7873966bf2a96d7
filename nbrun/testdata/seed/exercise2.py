# The code cells of exercise 2 in the seed notebook (Keras), as a student hands them in, one
# block per cell. The seed notebook itself is not part of this repository: this is its code,
# transcribed in the notebook's order (the same model, compile, fit and evaluation as
# bench/keras/keras_labs.py). nbrun's TestExercise2LinesAgainstSeed counts its non-blank lines
# against the code cells of notebooks/exercise2.ipynb.

# Cell: imports and seeds
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense, Flatten
from tensorflow.keras.optimizers import Nadam
from tensorflow.keras.callbacks import EarlyStopping
import matplotlib.pyplot as plt
import seaborn as sns
from sklearn.metrics import confusion_matrix, classification_report

np.random.seed(42)
tf.random.set_seed(42)

# Cell: the data (x_train, y_train, x_test, y_test loaded and scaled to [0, 1] as in lab 3)
x_train_small, y_train_small = x_train[:5000], y_train[:5000]
x_test_small, y_test_small = x_test[:1000], y_test[:1000]
print("Training samples:", x_train_small.shape[0], "test samples:", x_test_small.shape[0])

# Cell: the network
model = Sequential()
model.add(Flatten(input_shape=(32, 32, 3)))
model.add(Dense(256, activation='elu', kernel_initializer='he_normal'))
model.add(Dense(256, activation='elu', kernel_initializer='he_normal'))
model.add(Dense(256, activation='elu', kernel_initializer='he_normal'))
model.add(Dense(256, activation='elu', kernel_initializer='he_normal'))
model.add(Dense(10, activation='softmax'))
model.compile(optimizer=Nadam(learning_rate=0.001),
              loss='sparse_categorical_crossentropy',
              metrics=['accuracy'])
model.summary()

# Cell: training
early_stopping = EarlyStopping(monitor='val_loss', patience=5, restore_best_weights=True)
history = model.fit(x_train_small, y_train_small,
                    epochs=50,
                    batch_size=128,
                    validation_split=0.2,
                    callbacks=[early_stopping],
                    verbose=1)

# Cell: evaluation
test_loss, test_acc = model.evaluate(x_test_small, y_test_small, verbose=0)
print(f"Test loss: {test_loss:.4f}")
print(f"Test accuracy: {test_acc:.4f}")

# Cell: evaluation plot
plt.figure(figsize=(12, 4))
plt.subplot(1, 2, 1)
plt.plot(history.history['loss'], label='Training loss')
plt.plot(history.history['val_loss'], label='Validation loss')
plt.title('Loss')
plt.legend()
plt.subplot(1, 2, 2)
plt.plot(history.history['accuracy'], label='Training accuracy')
plt.plot(history.history['val_accuracy'], label='Validation accuracy')
plt.title('Accuracy')
plt.legend()
plt.show()
y_pred = np.argmax(model.predict(x_test_small), axis=1)
cm = confusion_matrix(y_test_small, y_pred)
plt.figure(figsize=(8, 6))
sns.heatmap(cm, annot=True, fmt='d', cmap='Blues')
plt.title('Confusion matrix')
plt.xlabel('Predicted')
plt.ylabel('True')
plt.show()
print(classification_report(y_test_small, y_pred))
