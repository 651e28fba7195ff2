#!/usr/bin/env python3
"""Guest instructions per operator of Vigil on aarch64 (the Embedded Swift core with the ARM C
kernels, Tools/embedded/build-a64-kernels.sh) under qemu-aarch64, per CPU (cortex-a72: NEON
kernels, cortex-a76: dot product). The aarch64 twin of vigil_ops.py; count_vigil_arm.sh --ops runs it.

`driver --ops WARMUP RUNS MODEL` runs under the insncount plugin with clock=1. After the warm-up,
each run is a call bracketed by clock_gettime exactly as `driver --bench` times it (store the input,
invoke: the whole-inference count of count_vigil_arm.py), then a call through
`Interpreter.invoke(perOp:clock:)` whose clock is clock_gettime, read before the first operator and
after each one. So the last RUNS*(ops+3)-1 clock deltas are, per run: whole call, gap (store the
input, enter), one count per operator, then the loop overhead before the next run. The operator
counts must be the same in every run (the same code on the same input); they include the clock
read after the operator (the libc wrapper and the closure: ~31 instructions each), so the operator
sum is the whole call less the input store (the gap) plus ~31 per operator; the report prints both.

Per operator: index, op code, kernel path of planned operators (conv/depthwise/fully connected:
what Interpreter.kernelPaths says for that operator alone), output shape, instructions, share of
the operator sum, op name. Then the sums per op code (Conv and DepthwiseConv per kernel path), and
the sum of the operators next to the whole call's count.

Before counting, the driver's output on each CPU must equal the host's `vigil infer` bit for bit on
the same input (count_vigil_arm.py's check), unless --no-check.

    Tools/bench/qemu/count_vigil_arm.sh --ops [--only mobilenet_v2] [--json FILE]
    python3 Tools/bench/qemu/vigil_ops_arm.py --driver D --plugin P --host VIGIL [--only M ...]
"""
import argparse, collections, json, os, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, HERE)
from count_vigil_arm import MODELS, check  # noqa: E402


def shape(s):
    return "x".join(str(d) for d in s) if s is not None else ""


def count_ops(args, model, cpu):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    try:
        r = subprocess.run(["nice", "-n", "10", args.qemu, "-cpu", cpu, "-plugin", f"{args.plugin},out={out},clock=1",
                            args.driver, "--ops", str(args.warmup), str(args.runs), model],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"{model} on {cpu}: driver --ops failed: {r.stderr.strip()}")
        with open(out) as f:
            res = json.load(f)
    finally:
        os.unlink(out)
    info = json.loads(r.stdout)
    n, runs = info["op_count"], args.runs
    lists = list(res.get("clock_deltas", {}).values())
    if len(lists) != 1:
        raise SystemExit(f"{model} on {cpu}: clock reads on {len(lists)} threads, expected 1")
    d = lists[0]
    if len(d) < runs * (n + 3) - 1:
        raise SystemExit(f"{model} on {cpu}: {len(d)} clock deltas, expected at least {runs * (n + 3) - 1}")
    d = [None] + d[-(runs * (n + 3) - 1):]   # per run: loop overhead (none before the first), whole, gap, ops
    per_run = [d[i * (n + 3):(i + 1) * (n + 3)] for i in range(runs)]
    wholes = [p[1] for p in per_run]
    gaps = [p[2] for p in per_run]
    ops = [p[3:] for p in per_run]
    varying = [k for k in range(n) if len({o[k] for o in ops}) > 1]
    return {"info": info, "ops": ops[-1], "whole": wholes[-1], "wholes": wholes, "gap": gaps[-1],
            "varying": {k: [o[k] for o in ops] for k in varying}, "total": res["total"]}


def key(op):
    """The summary group: the op code, and the kernel path for the operators that have several."""
    if op.get("path") and op["code"] in ("Conv", "DepthwiseConv", "FullyConnected"):
        return f"{op['code']} {op['path']}"
    return op["code"]


def report(name, cpu, c, top):
    ops, desc = c["ops"], c["info"]["ops"]
    total = sum(ops)
    whole = c["whole"]
    print(f"\n## {name} on {cpu} (kernel {c['info']['kernel']}: {c['info']['kernels']})\n")
    print(f"{total:,} instructions in {len(ops)} operators; whole timed call {whole:,} "
          f"(store the input + invoke, as driver --bench); sum of operators - whole = {total - whole:+,} "
          f"({100 * (total - whole) / whole:+.3f}%); gap before the first operator (store the input) {c['gap']:,}; "
          f"sum + gap - whole = {total + c['gap'] - whole:,} = {(total + c['gap'] - whole) / len(ops):.1f} per operator "
          f"(its closing clock read)")
    if c["varying"]:
        print(f"NOTE: operators whose count differs between the {len(c['wholes'])} runs (last run shown): "
              + ", ".join(f"{k}: {v}" for k, v in c["varying"].items()))
    if len(set(c["wholes"])) > 1:
        print(f"NOTE: whole-call counts differ between runs: {c['wholes']}")
    print()
    print(f"{'op':>4} {'code':<18} {'path':<16} {'output':<16} {'instructions':>13} {'share':>6}  name")
    for p, n in zip(desc, ops):
        print(f"{p['op']:4} {p['code']:<18} {p.get('path', ''):<16} {shape(p.get('out')):<16} {n:>13,} "
              f"{100 * n / total:5.1f}%  {p['name']}")
    by, cnt = collections.Counter(), collections.Counter()
    for p, n in zip(desc, ops):
        by[key(p)] += n
        cnt[key(p)] += 1
    print("\nper operator code (and kernel path):")
    for k, n in by.most_common():
        print(f"  {k:<28} {cnt[k]:3} ops {n:>13,} {100 * n / total:5.1f}%")
    if top:
        print(f"\ntop {top} operators:")
        for p, n in sorted(zip(desc, ops), key=lambda x: -x[1])[:top]:
            extra = f"in {shape(p.get('in'))} w {shape(p.get('w'))} out {shape(p.get('out'))}"
            if p.get("strides"):
                extra += f" stride {shape(p['strides'])}"
            print(f"  {p['op']:4} {p['code']:<14} {p.get('path', ''):<16} {n:>13,} {100 * n / total:5.1f}%  {extra}  {p['name']}")


def summary(name, counts):
    """One markdown table per model: the op-code groups side by side for every CPU."""
    cpus = list(counts)
    by = {cpu: collections.Counter() for cpu in cpus}
    nops = collections.Counter()
    for cpu in cpus:
        for p, n in zip(counts[cpu]["info"]["ops"], counts[cpu]["ops"]):
            by[cpu][key(p)] += n
            if cpu == cpus[0]:
                nops[p["code"]] += 1
    # Rows by op code (largest on the first CPU), paths under their code; paths can differ per CPU.
    codes = collections.Counter()
    for cpu in cpus:
        for k, n in by[cpu].items():
            codes[k.split()[0]] += n if cpu == cpus[0] else 0
    rows = []
    for code, _ in codes.most_common():
        ks = sorted({k for cpu in cpus for k in by[cpu] if k.split()[0] == code})
        rows += ks
    print(f"\n### {name}: instructions per op type\n")
    print("| op type (kernel path) | " + " | ".join(f"{cpu} | share" for cpu in cpus) + " |")
    print("|---|" + "---:|---:|" * len(cpus))
    for k in rows:
        cells = []
        for cpu in cpus:
            t = sum(counts[cpu]["ops"])
            n = by[cpu].get(k)
            cells += [f"{n:,}", f"{100 * n / t:.1f}%"] if n is not None else ["-", "-"]
        print(f"| {k} | " + " | ".join(cells) + " |")
    cells = []
    for cpu in cpus:
        cells += [f"{sum(counts[cpu]['ops']):,}", "100%"]
    print("| **sum of operators** | " + " | ".join(cells) + " |")
    cells = []
    for cpu in cpus:
        w, t = counts[cpu]["whole"], sum(counts[cpu]["ops"])
        cells += [f"{w:,}", f"{100 * (t - w) / w:+.3f}%"]
    print("| whole call (sum - whole) | " + " | ".join(cells) + " |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--driver", required=True, help="aarch64 driver with the C kernels (build-a64-kernels.sh)")
    ap.add_argument("--plugin", required=True, help="libinsncount.so (build.sh)")
    ap.add_argument("--host", help="x86 vigil for inspect/infer (the output check); required unless --no-check")
    ap.add_argument("--models", default=os.path.join(ROOT, ".build-qemu", "models"))
    ap.add_argument("--qemu", default="qemu-aarch64")
    ap.add_argument("--cpus", default="cortex-a72,cortex-a76")
    ap.add_argument("--only", action="append", choices=MODELS)
    ap.add_argument("--runs", type=int, default=2, help="profiled runs, all must agree [2]")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--top", type=int, default=10, help="list the N most expensive operators [10]")
    ap.add_argument("--no-check", action="store_true", help="skip the comparison with the host's output")
    ap.add_argument("--json", help="write every count here")
    args = ap.parse_args()
    args.cpus = args.cpus.split(",")
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    if not args.no_check and not args.host:
        ap.error("--host is needed for the output check (or --no-check)")
    work = tempfile.mkdtemp(prefix="vigil-ops-arm-")
    qv = subprocess.run([args.qemu, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    print(f"Guest instructions per operator under {qv} with insncount clock=1; Vigil = Embedded Swift core "
          f"({os.path.relpath(os.path.abspath(args.driver), ROOT)}), {args.warmup} warm-up call(s), "
          f"{args.runs} profiled run(s); shares are of the operator sum.")
    results = {}
    for name in MODELS:
        if args.only and name not in args.only:
            continue
        model = os.path.join(args.models, f"{name}.vigil")
        if not os.path.exists(model):
            print(f"vigil_ops_arm: no {model} (count_x86.sh or count_arm.sh makes it); skipped", file=sys.stderr)
            continue
        if not args.no_check:
            check(args, name, model, work)
        results[name] = {}
        for cpu in args.cpus:
            c = count_ops(args, model, cpu)
            print(f"ops {name:18} {cpu:11} {sum(c['ops']):>12,} in {len(c['ops'])} operators, whole call "
                  f"{c['whole']:,}", file=sys.stderr, flush=True)
            results[name][cpu] = c
            report(name, cpu, c, args.top)
    for name, counts in results.items():
        summary(name, counts)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"qemu": qv, "models": {name: {cpu: {
                "kernel": c["info"]["kernel"], "kernels": c["info"]["kernels"], "whole": c["whole"], "wholes": c["wholes"],
                "gap": c["gap"], "sum": sum(c["ops"]), "varying": c["varying"],
                "ops": [dict(p, instructions=n) for p, n in zip(c["info"]["ops"], c["ops"])]}
                for cpu, c in counts.items()} for name, counts in results.items()}}, f, indent=1)


if __name__ == "__main__":
    main()
