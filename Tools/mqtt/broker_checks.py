#!/usr/bin/env python3
"""Broker-level checks of VigilMQTT, with oracles nobody here wrote: a real mosquitto broker,
paho-mqtt as the subscriber, and jsonschema against docs/schemas/.

  schemas  vigil-mqtt-probe publishes one payload of each kind; every message received validates
           against its schema; retain flags, QoS and the MQTT 5 message expiry are as documented;
           commands (valid and malformed) get the documented replies; deliberately wrong payloads
           must FAIL validation (so the check can fail).
  will     SIGKILL of a connected probe makes the broker publish the retained offline will.
  restart  the broker restarts while the probe streams numbered QoS 1 alert events; a subscriber
           with a persistent session must receive every number (duplicates allowed, none missing).
  v311     the probe forced to MQTT 3.1.1 against mosquitto (which speaks both): paho (MQTT 5)
           receives every payload kind, each validates, vitals arrive without message expiry.
  fallback fake_v311_broker.py refuses MQTT 5 (CONNACK 0x01, or hanging up); the probe with the
           default protocol policy falls back to 3.1.1, every QoS 1 message is acknowledged, and
           what the fake broker received validates against the schemas.

Usage: broker_checks.py BIN_DIR [schemas|will|restart|v311|fallback|all]
"""
import copy
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import threading
import time

import jsonschema
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from referencing import Registry, Resource

ROOT = pathlib.Path(__file__).resolve().parents[2]
BROKER_SH = ROOT / "Tools/mqtt/broker.sh"
FAKE_V311 = ROOT / "Tools/mqtt/fake_v311_broker.py"
SCHEMAS = ROOT / "docs/schemas"
SITE, DEVICE = "ward-3", "bed-12"
BASE = f"vigil/v1/{SITE}/{DEVICE}"


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def load_schemas():
    resources, by_name = [], {}
    for path in sorted(SCHEMAS.glob("*.schema.json")):
        schema = json.loads(path.read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        resources.append((schema["$id"], Resource.from_contents(schema)))
        by_name[path.name.removesuffix(".schema.json")] = schema
    registry = Registry().with_resources(resources)
    return {name: jsonschema.Draft202012Validator(schema, registry=registry) for name, schema in by_name.items()}


def schema_for(topic):
    rest = topic[len(BASE) + 1:]
    if rest == "status":
        return "status"
    if rest.startswith("vitals/"):
        return "vital"
    if rest.startswith("predictions/"):
        return "prediction"
    if rest == "alerts":
        return "alert-event"
    if rest == "alerts/active":
        return "active-alerts"
    if rest.startswith("waveforms/"):
        return "waveform"
    if rest == "cmd/reply":
        return "command-reply"
    return None


class Broker:
    def __init__(self, mode="plain", persist=False):
        self.dir = tempfile.mkdtemp(prefix="vigil-mqtt-")
        args = [str(BROKER_SH), "start", self.dir, mode] + (["--persist"] if persist else [])
        self.port = int(subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip())
        self.url = f"mqtt://127.0.0.1:{self.port}"

    def stop(self):
        subprocess.run([str(BROKER_SH), "stop", self.dir], check=True)

    def restart(self):
        subprocess.run([str(BROKER_SH), "restart", self.dir], check=True, capture_output=True)


class Collector:
    """A paho subscriber that records every message with its flags and MQTT 5 properties."""

    def __init__(self, port, topic, client_id=None, clean=True, protocol=mqtt.MQTTv5):
        self.messages = []
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id or "", protocol=protocol,
                                  clean_session=clean if protocol != mqtt.MQTTv5 else None)
        self.topic = topic
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()
        if not self.subscribed.wait(5):
            fail("subscriber did not get SUBACK")

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        client.subscribe(self.topic, qos=1)

    def _on_message(self, client, userdata, message):
        props = message.properties
        expiry = getattr(props, "MessageExpiryInterval", None) if props is not None else None
        with self.lock:
            self.messages.append({"topic": message.topic, "payload": message.payload, "qos": message.qos,
                                  "retain": bool(message.retain), "expiry": expiry, "t": time.monotonic()})

    def snapshot(self):
        with self.lock:
            return list(self.messages)

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def wait_until(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    fail(f"timed out after {seconds} s waiting for {what}")


def validate(validators, name, document):
    errors = sorted(validators[name].iter_errors(document), key=lambda e: list(e.path))
    return [f"{'/'.join(map(str, e.path)) or '<root>'}: {e.message}" for e in errors]


def check_schemas(bin_dir, validators):
    probe = str(pathlib.Path(bin_dir) / "vigil-mqtt-probe")
    broker = Broker()
    try:
        live = Collector(broker.port, f"{BASE}/#")
        subprocess.run([probe, "samples", "--broker", broker.url, "--site", SITE, "--device", DEVICE],
                       check=True, capture_output=True, timeout=30)
        wait_until(lambda: any(m["topic"].endswith("/waveforms/ecg") for m in live.snapshot())
                   and sum(m["topic"] == f"{BASE}/status" for m in live.snapshot()) >= 3, 5, "the sample messages")
        messages = live.snapshot()
        live.close()
        seen, documents = {}, {}
        for m in messages:
            name = schema_for(m["topic"])
            if name is None:
                fail(f"message on an undocumented topic {m['topic']}")
            document = json.loads(m["payload"])
            problems = validate(validators, name, document)
            if problems:
                fail(f"{m['topic']} does not validate against {name}.schema.json: {problems}")
            seen[name] = seen.get(name, 0) + 1
            documents.setdefault(name, document)
        expected = {"status", "vital", "prediction", "alert-event", "active-alerts", "waveform"}
        if not expected <= set(seen):
            fail(f"missing payload kinds: {sorted(expected - set(seen))}")
        print(f"  schemas: {sum(seen.values())} messages valid: " + ", ".join(f"{k} {v}" for k, v in sorted(seen.items())))
        statuses = [json.loads(m["payload"]) for m in messages if m["topic"] == f"{BASE}/status"]
        if [(s["state"], s["reason"]) for s in statuses][0] != ("online", "startup") or statuses[-1]["state"] != "offline":
            fail(f"status sequence {[(s['state'], s['reason']) for s in statuses]}: expected birth first and offline last")
        qos = {schema_for(m["topic"]): m["qos"] for m in messages}
        if qos["alert-event"] != 1 or qos["waveform"] != 0 or qos["status"] != 1:
            fail(f"QoS per payload kind {qos}: alerts and status must be 1, waveforms 0")
        vitals = [m for m in messages if schema_for(m["topic"]) == "vital"]
        if not vitals[0]["expiry"] or not (0 < vitals[0]["expiry"] <= 30):
            fail(f"vitals/hr arrived with message expiry {vitals[0]['expiry']}, expected 1...30 s")
        print(f"  QoS: {qos}; vitals/hr message expiry {vitals[0]['expiry']} s")

        # Retained: a late subscriber sees status (offline now), vitals/hr and alerts/active, and
        # nothing else (alerts and predictions are events, not state).
        late = Collector(broker.port, f"{BASE}/#")
        time.sleep(0.5)
        retained = {m["topic"]: m for m in late.snapshot()}
        late.close()
        want = {f"{BASE}/status", f"{BASE}/vitals/hr", f"{BASE}/alerts/active"}
        if set(retained) != want or not all(m["retain"] for m in retained.values()):
            fail(f"retained topics {sorted(retained)}, expected {sorted(want)}")
        if json.loads(retained[f"{BASE}/status"]["payload"])["reason"] != "shutdown":
            fail("retained status after a graceful disconnect is not the shutdown status")
        print(f"  retained for a late subscriber: {sorted(t[len(BASE) + 1:] for t in retained)}")

        # Deliberately wrong payloads must fail, or this check proves nothing.
        wrong = []
        d = copy.deepcopy(documents["vital"]); del d["time"]; wrong.append(("vital", d, "missing time"))
        d = copy.deepcopy(documents["alert-event"]); d["priority"] = "urgent"; wrong.append(("alert-event", d, "priority urgent"))
        d = copy.deepcopy(documents["prediction"]); d["modelId"] = "x"; wrong.append(("prediction", d, "unknown field"))
        d = copy.deepcopy(documents["waveform"]); d["samples"] = ["1"]; wrong.append(("waveform", d, "string sample"))
        d = copy.deepcopy(documents["status"]); d["time"] = "2026-11-23 10:00"; wrong.append(("status", d, "non-RFC 3339 time"))
        d = copy.deepcopy(documents["active-alerts"]); d["alarms"][0]["state"] = "resolved"; wrong.append(("active-alerts", d, "resolved alarm open"))
        for name, document, why in wrong:
            if not validate(validators, name, document):
                fail(f"a wrong {name} payload ({why}) passed validation: the schema is too loose")
        print(f"  {len(wrong)} deliberately wrong payloads rejected by the schemas")
        check_commands(probe, broker, validators)
    finally:
        broker.stop()


def check_commands(probe, broker, validators):
    holder = subprocess.Popen([probe, "hold", "--broker", broker.url, "--site", SITE, "--device", DEVICE,
                               "--seconds", "30"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = holder.stdout.readline()
        if '"connected"' not in line:
            fail(f"probe hold did not connect: {line!r}")
        replies = Collector(broker.port, f"{BASE}/cmd/reply")
        sender = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        sender.connect("127.0.0.1", broker.port)
        sender.loop_start()
        cases = [  # (command, payload, expected status, expected error code, schema verdict)
            ("ack", {"request_id": "r1", "alarm_id": 7}, "accepted", None, True),
            ("silence", {"request_id": "r2", "alarm_id": 7, "duration_s": 60, "operator": "nurse-4"}, "accepted", None, True),
            ("reload", {"request_id": "r3", "model_id": "other-model"}, "failed", "unknown_model", True),
            ("silence", {"request_id": "r4", "alarm_id": 7, "duration_s": 9999}, "rejected", "out_of_range", False),
            ("ack", {"request_id": "r5", "alarm_id": 7, "force": True}, "rejected", "unknown_field", False),
            ("ack", {"request_id": "r6", "alarm_id": "7"}, "rejected", "wrong_type", False),
            ("silence", {"request_id": "r7", "alarm_id": 7}, "rejected", "missing_field", False),
            ("ack", {"request_id": "r8", "alarm_id": True}, "rejected", "wrong_type", False),
            ("silence", {"request_id": "r9", "alarm_id": 7, "duration_s": 1.5}, "rejected", "wrong_type", False),
            ("reboot", {"request_id": "r10"}, "rejected", "unknown_command", None),
        ]
        for command, payload, _, _, verdict in cases:
            if verdict is not None:
                valid = not validate(validators, f"command-{command}", payload)
                if valid != verdict:
                    fail(f"schema command-{command} judges {payload} {'valid' if valid else 'invalid'}; the parser disagrees")
            sender.publish(f"{BASE}/cmd/{command}", json.dumps(payload), qos=1).wait_for_publish(5)
        sender.publish(f"{BASE}/cmd/ack", b"{not json", qos=1).wait_for_publish(5)
        wait_until(lambda: len(replies.snapshot()) >= len(cases) + 1, 10, "command replies")
        got = {}
        for m in replies.snapshot():
            document = json.loads(m["payload"])
            problems = validate(validators, "command-reply", document)
            if problems:
                fail(f"cmd/reply does not validate: {problems}")
            got[document.get("request_id")] = document
        for command, payload, status, code, _ in cases:
            reply = got.get(payload["request_id"])
            if reply is None or reply["status"] != status or (code and reply["error"]["code"] != code):
                fail(f"cmd/{command} {payload}: reply {reply}, expected {status} {code or ''}")
        if got.get(None, {}).get("error", {}).get("code") != "malformed_json":
            fail(f"malformed JSON command: reply {got.get(None)}")
        replies.close()
        sender.loop_stop()
        sender.disconnect()
    finally:
        holder.kill()
        holder.wait()
    acted = [json.loads(l) for l in holder.stdout.read().splitlines() if l.startswith("{")]
    if sorted(a["request_id"] for a in acted) != ["r1", "r2", "r3"]:
        fail(f"the handler saw {acted}; only the 3 valid commands may reach it")
    print(f"  commands: {len(cases) + 1} sent, 3 valid reached the handler, {len(cases) - 2} rejected with the documented code")


def check_will(bin_dir, validators):
    probe = str(pathlib.Path(bin_dir) / "vigil-mqtt-probe")
    broker = Broker()
    try:
        watcher = Collector(broker.port, f"{BASE}/status")
        holder = subprocess.Popen([probe, "hold", "--broker", broker.url, "--site", SITE, "--device", DEVICE,
                                   "--seconds", "60"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = holder.stdout.readline()
        if '"connected"' not in line:
            fail(f"probe hold did not connect: {line!r}")
        wait_until(lambda: any(json.loads(m["payload"])["state"] == "online" for m in watcher.snapshot()), 5, "online status")
        t_kill = time.monotonic()
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        wait_until(lambda: json.loads(watcher.snapshot()[-1]["payload"])["state"] == "offline", 10, "the will (offline status)")
        will = watcher.snapshot()[-1]
        document = json.loads(will["payload"])
        problems = validate(validators, "status", document)
        if problems or document["reason"] != "connection_lost":
            fail(f"will payload {document}: {problems or 'reason is not connection_lost'}")
        watcher.close()
        late = Collector(broker.port, f"{BASE}/status")
        time.sleep(0.3)
        retained = late.snapshot()
        late.close()
        if not retained or not retained[0]["retain"] or json.loads(retained[0]["payload"])["state"] != "offline":
            fail("the will is not the retained status for a late subscriber")
        print(f"  will: SIGKILL -> offline/connection_lost in {will['t'] - t_kill:.2f} s, retained, valid")
    finally:
        broker.stop()


def check_restart(bin_dir, validators):
    probe = str(pathlib.Path(bin_dir) / "vigil-mqtt-probe")
    broker = Broker(persist=True)
    count = 300
    try:
        # MQTT 3.1.1 with clean_session false: the broker keeps the subscription and queues QoS 1
        # messages for it across its own restart (persistence file).
        sub = Collector(broker.port, f"{BASE}/alerts", client_id="vigil-restart-check", clean=False,
                        protocol=mqtt.MQTTv311)
        stream = subprocess.Popen([probe, "stream", "--broker", broker.url, "--site", SITE, "--device", DEVICE,
                                   "--count", str(count), "--interval-ms", "10", "--timeout", "60"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_until(lambda: len(sub.snapshot()) >= 60, 10, "the first 60 events")
        broker.stop()
        t_down = time.monotonic()
        time.sleep(1.5)
        broker.restart()
        outage = time.monotonic() - t_down
        out, err = stream.communicate(timeout=90)
        progress = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
        summary = progress[-1]
        queued_offline = sum(1 for p in progress if p.get("stats_connected") is False)
        if stream.returncode != 0:
            fail(f"probe stream exited {stream.returncode}: {summary} {err[-500:]}")
        wait_until(lambda: {json.loads(m["payload"])["event_id"] for m in sub.snapshot()} >= set(range(1, count + 1)),
                   20, "every numbered event at the subscriber")
        ids = [json.loads(m["payload"])["event_id"] for m in sub.snapshot()]
        for m in sub.snapshot():
            problems = validate(validators, "alert-event", json.loads(m["payload"]))
            if problems:
                fail(f"alert event does not validate: {problems}")
        sub.close()
        missing = set(range(1, count + 1)) - set(ids)
        if missing:
            fail(f"{len(missing)} events missing after the broker restart: {sorted(missing)[:20]}")
        if summary["connects"] < 2 or queued_offline == 0:
            fail(f"the restart did not interrupt the stream (connects {summary['connects']}, progress marks while down {queued_offline})")
        print(f"  restart: broker down {outage:.1f} s mid-stream; probe reconnected ({summary['connects']} connects), "
              f"{count}/{count} QoS 1 events acknowledged and received, {len(ids) - len(set(ids))} duplicates, "
              f"{queued_offline} progress marks (of {len(progress) - 1}) queued while disconnected")
    finally:
        broker.stop()


def check_v311(bin_dir, validators):
    probe = str(pathlib.Path(bin_dir) / "vigil-mqtt-probe")
    broker = Broker()
    try:
        live = Collector(broker.port, f"{BASE}/#")
        run = subprocess.run([probe, "samples", "--broker", broker.url, "--site", SITE, "--device", DEVICE,
                              "--protocol-version", "3.1.1"], capture_output=True, text=True, timeout=30)
        if run.returncode != 0:
            fail(f"probe samples over MQTT 3.1.1 exited {run.returncode}: {run.stderr[-500:]}")
        wait_until(lambda: any(m["topic"].endswith("/waveforms/ecg") for m in live.snapshot())
                   and sum(m["topic"] == f"{BASE}/status" for m in live.snapshot()) >= 3, 5, "the sample messages")
        messages = live.snapshot()
        live.close()
        kinds = {}
        for m in messages:
            name = schema_for(m["topic"])
            problems = validate(validators, name, json.loads(m["payload"])) if name else ["undocumented topic"]
            if problems:
                fail(f"{m['topic']} over MQTT 3.1.1 does not validate: {problems}")
            kinds[name] = kinds.get(name, 0) + 1
        expected = {"status", "vital", "prediction", "alert-event", "active-alerts", "waveform"}
        if set(kinds) != expected:
            fail(f"payload kinds over MQTT 3.1.1 {sorted(kinds)}, expected {sorted(expected)}")
        vitals = [m for m in messages if schema_for(m["topic"]) == "vital"]
        if any(m["expiry"] is not None for m in vitals):
            fail(f"vitals published over MQTT 3.1.1 carry a message expiry {[m['expiry'] for m in vitals]}: impossible in 3.1.1")
        acknowledged = json.loads(run.stdout.strip().splitlines()[-1])["acknowledged"]
        qos1 = sum(1 for m in messages if m["qos"] == 1)
        if acknowledged != qos1:
            fail(f"probe counted {acknowledged} PUBACKs over 3.1.1, the subscriber received {qos1} QoS 1 messages")
        print(f"  v311: {len(messages)} messages over MQTT 3.1.1 valid ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}); "
              f"{acknowledged} PUBACKs surfaced; vitals without expiry")
    finally:
        broker.stop()


def check_fallback(bin_dir, validators):
    probe = str(pathlib.Path(bin_dir) / "vigil-mqtt-probe")
    for refuse in ("connack", "close"):
        log = pathlib.Path(tempfile.mkdtemp(prefix="vigil-fake-v311-")) / "events.jsonl"
        fake = subprocess.Popen([sys.executable, str(FAKE_V311), "--refuse", refuse, "--log", str(log)],
                                stdout=subprocess.PIPE, text=True)
        try:
            port = int(fake.stdout.readline())
            run = subprocess.run([probe, "samples", "--broker", f"mqtt://127.0.0.1:{port}", "--site", SITE,
                                  "--device", DEVICE], capture_output=True, text=True, timeout=30)
            if run.returncode != 0:
                fail(f"probe samples against a 3.1.1-only broker ({refuse}) exited {run.returncode}: {run.stderr[-800:]}")
            events = [json.loads(line) for line in log.read_text().splitlines()]
        finally:
            fake.kill()
            fake.wait()
        errors = [e for e in events if e["event"] == "error"]
        if errors:
            fail(f"the fake 3.1.1 broker saw protocol errors ({refuse}): {errors}")
        levels = [e["level"] for e in events if e["event"] == "connect"]
        if levels != [5, 4]:
            fail(f"CONNECT protocol levels {levels} against a 3.1.1-only broker ({refuse}), expected [5, 4]")
        publishes = [e for e in events if e["event"] == "publish"]
        for e in publishes:
            name = schema_for(e["topic"])
            problems = validate(validators, name, json.loads(e["text"])) if name else ["undocumented topic"]
            if problems:
                fail(f"{e['topic']} sent over the 3.1.1 fallback does not validate: {problems}")
        acknowledged = json.loads(run.stdout.strip().splitlines()[-1])["acknowledged"]
        qos1 = sum(1 for e in publishes if e["qos"] == 1)
        if acknowledged != qos1 or qos1 < 8:
            fail(f"fallback ({refuse}): the probe counted {acknowledged} PUBACKs for {qos1} QoS 1 publishes (expected >= 8, equal)")
        if events[-1]["event"] != "disconnect":
            fail(f"fallback ({refuse}): the session did not end with DISCONNECT: {events[-1]}")
        print(f"  fallback ({refuse}): MQTT 5 refused, 3.1.1 accepted; {len(publishes)} publishes valid, "
              f"{acknowledged} PUBACKs surfaced, clean DISCONNECT")


def main():
    if len(sys.argv) < 2:
        fail(__doc__)
    bin_dir = sys.argv[1]
    which = sys.argv[2] if len(sys.argv) > 2 else "all"
    validators = load_schemas()
    if which in ("schemas", "all"):
        check_schemas(bin_dir, validators)
    if which in ("will", "all"):
        check_will(bin_dir, validators)
    if which in ("restart", "all"):
        check_restart(bin_dir, validators)
    if which in ("v311", "all"):
        check_v311(bin_dir, validators)
    if which in ("fallback", "all"):
        check_fallback(bin_dir, validators)
    print("mqtt broker checks passed")


if __name__ == "__main__":
    main()
