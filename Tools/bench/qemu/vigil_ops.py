#!/usr/bin/env python3
"""Guest instructions per operator of one Vigil inference, under QEMU user mode.

`vigil bench --profile` reads the clock before the first operator and after each one; under
insncount's clock=1 those reads are syscalls at which the plugin snapshots its instruction counter
(QEMU 7.2 gives the guest no vDSO), so the deltas between them are each operator's exact count.
Prints one line per operator and the sums per operator code, largest first.

    python3 Tools/bench/qemu/vigil_ops.py .build-qemu/models/mobilenet_v2.vigil          # x86 AVX2
    python3 Tools/bench/qemu/vigil_ops.py M.vigil --qemu qemu-aarch64 --cpu cortex-a76 \\
        --bin DIR_OF_AARCH64_VIGIL --qemu-args "-L SYSROOT"                                # ARM

Needs only python3, qemu-user and the plugin (Tools/bench/qemu/build.sh). One thread (--threads 1).
"""
import argparse, collections, json, os, subprocess, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build-qemu", "bin"), help="directory of vigil")
    ap.add_argument("--plugin", default=os.path.join(ROOT, ".build-qemu", "libinsncount.so"))
    ap.add_argument("--qemu", default="qemu-x86_64")
    ap.add_argument("--cpu", default="Haswell")
    ap.add_argument("--qemu-args", default="")
    ap.add_argument("--json", help="write the per-op counts here")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "n.json")
        r = subprocess.run(["nice", "-n", "10", a.qemu, "-cpu", a.cpu, *a.qemu_args.split(), "-plugin",
                            f"{a.plugin},out={out},clock=1", os.path.join(a.bin, "vigil"), "bench", a.model,
                            "--threads", "1", "--warmup", "1", "--runs", "1", "--profile", "--json"],
                           capture_output=True, text=True, env=dict(os.environ, SWIFT_DETERMINISTIC_HASHING="1"))
        if r.returncode:
            raise SystemExit(f"vigil bench failed: {r.stderr[-800:]}")
        ticks = json.load(open(out))["clock_deltas"]
    prof = json.loads(r.stdout)["profile"]
    n = len(prof)
    # In the bench thread's clock deltas: ..., the timed call, rest of the loop + storing the input,
    # then the profiled call's n operators. The operators sum to the timed call less storeInputs.
    found = []
    for deltas in ticks.values():
        found += [(deltas, j) for j in range(2, len(deltas) - n + 1)
                  if 0 <= deltas[j - 2] - sum(deltas[j:j + n]) < 0.01 * deltas[j - 2]]
    if len(found) != 1:
        raise SystemExit(f"could not place the {n} operators in the clock reads ({len(found)} candidates)")
    deltas, j = found[0]
    ops = deltas[j:j + n]
    total = sum(ops)
    print(f"{a.model}: {total:,} instructions in {n} operators (whole timed call {deltas[j - 2]:,}), "
          f"{a.qemu} -cpu {a.cpu}\n")
    for p, c in zip(prof, ops):
        print(f"{p['op']:4} {p['code']:<18} {p['out']:<22} {c:>13,} {100 * c / total:5.1f}%")
    by = collections.Counter()
    for p, c in zip(prof, ops):
        by[p["code"]] += c
    print("\nper operator code:")
    for code, c in by.most_common():
        print(f"  {code:<18} {c:>13,} {100 * c / total:5.1f}%")
    if a.json:
        with open(a.json, "w") as f:
            json.dump([dict(p, instructions=c) for p, c in zip(prof, ops)], f, indent=1)


if __name__ == "__main__":
    main()
