#!/usr/bin/env python3
"""Regenerates the Keras fixtures of Tools/conformance/keras/: the seed model shape of the product
(Conv2D, MaxPooling2D, Reshape, LSTM, Flatten, Dense) with seeded random weights, saved the way
users save it and exported to ONNX with tf2onnx (opset 17):

  seed_keras2_h5.onnx      Keras 2 (tf_keras): model.save("seed.h5"), reloaded,
                           tf2onnx.convert.from_keras -> an ONNX LSTM node.
  seed_keras3_keras.onnx   Keras 3: model.save("seed.keras"), reloaded, its layers rebuilt in tf_keras
                           with the same weights (a second process that never imports Keras 3),
                           then tf2onnx.convert.from_keras -> an ONNX LSTM node.
  seed_keras3_loop.onnx    Keras 3 exported directly (tf2onnx.convert.from_function on the reloaded
                           model): tf2onnx does not recognise Keras 3's LSTM loop and writes
                           Loop/Less/And; vigil-convert folds Less/And and refuses the Loop by name.
                           Kept to pin that behaviour; not converted by the tests.

Keras 3's own model.export(format="onnx") and from_keras on a Keras 3 model fail with tf2onnx 1.17
here (an onnx.external_data_helper AttributeError once Keras 3 is imported, and KeyError
'keras_tensor_...'), which is why the rebuild runs in its own process.

Needs TensorFlow, so it runs in a throwaway venv, never in the test command:

  python3 -m venv /tmp/kvenv && /tmp/kvenv/bin/pip install tensorflow-cpu tf2onnx tf_keras onnx==1.22.0
  /tmp/kvenv/bin/python Tools/conformance/keras/export.py

(tested with tensorflow-cpu 2.21.0, keras 3.15.1, tf_keras 2.21.0, tf2onnx 1.17.0, onnx 1.22.0).
The rebuild handles Sequential models of standard layers (it copies each layer's constructor
arguments and the weights, and checks the outputs agree). Then convert as a user would:
vigil-convert seed_keras3_keras.onnx --calibration CALIB.npy -o seed.vigil, with CALIB.npy
float32 [N, 32, 8, 1]. Tools/conformance/recurrent_models.py checks the fixtures.
"""
import inspect, json, os, subprocess, sys, tempfile
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPE = (32, 8, 1)  # e.g. 32 time steps of an 8-channel window, as an image with one channel
OPSET = 17


def build(K, seed):
    """The same architecture in either Keras: K is tf_keras or keras."""
    K.utils.set_random_seed(seed)
    return K.Sequential([
        K.Input(SHAPE),
        K.layers.Conv2D(8, 3, padding="same", activation="relu"),
        K.layers.MaxPooling2D((2, 2)),                       # [16, 4, 8]
        K.layers.Reshape((16, 32)),                          # time steps x features
        K.layers.LSTM(16, return_sequences=True),
        K.layers.Flatten(),
        K.layers.Dense(3, activation="softmax"),
    ])


def spec():
    import tensorflow as tf
    return (tf.TensorSpec((1,) + SHAPE, tf.float32, name="input"),)


def keras2(d):
    import tf2onnx, tf_keras
    m = build(tf_keras, 2)
    m.save(os.path.join(d, "seed.h5"))
    m = tf_keras.models.load_model(os.path.join(d, "seed.h5"))
    out = os.path.join(HERE, "seed_keras2_h5.onnx")
    tf2onnx.convert.from_keras(m, input_signature=spec(), opset=OPSET, output_path=out)
    print("wrote", out)


def keras3(d):
    """Saves and reloads the Keras 3 model, writes the direct (Loop) export, and dumps each layer's
    class, config and weights plus a probe input/output for the tf_keras rebuild."""
    import tensorflow as tf, tf2onnx, keras
    m = build(keras, 3)
    m.save(os.path.join(d, "seed.keras"))
    m = keras.saving.load_model(os.path.join(d, "seed.keras"))
    fn = tf.function(lambda x: m(x, training=False), input_signature=spec())
    out = os.path.join(HERE, "seed_keras3_loop.onnx")
    tf2onnx.convert.from_function(fn, input_signature=spec(), opset=OPSET, output_path=out)
    print("wrote", out)
    layers = [{"class": type(l).__name__, "config": {k: v for k, v in l.get_config().items() if not isinstance(v, dict)}}
              for l in m.layers]
    probe = np.random.default_rng(0).normal(size=(4,) + SHAPE).astype(np.float32)
    arrays = {f"w{i}": w for i, w in enumerate(m.get_weights())}
    np.savez(os.path.join(d, "keras3.npz"), probe=probe, expected=np.asarray(m(probe)), **arrays)
    with open(os.path.join(d, "keras3.json"), "w") as f:
        json.dump({"input": list(m.input_shape[1:]), "layers": layers, "weights": len(arrays)}, f)


def rebuild_in_tf_keras(d):
    import tf2onnx, tf_keras
    desc = json.load(open(os.path.join(d, "keras3.json")))
    data = np.load(os.path.join(d, "keras3.npz"))
    layers = [tf_keras.Input(tuple(desc["input"]))]
    for l in desc["layers"]:
        cls = getattr(tf_keras.layers, l["class"])
        params = inspect.signature(cls.__init__).parameters
        layers.append(cls(**{k: v for k, v in l["config"].items() if k in params or k in ("name", "trainable")}))
    m = tf_keras.Sequential(layers)
    m.set_weights([data[f"w{i}"] for i in range(desc["weights"])])
    err = np.abs(m(data["probe"]).numpy() - data["expected"]).max()
    assert err < 1e-5, f"the tf_keras rebuild differs from the Keras 3 model by {err}"
    out = os.path.join(HERE, "seed_keras3_keras.onnx")
    tf2onnx.convert.from_keras(m, input_signature=spec(), opset=OPSET, output_path=out)
    print(f"wrote {out} (tf_keras rebuild matches Keras 3 within {err:.1e})")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--rebuild":
        return rebuild_in_tf_keras(sys.argv[2])
    with tempfile.TemporaryDirectory() as d:
        keras2(d)
        keras3(d)
        subprocess.run([sys.executable, os.path.abspath(__file__), "--rebuild", d], check=True)


if __name__ == "__main__":
    sys.exit(main())
