#!/usr/bin/env python3
"""Guest instructions per inference of Vigil on aarch64 (the Embedded Swift core with the C kernels,
Tools/embedded/build-a64-kernels.sh) under qemu-aarch64, next to the peers of count_arm.sh.

Per model and CPU, `driver --bench WARMUP RUNS MODEL` runs under the insncount plugin with clock=1.
The driver reads the clock twice per timed call ("store the input, invoke", as `vigil bench
--threads 1` times it) and never after, so the last 2*RUNS-1 counts between clock reads are call,
loop overhead, call, ...; the overheads must all be equal (the same code every time), which is
count.py's `timed_loop` test. The input is vigil bench's pseudo-random float input (the LCG of
BenchCommand.swift), which the x86 count (count_x86.sh: `vigil bench`) also uses.

Before counting, each model's output under each CPU must equal the host's `vigil infer` output
bit for bit on that same input (driver normal mode, float32 bytes compared).

Peers come from count_arm.sh's --json files (--peers CPU=FILE), if given; they are not rerun here.

--symbols N adds the N hottest symbols of ours per model and CPU: the driver runs twice more under
insncount's blocks=PATH (executions per translation block), with 1 and 3 timed calls and no
warm-up; the difference of the two profiles is two inferences exactly (loading and the first call
cancel out), halved. Addresses are mapped with `nm` after subtracting the base where qemu-aarch64
7.2 loads a static-pie guest (0x5500000000); the script says so if most instructions fall outside
the driver's symbols (another base).
Runs on the system python3 with numpy (no torch: the models already exist in .build-qemu/models).
"""
import argparse, json, os, re, statistics, subprocess, sys, tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
MODELS = ["ecg_cnn_1d", "mobilenet_gray128", "mobilenet_v2", "mlp"]   # count.py's order
DEFAULT_RUNS = {"ecg_cnn_1d": 20, "mobilenet_gray128": 10, "mobilenet_v2": 5, "mlp": 20}   # as count.py
PEERS = [("ort_s8", "ORT s8"), ("ort_u8", "ORT u8"), ("litert_int8", "LiteRT int8")]


def bench_input(shape):
    """BenchCommand.swift's float32 input: an LCG from 0x5EED, (x >> 11) % 2001 - 1000, / 1000."""
    n = int(np.prod(shape))
    out = np.empty(n, np.float32)
    state, mask = 0x5EED, (1 << 64) - 1
    for k in range(n):
        state = (state * 6364136223846793005 + 1442695040888963407) & mask
        out[k] = np.float32((state >> 11) % 2001 - 1000) / np.float32(1000)
    return out.reshape(shape)


def input_shape(host, model):
    """The model's input shape from `vigil inspect` (its metadata block is JSON)."""
    text = subprocess.run([host, "inspect", model], capture_output=True, text=True, check=True).stdout
    meta = json.loads(text[text.index("{", text.index("metadata")):text.index("\ntensors")])
    (inp,) = meta["inputs"]
    if inp["dtype"] != "float32":
        raise SystemExit(f"{model}: input is {inp['dtype']}; the driver feeds float32")
    return tuple(inp["shape"])


def check(args, name, model, work):
    """Host `vigil infer` against the aarch64 driver on the bench input, every CPU: equal bytes."""
    shape = input_shape(args.host, model)
    x = bench_input(shape)
    np.save(f"{work}/{name}-in.npy", x)
    x.astype("<f4").tofile(f"{work}/{name}-in.f32")
    subprocess.run([args.host, "infer", model, "--input", f"{work}/{name}-in.npy", "--output", f"{work}/{name}-x86.npy"],
                   check=True, capture_output=True)
    stem, i, outs = f"{work}/{name}-x86", 1, [np.load(f"{work}/{name}-x86.npy")]
    while os.path.exists(f"{stem}.{i}.npy"):
        outs.append(np.load(f"{stem}.{i}.npy"))
        i += 1
    want = np.concatenate([o.reshape(o.shape[0], -1) for o in outs], axis=1).astype("<f4").tobytes()
    for cpu in args.cpus:
        got_path = f"{work}/{name}-{cpu}.f32"
        r = subprocess.run([args.qemu, "-cpu", cpu, args.driver, model, f"{work}/{name}-in.f32", got_path],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"{name} on {cpu}: driver failed: {r.stderr.strip()}")
        with open(got_path, "rb") as f:
            got = f.read()
        same = got == want
        print(f"check {name:18} {cpu:11} {r.stdout.strip()}: {'identical to' if same else 'DIFFERENT from'} "
              f"the host's vigil infer ({len(want) // 4} floats)", file=sys.stderr, flush=True)
        if not same:
            raise SystemExit(f"{name} on {cpu}: output differs from the host's; not counting a wrong run")


def count(args, model, cpu, runs):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    try:
        r = subprocess.run(["nice", "-n", "10", args.qemu, "-cpu", cpu, "-plugin", f"{args.plugin},out={out},clock=1",
                            args.driver, "--bench", str(args.warmup), str(runs), model],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"{model} on {cpu}: driver --bench failed: {r.stderr.strip()}")
        with open(out) as f:
            res = json.load(f)
    finally:
        os.unlink(out)
    info = json.loads(r.stdout)
    lists = list(res.get("clock_deltas", {}).values())
    if len(lists) != 1:
        raise SystemExit(f"{model} on {cpu}: clock reads on {len(lists)} threads, expected 1")
    d = lists[0][-(2 * runs - 1):]
    calls, gaps = d[0::2], d[1::2]
    if len(d) != 2 * runs - 1 or len(set(gaps)) > 1 or (gaps and gaps[0] >= min(calls)):
        raise SystemExit(f"{model} on {cpu}: the clock counts do not show {runs} timed calls: {lists[0][-2 * runs:]}")
    return {"value": statistics.median_low(calls), "min": min(calls), "max": max(calls), "calls": calls,
            "loop_overhead": gaps[0] if gaps else None, "total": res["total"], "kernel": info["kernel"],
            "kernels": info["kernels"]}


QEMU_PIE_BASE = 0x5500000000


def symbol_table(driver):
    out = subprocess.run(["aarch64-linux-gnu-nm", "-n", "--defined-only", driver], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"count_vigil_arm: nm failed on {driver}: {out.stderr.strip()} (apt-get install binutils-aarch64-linux-gnu)")
    syms = []
    for line in out.stdout.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] in "tTwW":
            syms.append((int(f[0], 16), f[2]))
    return syms


def profile(args, model, cpu, runs, syms):
    """Instructions per symbol over the whole process for `driver --bench 0 RUNS`."""
    import bisect
    with tempfile.NamedTemporaryFile(suffix=".txt", delete=False) as f:
        path = f.name
    try:
        r = subprocess.run(["nice", "-n", "10", args.qemu, "-cpu", cpu, "-plugin", f"{args.plugin},blocks={path}",
                            args.driver, "--bench", "0", str(runs), model], capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"{model} on {cpu}: driver --bench (profile) failed: {r.stderr.strip()}")
        addrs = [a for a, _ in syms]
        per, outside = {}, 0
        with open(path) as f:
            for line in f:
                v, n, c = line.split()
                at, k = int(v, 16) - QEMU_PIE_BASE, int(n) * int(c)
                i = bisect.bisect_right(addrs, at) - 1
                if i < 0 or at < 0:
                    outside += k
                    continue
                per[syms[i][1]] = per.get(syms[i][1], 0) + k
        return per, outside
    finally:
        os.unlink(path)


def hottest(args, model, cpu, syms, top):
    (one, out1), (three, out3) = profile(args, model, cpu, 1, syms), profile(args, model, cpu, 3, syms)
    diff = {k: (three.get(k, 0) - one.get(k, 0)) / 2 for k in set(one) | set(three)}
    total = sum(v for v in diff.values() if v > 0)
    if (out3 - out1) > 0.05 * max(total, 1):
        print(f"count_vigil_arm: {model} on {cpu}: {out3 - out1:,} instructions outside the driver's symbols; "
              f"is the guest loaded at {QEMU_PIE_BASE:#x}?", file=sys.stderr)
    ranked = sorted(((v, k) for k, v in diff.items() if v > 0), reverse=True)[:top]
    return [{"symbol": k, "instructions": int(round(v)), "share": v / total if total else 0.0} for v, k in ranked]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--driver", required=True, help="aarch64 driver with the C kernels (build-a64-kernels.sh)")
    ap.add_argument("--plugin", required=True, help="libinsncount.so (build.sh)")
    ap.add_argument("--host", required=True, help="x86 vigil for inspect/infer (the output check)")
    ap.add_argument("--models", default=os.path.join(ROOT, ".build-qemu", "models"))
    ap.add_argument("--qemu", default="qemu-aarch64")
    ap.add_argument("--cpus", default="cortex-a72,cortex-a76")
    ap.add_argument("--only", action="append", choices=MODELS)
    ap.add_argument("--runs", type=int, help="timed calls (default per model: %s)" % DEFAULT_RUNS)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--no-check", action="store_true", help="skip the comparison with the host's output")
    ap.add_argument("--peers", action="append", default=[], metavar="CPU=FILE", help="count_arm.sh --json output")
    ap.add_argument("--symbols", type=int, default=0, metavar="N", help="also the N hottest symbols of ours per model and CPU")
    ap.add_argument("--json")
    args = ap.parse_args()
    args.cpus = args.cpus.split(",")
    if args.runs is not None and args.runs < 2:
        ap.error("--runs must be at least 2 (the loop overhead between calls is the consistency check)")
    peers = {}
    for spec in args.peers:
        cpu, path = spec.split("=", 1)
        if os.path.exists(path):
            with open(path) as f:
                peers[cpu] = {r["model"]: {k: v[0] for k, v in r["counts"].items()} for r in json.load(f)["rows"]}
    work = tempfile.mkdtemp(prefix="count-vigil-arm-")
    rows = []
    for name in MODELS:
        if args.only and name not in args.only:
            continue
        model = os.path.join(args.models, f"{name}.vigil")
        if not os.path.exists(model):
            print(f"count_vigil_arm: no {model} (count_x86.sh or count_arm.sh makes it); skipped", file=sys.stderr)
            continue
        if not args.no_check:
            check(args, name, model, work)
        runs = args.runs or DEFAULT_RUNS[name]
        for cpu in args.cpus:
            c = count(args, model, cpu, runs)
            print(f"count {name:18} {cpu:11} {c['value']:>12,} instructions/inference ({runs} calls: "
                  f"min {c['min']:,}, max {c['max']:,}), kernel {c['kernel']}: {c['kernels']}", file=sys.stderr, flush=True)
            row = {"model": name, "cpu": cpu, "runs": runs, "vigil": c, "peers": peers.get(cpu, {}).get(name, {})}
            if args.symbols > 0:
                row["symbols"] = hottest(args, model, cpu, symbol_table(args.driver), args.symbols)
            rows.append(row)
    qv = subprocess.run([args.qemu, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    print(f"\nGuest instructions per inference under {qv}; Vigil = Embedded Swift core "
          f"({os.path.relpath(args.driver, ROOT)}), median of the timed calls after {args.warmup} warm-up calls; "
          f"peers from count_arm.sh (Python binding included).\n")
    print("| model | CPU | Vigil int8 | Vigil kernels | ORT s8 | ORT u8 | LiteRT int8 | Vigil / lowest peer |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        p = r["peers"]
        cells = [f"{p[k]:,}" if k in p else "n/a" for k, _ in PEERS]
        ratio = f"{r['vigil']['value'] / min(p.values()):.2f}x" if p else "n/a"
        print(f"| {r['model']} | {r['cpu']} | {r['vigil']['value']:,} | {r['vigil']['kernels']} | "
              f"{' | '.join(cells)} | {ratio} |")
    if args.symbols > 0:
        print(f"\nHottest symbols of ours, instructions per inference (insncount blocks=, difference of 3 and 1 timed calls):\n")
        print("| model | CPU | symbol | instructions | share |")
        print("|---|---|---|---:|---:|")
        for r in rows:
            for h in r.get("symbols", []):
                print(f"| {r['model']} | {r['cpu']} | `{h['symbol']}` | {h['instructions']:,} | {100 * h['share']:.1f}% |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"qemu": qv, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
