"""Runs one peer engine on one model between insncount markers; meant to run under QEMU user mode:

    qemu-x86_64 -cpu Haswell -plugin .build-qemu/libinsncount.so,out=N.json \\
        .venv-bench/bin/python Tools/bench/qemu/peer_run.py ort MODEL.onnx --warmup 2 --runs 5 --empty 5

Marked intervals, in order: --empty back-to-back marker pairs (what the marking itself costs from
Python, to subtract), then --runs timed calls, each the same call compare.py times (ORT: session.run
with the input feed; LiteRT: set_tensor, invoke, get_tensor). Warm-up calls are not marked.
Engines use one thread (ORT intra/inter_op_num_threads=1 and sequential, LiteRT num_threads=1), as
in compare.py: insncount sums every thread's instructions into one counter.

Imports only numpy and the engine (not compare.py, which imports torch: minutes under emulation).
"""
import argparse, ctypes

LIBC = ctypes.CDLL(None, use_errno=True)
START, STOP = -0x5649, -0x564A


def mark(fd):
    # libc close() on a negative fd: the syscall happens (and fails with EBADF, ignored), which is
    # all insncount needs. os.close would raise OSError, and the raise would count as inference.
    LIBC.close(fd)


def ort_call(path):
    import numpy as np
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    i = s.get_inputs()[0]
    shape = [d if isinstance(d, int) else 1 for d in i.shape]
    feed = {i.name: np.random.default_rng(7).normal(0, 1, shape).astype(np.float32)}
    return lambda: s.run(None, feed)


def litert_call(path):
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter
    it = Interpreter(model_path=path, num_threads=1)
    it.allocate_tensors()
    i, o = it.get_input_details()[0], it.get_output_details()[0]
    x = np.random.default_rng(7).normal(0, 1, i["shape"]).astype(np.float32)
    if i["dtype"] != np.float32:   # int8-input .tflite (litert-torch folds the input Quantize)
        s, z = i["quantization"]
        info = np.iinfo(i["dtype"])
        x = np.clip(np.round(x / s) + z, info.min, info.max).astype(i["dtype"])

    def call():
        it.set_tensor(i["index"], x)
        it.invoke()
        return it.get_tensor(o["index"])
    return call


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("engine", choices=["ort", "litert"])
    ap.add_argument("model")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--empty", type=int, default=5, help="empty marked intervals first (marker cost)")
    a = ap.parse_args()
    call = {"ort": ort_call, "litert": litert_call}[a.engine](a.model)
    for _ in range(a.warmup):
        call()
    for _ in range(a.empty):
        mark(START)
        mark(STOP)
    for _ in range(a.runs):
        mark(START)
        call()
        mark(STOP)
    from importlib.metadata import version
    print(f"{a.engine} {version({'ort': 'onnxruntime', 'litert': 'ai-edge-litert'}[a.engine])}")   # for count.py's header


if __name__ == "__main__":
    main()
