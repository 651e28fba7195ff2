#!/usr/bin/env python3
"""End to end: sensor-sim -> pseudo-terminal -> vigil run -> mosquitto -> paho subscriber, and the
agent's outbox -> the FHIR test receiver.

The simulator plays the MIT-BIH 208 excerpt through the firmware's code with lead-off episodes
injected; the agent reads the pty as its serial sensor bridge. The script checks that the
subscriber received status (online, then offline), vitals, predictions, alerts and the active-alarm
snapshot, that every payload validates against docs/schemas with jsonschema, and measures each
lead-off alarm's latency from the moment the simulator emitted the lead-off status to the moment
the subscriber received the alarm. It also samples the agent's resident memory and CPU time from
/proc. With --cloud it starts Tools/sync/fhir_receiver.py and checks the outbox reached it.

  e2e.py BIN_DIR [--duration 20] [--cloud] [--json OUT]
"""
import argparse
import json
import os
import pathlib
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import paho.mqtt.client as mqtt
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "docs" / "schemas"
RECORDING = ROOT / "Models" / "ecg-rhythm" / "data" / "mitbih-208-excerpt.npy"
MODEL = ROOT / "Models" / "ecg-rhythm" / "model.vigil"
SITE, DEVICE = "e2e", "bed-1"
PREFIX = f"vigil/v1/{SITE}/{DEVICE}/"


def validators():
    registry = Registry()
    raw = {}
    for f in SCHEMAS.glob("*.schema.json"):
        doc = json.loads(f.read_text())
        raw[f.name] = doc
        registry = registry.with_resource(doc["$id"], Resource.from_contents(doc))
    return {name: Draft202012Validator(doc, registry=registry) for name, doc in raw.items()}


def schema_for(topic):
    rest = topic[len(PREFIX):]
    if rest == "status":
        return "status.schema.json"
    if rest.startswith("vitals/"):
        return "vital.schema.json"
    if rest.startswith("predictions/"):
        return "prediction.schema.json"
    if rest == "alerts":
        return "alert-event.schema.json"
    if rest == "alerts/active":
        return "active-alerts.schema.json"
    if rest.startswith("waveforms/"):
        return "waveform.schema.json"
    if rest == "cmd/reply":
        return "command-reply.schema.json"
    return None


def percentile(xs, p):
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, round(p / 100 * (len(xs) - 1))))
    return xs[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin")
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--cloud", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args()
    vigil, sim = os.path.join(args.bin, "vigil"), os.path.join(args.bin, "sensor-sim")
    work = pathlib.Path(tempfile.mkdtemp(prefix="vigil-e2e-"))
    failures = []
    procs = []

    port = subprocess.run([str(ROOT / "Tools/mqtt/broker.sh"), "start", str(work / "broker"), "plain"],
                          check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    try:
        messages = []  # (receive time, topic, payload bytes)
        lock = threading.Lock()
        sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="e2e-sub", protocol=mqtt.MQTTv5)

        def on_message(_c, _u, msg):
            with lock:
                messages.append((time.time(), msg.topic, msg.payload))

        subscribed = threading.Event()
        sub.on_message = on_message
        sub.on_subscribe = lambda *a: subscribed.set()
        sub.connect("127.0.0.1", int(port))
        sub.subscribe(PREFIX + "#", qos=1)
        sub.loop_start()
        if not subscribed.wait(5):
            raise SystemExit("e2e: subscriber did not subscribe")

        cloud_url = None
        if args.cloud:
            store = work / "fhir.jsonl"
            pf = work / "fhir.port"
            procs.append(subprocess.Popen([sys.executable, str(ROOT / "Tools/sync/fhir_receiver.py"), "--port", "0",
                                           "--port-file", str(pf), "--store", str(store)],
                                          stdout=subprocess.DEVNULL, stderr=open(work / "fhir.log", "w")))
            for _ in range(100):
                if pf.exists() and pf.read_text().strip():
                    break
                time.sleep(0.05)
            cloud_url = f"http://127.0.0.1:{pf.read_text().strip()}/fhir"

        # Lead-off episodes (virtual seconds from the simulator's start).
        episodes = [(4, 5), (7, 8), (10, 11), (13, 14), (16, 17)]
        episodes = [(a, b) for a, b in episodes if b < args.duration - 2]
        inject = ",".join(f"lead-off@{a}s-{b}s" for a, b in episodes)
        simp = subprocess.Popen([sim, "--input", str(RECORDING), "--input-rate", "360", "--output", "pty",
                                 "--duration", str(args.duration), "--inject", inject, "--hold", "3",
                                 "--report", str(work / "sim.json")],
                                stdout=subprocess.PIPE, stderr=open(work / "sim.log", "w"), text=True)
        procs.append(simp)
        line = simp.stdout.readline()
        t0 = time.time()
        if not line.startswith("sensor-sim: pty "):
            raise SystemExit(f"e2e: sensor-sim did not announce a pty: {line!r}")
        pty = line.split()[-1]

        config = work / "vigil.yaml"

        def write_config(model, extra=""):
            config.write_text(f"""
device: {{site: {SITE}, id: {DEVICE}, patient: Patient/pseudo-e2e}}
sources:
  - {{name: bridge, kind: serial, path: {pty}, baud: 921600}}
pipelines:
  - name: ecg-rhythm
    kind: ecg
    source: bridge
    channel: ecg
    model: {model}
    window: 720
    hop: 180
    normalize: mean
    waveform: true
    alarms: [{{label: tachy, threshold: 0.9, windows: 8, priority: medium}}]
  - {{name: spo2, kind: ppg, source: bridge}}
mqtt: {{broker: "mqtt://127.0.0.1:{port}", vitals_expiry: 30s}}
{"cloud: {url: '" + cloud_url + "', batch_size: 20}" if cloud_url else ""}
state_dir: {work / "state"}
{extra}
""")

        write_config(MODEL)
        # Read on SIGHUP: a new model path (applied live) and a new vitals interval (waits for a restart).
        reloaded_model = work / "model-v2.vigil"
        shutil.copyfile(MODEL, reloaded_model)
        # No --duration: the agent is stopped with SIGTERM (the systemd stop path), and reloads its
        # model on SIGHUP half way through.
        agent = subprocess.Popen([vigil, "run", "--config", str(config)],
                                 stdout=subprocess.DEVNULL, stderr=open(work / "agent.log", "w"))
        started = time.time()
        rss_kb, cpu_ticks, rss_parts = [], None, {}
        hup_sent = term_sent = False
        while agent.poll() is None:
            now = time.time() - started
            if not hup_sent and now >= args.duration / 2:
                write_config(reloaded_model, "vitals_interval: 3s")
                agent.send_signal(signal.SIGHUP)
                hup_sent = True
            if not term_sent and now >= args.duration:
                agent.send_signal(signal.SIGTERM)
                term_sent = True
            try:
                status = pathlib.Path(f"/proc/{agent.pid}/status").read_text()
                fields = {l.split(":")[0]: int(l.split()[1]) for l in status.splitlines() if l.startswith(("VmRSS:", "RssAnon:", "RssFile:"))}
                rss_kb.append(fields["VmRSS"])
                if fields["VmRSS"] >= max(rss_kb):
                    rss_parts = fields
                stat = pathlib.Path(f"/proc/{agent.pid}/stat").read_text().rsplit(")", 1)[1].split()
                cpu_ticks = int(stat[11]) + int(stat[12])
                cpu_wall = time.time() - started
            except (FileNotFoundError, StopIteration, ProcessLookupError):
                pass
            time.sleep(0.25)
        elapsed = time.time() - started
        if agent.returncode != 0:
            failures.append(f"vigil run exited {agent.returncode} (log: {work / 'agent.log'})")
        time.sleep(1)
        sub.loop_stop()
        sub.disconnect()
        simp.wait(timeout=10)

        vals = validators()
        counts, invalid = {}, []
        for _, topic, payload in messages:
            name = schema_for(topic)
            kind = topic[len(PREFIX):].split("/")[0] + ("/active" if topic.endswith("alerts/active") else "")
            counts[kind] = counts.get(kind, 0) + 1
            if name is None:
                invalid.append((topic, "no schema for this topic"))
                continue
            errors = list(vals[name].iter_errors(json.loads(payload)))
            if errors:
                invalid.append((topic, errors[0].message))
        for need in ["status", "vitals", "predictions", "alerts", "alerts/active", "waveforms"]:
            if counts.get(need, 0) == 0:
                failures.append(f"no message on {need}")
        if invalid:
            failures.append(f"{len(invalid)} payloads fail their schema, first: {invalid[0]}")
        # The check must be able to fail: a prediction without its model does not validate.
        broken = {"label": "normal"}
        if not list(vals["prediction.schema.json"].iter_errors(broken)):
            failures.append("the prediction schema accepted a payload without model and scores")

        statuses = [json.loads(p)["state"] for _, t, p in messages if t == PREFIX + "status"]
        if not statuses or statuses[0] != "online" or statuses[-1] != "offline":
            failures.append(f"status sequence {statuses}: expected online first and offline last")
        health = [json.loads(p).get("health") or {} for _, t, p in messages if t == PREFIX + "status"]
        if not any("lead_off" in (c.get("detail") or "") for h in health for c in h.get("components", [])):
            failures.append("no status message reported the lead-off episodes in its health")
        vital_kinds = sorted({t[len(PREFIX) + 7:] for _, t, _ in messages if t.startswith(PREFIX + "vitals/")})

        # SIGHUP reload: logged, and no prediction window went missing around it (one every 0.5 s).
        log = (work / "agent.log").read_text()
        if not any("model reloaded" in l and str(reloaded_model) in l for l in log.splitlines()):
            failures.append(f"SIGHUP: no 'model reloaded' from {reloaded_model} in the agent log")
        if not any("only a restart applies" in l and "vitals_interval" in l for l in log.splitlines()):
            failures.append("SIGHUP: the changed vitals_interval was not reported as waiting for a restart")
        starts = sorted(json.loads(p)["window_start"] for _, t, p in messages if t.startswith(PREFIX + "predictions/"))
        from datetime import datetime
        secs = [datetime.fromisoformat(x.replace("Z", "+00:00")).timestamp() for x in starts]
        holes = [round(b - a, 3) for a, b in zip(secs, secs[1:]) if abs((b - a) - 0.5) > 0.01]
        # Withheld windows (lead-off) are not published, so steps of k x 0.5 s are expected there;
        # but every window must stay on the 0.5 s grid of the first: a dropped or repeated sample
        # anywhere (the reload included) would shift every later window off it.
        off_grid = [round(x - secs[0], 4) for x in secs if abs((x - secs[0]) / 0.5 - round((x - secs[0]) / 0.5)) > 0.004]
        if not secs or off_grid:
            failures.append(f"prediction windows off the 0.5 s sample grid: {off_grid[:5]} (or none published)")
        if len(holes) > len(episodes):
            failures.append(f"more gaps in the predictions ({holes}) than lead-off episodes ({len(episodes)})")

        for kind in ["heart_rate", "spo2"]:
            if kind not in vital_kinds:
                failures.append(f"no vitals/{kind} published")

        latencies = []
        leadoff = [(r, json.loads(p)) for r, t, p in messages if t == PREFIX + "alerts"]
        leadoff = [(r, e) for r, e in leadoff if e["condition"]["code"] == "lead_off" and e["state"] == "active"]
        for a, _ in episodes:
            due = t0 + a
            after = [r for r, _ in leadoff if r >= due - 0.05]
            if after:
                latencies.append(min(after) - due)
        if len(latencies) != len(episodes):
            failures.append(f"{len(episodes)} lead-off episodes injected, {len(latencies)} lead-off alarms received")

        fhir = None
        if args.cloud:
            lines = [json.loads(l) for l in (work / "fhir.jsonl").read_text().splitlines()] if (work / "fhir.jsonl").exists() else []
            types = {}
            for l in lines:
                types[l["resourceType"]] = types.get(l["resourceType"], 0) + 1
            fhir = types
            if not lines:
                failures.append("the FHIR receiver stored nothing")
            ids = [l["identifier"] for l in lines]
            if len(ids) != len(set(ids)):
                failures.append("the FHIR receiver holds duplicates")

        hz = os.sysconf("SC_CLK_TCK")
        result = {
            "duration_s": args.duration, "elapsed_s": round(elapsed, 2), "exit_code": agent.returncode,
            "messages": counts, "vital_kinds": vital_kinds, "invalid_payloads": len(invalid),
            "lead_off_latency_ms": {"n": len(latencies),
                                    "p50": round(1000 * statistics.median(latencies), 1) if latencies else None,
                                    "p99": round(1000 * percentile(latencies, 99), 1) if latencies else None,
                                    "all": [round(1000 * x, 1) for x in latencies]},
            "agent_peak_rss_mb": round(max(rss_kb) / 1024, 1) if rss_kb else None,
            # At the peak: anonymous memory (heap, stacks: what the agent allocates) and file-backed
            # pages (its code and the shared libraries', clean and reclaimable).
            "agent_peak_rss_anon_mb": round(rss_parts["RssAnon"] / 1024, 1) if rss_parts else None,
            "agent_peak_rss_file_mb": round(rss_parts["RssFile"] / 1024, 1) if rss_parts else None,
            "agent_cpu_percent": round(100 * cpu_ticks / hz / cpu_wall, 1) if cpu_ticks is not None else None,
            "fhir_stored": fhir,
            "prediction_steps_not_0_5s": holes,
            "failures": failures,
        }
        print(json.dumps(result, indent=1))
        if args.json:
            pathlib.Path(args.json).write_text(json.dumps(result, indent=1))
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        subprocess.run([str(ROOT / "Tools/mqtt/broker.sh"), "stop", str(work / "broker")], capture_output=True)
    if failures:
        print("e2e: FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        print(f"e2e: logs in {work}", file=sys.stderr)
        sys.exit(1)
    print("e2e: passed")


if __name__ == "__main__":
    main()
