#!/usr/bin/env python3
"""Checks `vigil vitals` against oracles nobody here wrote.

1. R peaks on the MIT-BIH record 208 excerpt vs neurokit2 (`ecg_clean` + `ecg_peaks`,
   method "neurokit"): F1 >= 0.99 with a 50 ms tolerance. The two stretches of signal loss /
   amplifier saturation (about 96-99 s and 209-213 s) have no readable QRS, so both sides' beats
   inside the segments that vigil's signal-quality index marks unacceptable are left out; the
   script prints those segments, checks that they cover both stretches and that they total less
   than 15 s, so the exclusion cannot hide a bad detector.
2. Pulse rate on heartpy's three PPG recordings (data.csv 100 Hz as in heartpy's examples;
   data2.csv with its `timer` column in ms; data3.csv at the rate heartpy derives from its
   `datetime` column) within 2 bpm of heartpy.process()'s bpm.
3. Respiration rate on neurokit2.rsp_simulate() breathing at 8, 15 and 24 /min within 1 /min.
4. The same ECG written as WFDB (formats 212 and 16) by the wfdb package and as EDF by edfio
   gives the same beats as the .npy.
Usage: check_vitals.py BIN_DIR
"""
import json
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np

warnings.filterwarnings("ignore")
import heartpy as hp  # noqa: E402
import neurokit2 as nk  # noqa: E402
import wfdb  # noqa: E402
import edfio  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ECG = os.path.join(ROOT, "Models", "ecg-rhythm", "data", "mitbih-208-excerpt.npy")
FAILS = []


def vitals(bin_dir, *args):
    cmd = [os.path.join(bin_dir, "vigil"), "vitals", *args, "--json"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"FAIL: {' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()}")
    return json.loads(p.stdout)


def match(ours, ref, tol):
    """Greedy one-to-one matching of sorted index lists within tol samples."""
    ours, ref = sorted(ours), sorted(ref)
    i = j = tp = 0
    while i < len(ours) and j < len(ref):
        d = ours[i] - ref[j]
        if abs(d) <= tol:
            tp += 1; i += 1; j += 1
        elif d < 0:
            i += 1
        else:
            j += 1
    fp, fn = len(ours) - tp, len(ref) - tp
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return tp, fp, fn, f1


def check(name, ok, detail):
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
    if not ok:
        FAILS.append(name)


def ecg_vs_neurokit(bin_dir):
    fs = 360
    x = np.load(ECG).astype(np.float64)
    out = vitals(bin_dir, "--input", ECG, "--signal", "ecg", "--rate", str(fs))
    clean = nk.ecg_clean(x, sampling_rate=fs, method="neurokit")
    _, info = nk.ecg_peaks(clean, sampling_rate=fs, method="neurokit")
    ref = np.asarray(info["ECG_R_Peaks"])
    bad = [(s["start"], s["end"], s["flags"]) for s in out["quality"] if not s["acceptable"]]
    print(f"ECG 208: vigil's unacceptable segments (excluded from both sides):")
    for a, b, f in bad:
        print(f"    {a / fs:7.2f}-{b / fs:7.2f} s  {','.join(f)}")
    excluded_s = sum(b - a for a, b, _ in bad) / fs
    covers = lambda lo, hi: any(a / fs <= hi and b / fs >= lo for a, b, _ in bad)
    check("SQI marks the 96-99 s signal loss", covers(96.5, 98.5), "")
    check("SQI marks the 209-213 s signal loss", covers(210, 212.5), "")
    check("SQI excludes < 15 s of 300 s", excluded_s < 15, f"{excluded_s:.1f} s excluded")
    inside = lambda i: any(a <= i < b for a, b, _ in bad)
    ref_kept = [int(i) for i in ref if not inside(i)]
    print(f"    neurokit2 peaks: {len(ref)} total, {len(ref) - len(ref_kept)} inside excluded segments; "
          f"vigil: {len(out['beats'])} beats, {len(out['rejected_beats'])} rejected by quality")
    tp, fp, fn, f1 = match(out["beats"], ref_kept, round(0.05 * fs))
    check("R peaks vs neurokit2 (50 ms)", f1 >= 0.99, f"TP={tp} FP={fp} FN={fn} F1={f1:.4f}")
    tol = round(0.05 * fs)
    fps = [b for b in out["beats"] if not any(abs(b - r) <= tol for r in ref_kept)]
    fns = [r for r in ref_kept if not any(abs(b - r) <= tol for b in out["beats"])]
    print(f"    unmatched vigil beats at {[round(b / fs, 2) for b in fps]} s; unmatched neurokit2 peaks at {[round(r / fs, 2) for r in fns]} s")
    tp0, fp0, fn0, f10 = match(out["beats"] + out["rejected_beats"], list(ref), round(0.05 * fs))
    print(f"    (for information, without any exclusion: TP={tp0} FP={fp0} FN={fn0} F1={f10:.4f})")
    rr = np.diff(ref_kept) / fs
    print(f"    mean rate: vigil {out['mean_rate_bpm']} /min, neurokit2 60/mean(RR) {60 / rr.mean():.2f} /min")
    return out


def ppg_vs_heartpy(bin_dir):
    data = os.path.join(os.path.dirname(hp.__file__), "data")
    cases = []
    d1 = hp.get_data(os.path.join(data, "data.csv"))
    cases.append(("data.csv", d1, 100.0, ["--rate", "100", "--column", "1"]))
    d2 = hp.get_data(os.path.join(data, "data2.csv"), column_name="hr")
    t2 = hp.get_data(os.path.join(data, "data2.csv"), column_name="timer")
    fs2 = hp.get_samplerate_mstimer(t2)
    cases.append(("data2.csv", d2, fs2, ["--column", "hr", "--time-column", "timer", "--time-unit", "ms"]))
    d3 = hp.get_data(os.path.join(data, "data3.csv"), column_name="hr")
    t3 = hp.get_data(os.path.join(data, "data3.csv"), column_name="datetime")
    fs3 = hp.get_samplerate_datetime(t3, timeformat="%Y-%m-%d %H:%M:%S.%f")
    cases.append(("data3.csv", d3, fs3, ["--column", "hr", "--rate", repr(fs3)]))
    for name, d, fs, args in cases:
        _, m = hp.process(d, fs)
        out = vitals(bin_dir, "--input", os.path.join(data, name), "--signal", "ppg", *args)
        ours = out["mean_rate_bpm"]
        ok = ours is not None and abs(ours - m["bpm"]) <= 2
        check(f"pulse rate {name}", ok, f"vigil {ours} bpm, heartpy {m['bpm']:.2f} bpm at {fs:.2f} Hz "
              f"({len(out['beats'])} pulses, {out['acceptable_fraction']:.2f} acceptable)")


def resp_vs_simulation(bin_dir):
    fs = 50
    with tempfile.TemporaryDirectory() as tmp:
        for i, rate in enumerate((8, 15, 24)):
            r = nk.rsp_simulate(duration=180, sampling_rate=fs, respiratory_rate=rate, method="breathmetrics", random_state=42 + i)
            path = os.path.join(tmp, f"rsp{rate}.csv")
            t = np.arange(len(r)) / fs
            np.savetxt(path, np.stack([t, r], axis=1), delimiter=",", header="time,resp", comments="", fmt="%.6f")
            out = vitals(bin_dir, "--input", path, "--signal", "resp", "--column", "resp")
            ours = out["mean_rate_bpm"]
            ok = ours is not None and abs(ours - rate) <= 1
            check(f"respiration rate {rate}/min", ok, f"vigil {ours} /min ({len(out['beats'])} breaths in 180 s)")


def files_vs_npy(bin_dir, npy_out):
    x = np.load(ECG).astype(np.float64)
    d = np.round(x * 200 + 1024).astype(np.int64).reshape(-1, 1)
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("212", "16"):
            wfdb.wrsamp(f"r{fmt}", fs=360, units=["mV"], sig_name=["MLII"], d_signal=d, fmt=[fmt],
                        adc_gain=[200.0], baseline=[1024], write_dir=tmp)
            out = vitals(bin_dir, "--input", os.path.join(tmp, f"r{fmt}.hea"), "--signal", "ecg")
            check(f"WFDB {fmt} (wfdb.wrsamp) beats == .npy beats", out["beats"] == npy_out["beats"],
                  f"{len(out['beats'])} vs {len(npy_out['beats'])}")
        edf = edfio.Edf([edfio.EdfSignal(x, sampling_frequency=360, label="MLII", physical_dimension="mV",
                                         physical_range=(-6.0, 6.0))])
        path = os.path.join(tmp, "r.edf")
        edf.write(path)
        out = vitals(bin_dir, "--input", path, "--signal", "ecg")
        tp, fp, fn, f1 = match(out["beats"], npy_out["beats"], 1)
        check("EDF (edfio) beats vs .npy beats (1 sample)", f1 >= 0.999, f"TP={tp} FP={fp} FN={fn}")


def bad_input_exit_code(bin_dir):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bad.csv")
        with open(path, "w") as f:
            f.write("time,ecg\n0,1\n0.01,oops\n")
        p = subprocess.run([os.path.join(bin_dir, "vigil"), "vitals", "--input", path, "--signal", "ecg"], capture_output=True, text=True)
        check("bad CSV exits 2 naming the line", p.returncode == 2 and "bad.csv:3" in p.stderr, f"exit {p.returncode}: {p.stderr.strip()}")


def main():
    bin_dir = sys.argv[1]
    print(f"numpy {np.__version__}, neurokit2 {nk.__version__}, heartpy imported from {os.path.dirname(hp.__file__)}")
    npy_out = ecg_vs_neurokit(bin_dir)
    ppg_vs_heartpy(bin_dir)
    resp_vs_simulation(bin_dir)
    files_vs_npy(bin_dir, npy_out)
    bad_input_exit_code(bin_dir)
    if FAILS:
        print(f"vitals checks: {len(FAILS)} failed: {', '.join(FAILS)}")
        return 1
    print("vitals checks: all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
