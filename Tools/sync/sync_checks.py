#!/usr/bin/env python3
"""Process-level checks of VigilSync: vigil-sync-probe against Tools/sync/fhir_receiver.py.

  invalid  the receiver refuses invalid resources (so its validation can fail) and honours ifNoneExist
  kill     SIGKILL the writing+uploading probe at seeded random moments; the receiver ends with
           exactly events 0..N-1, each once
  outage   receiver down, then hanging (client timeouts), then up: the backlog drains, alerts first
  cap      byte cap reached offline: telemetry evicted, every alert kept, evictions counted and
           reported upstream in the status Observation
  auth     bearer token (401 is retried, never dead-lettered) and mutual TLS over HTTPS
  poison   a rejected entry (atomic 422 bisected, and per-entry 422) lands in the dead-letter table
           with the OperationOutcome; everything else arrives

Usage: sync_checks.py BIN_DIR CHECK [CHECK...]
"""
import collections
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable
TAG = re.compile(r"probe event (\d+)")


class CheckFailed(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise CheckFailed(what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Receiver:
    def __init__(self, workdir, *args, port=0):
        self.store = os.path.join(workdir, "received.jsonl")
        portfile = os.path.join(workdir, "receiver.port")
        if os.path.exists(portfile):
            os.remove(portfile)
        self.proc = subprocess.Popen([PY, os.path.join(HERE, "fhir_receiver.py"), "--store", self.store,
                                      "--port", str(port), "--port-file", portfile, *args],
                                     stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while not os.path.exists(portfile):
            expect(self.proc.poll() is None, "receiver exited at start")
            expect(time.time() < deadline, "receiver did not start")
            time.sleep(0.05)
        self.port = int(open(portfile).read())
        self.url = "http://127.0.0.1:%d/fhir" % self.port

    def get(self, path):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.port, path), timeout=10) as r:
            return json.loads(r.read())

    def control(self, **change):
        req = urllib.request.Request("http://127.0.0.1:%d/control" % self.port, data=json.dumps(change).encode(),
                                     method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def post(self, bundle):
        req = urllib.request.Request(self.url, data=json.dumps(bundle).encode(), method="POST",
                                     headers={"Content-Type": "application/fhir+json"})
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def records(self):
        if not os.path.exists(self.store):
            return []
        with open(self.store) as f:
            return [json.loads(line) for line in f]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def event_number(resource):
    texts = [n.get("text", "") for n in resource.get("note", [])] + [resource.get("detail", "")]
    for t in texts:
        m = TAG.search(t)
        if m:
            return int(m.group(1))
    return None


def probe_events(records):
    """Counter of event numbers among stored resources, and the status Observations."""
    counts = collections.Counter()
    status = []
    for r in records:
        k = event_number(r["resource"])
        if k is None:
            status.append(r)
        else:
            counts[k] += 1
    return counts, status


def seeded_uuid(seed, k):
    """Same derivation as vigil-sync-probe --uuid-seed (SplitMix64)."""
    m = (1 << 64) - 1

    def mix(x):
        z = (x + 0x9E3779B97F4A7C15) & m
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
        return z ^ (z >> 31)

    a = mix((seed * 31 + k) & m)
    b = mix(a ^ k)
    bs = bytearray(a.to_bytes(8, "little") + b.to_bytes(8, "little"))
    bs[6] = (bs[6] & 0x0F) | 0x40
    bs[8] = (bs[8] & 0x3F) | 0x80
    return "urn:uuid:" + str(uuid.UUID(bytes=bytes(bs)))


class Probe:
    def __init__(self, bindir, state):
        self.exe = os.path.join(bindir, "vigil-sync-probe")
        self.state = state

    def write_args(self, url, count, *extra):
        args = [self.exe, "write", "--state-dir", self.state, "--count", str(count)]
        if url:
            args += ["--url", url]
        return args + list(extra)

    def run(self, url, count, *extra, timeout=120, ok=(0,)):
        p = subprocess.run(self.write_args(url, count, *extra), capture_output=True, text=True, timeout=timeout)
        expect(p.returncode in ok, "probe write exited %d: %s" % (p.returncode, p.stderr[-2000:]))
        return json.loads(p.stdout) if p.stdout.strip() else None

    def start(self, url, count, *extra):
        # Output goes to files, not pipes: a writer that logs every refused upload attempt while the
        # receiver is down would fill a pipe nobody reads yet and block; the files also stay beside
        # the state for a failed check.
        self.runs = getattr(self, "runs", 0) + 1
        base = os.path.join(os.path.dirname(self.state), "probe-%d" % self.runs)
        p = subprocess.Popen(self.write_args(url, count, *extra), stdout=open(base + ".out", "w"),
                             stderr=open(base + ".err", "w"), text=True)
        p.out_path, p.err_path = base + ".out", base + ".err"
        return p

    @staticmethod
    def output(p):
        """(stdout, stderr) of a started probe, as written so far."""
        with open(p.out_path) as o, open(p.err_path) as e:
            return o.read(), e.read()

    def status(self, *extra):
        p = subprocess.run([self.exe, "status", "--state-dir", self.state, *extra], capture_output=True, text=True,
                           timeout=60)
        expect(p.returncode == 0, "probe status exited %d: %s" % (p.returncode, p.stderr[-2000:]))
        return json.loads(p.stdout)


def observation(identifier, **override):
    res = {"resourceType": "Observation", "status": "final",
           "identifier": [{"system": "urn:ietf:rfc:3986", "value": identifier}],
           "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
           "subject": {"reference": "Patient/x"}, "effectiveDateTime": "2026-01-01T00:00:00Z",
           "valueQuantity": {"value": 70, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}}
    res.update(override)
    return {"resource": res, "request": {"method": "POST", "url": "Observation",
                                          "ifNoneExist": "identifier=urn:ietf:rfc:3986|" + identifier}}


def check_invalid(bindir, work):
    rx = Receiver(work)
    try:
        bad = [observation("urn:uuid:00000000-0000-4000-8000-000000000001", valueQuantity={"value": "seventy"}),
               observation("urn:uuid:00000000-0000-4000-8000-000000000002", status=None),
               observation("urn:uuid:00000000-0000-4000-8000-000000000003", effectiveDateTime="yesterday"),
               observation("urn:uuid:00000000-0000-4000-8000-000000000004", bogus=1)]
        bad[1]["resource"].pop("status")
        for i, entry in enumerate(bad):
            good = observation("urn:uuid:00000000-0000-4000-8000-0000000000%02d" % (10 + i))
            status, body = rx.post({"resourceType": "Bundle", "type": "transaction", "entry": [good, entry]})
            expect(status == 400, "invalid resource %d accepted with %d" % (i, status))
            expect(body.get("resourceType") == "OperationOutcome", "no OperationOutcome for invalid resource %d" % i)
        expect(rx.records() == [], "a refused transaction stored something")
        mismatch = observation("urn:uuid:00000000-0000-4000-8000-000000000005")
        mismatch["request"]["ifNoneExist"] = "identifier=urn:ietf:rfc:3986|urn:uuid:other"
        status, _ = rx.post({"resourceType": "Bundle", "type": "transaction", "entry": [mismatch]})
        expect(status == 400, "ifNoneExist naming another identifier accepted")
        ok = {"resourceType": "Bundle", "type": "transaction",
              "entry": [observation("urn:uuid:00000000-0000-4000-8000-000000000006")]}
        s1, b1 = rx.post(ok)
        s2, b2 = rx.post(ok)
        expect(s1 == 200 and b1["entry"][0]["response"]["status"].startswith("201"), "valid resource not created")
        expect(s2 == 200 and b2["entry"][0]["response"]["status"].startswith("200"), "ifNoneExist not honoured")
        expect(len(rx.records()) == 1, "duplicate stored")
        print("invalid: 4 invalid resources refused with 400 + OperationOutcome, nothing stored; "
              "ifNoneExist mismatch refused; resend of a stored identifier answered 200 without a duplicate")
    finally:
        rx.stop()


def check_kill(bindir, work, n=1200, kills=25, seed=20261123):
    rx = Receiver(work, "--delay", "0.01")
    probe = Probe(bindir, os.path.join(work, "state"))
    rng = random.Random(seed)
    args = ["--rate", "150", "--alert-every", "5", "--batch-size", "25"]
    progress = []
    t0 = time.time()
    try:
        for i in range(kills):
            p = probe.start(rx.url, n, *args)
            time.sleep(rng.uniform(0.05, 0.6))
            p.send_signal(signal.SIGKILL)
            p.wait(10)
            expect(p.returncode == -signal.SIGKILL, "probe ended before kill %d (rc %s): %s"
                   % (i, p.returncode, Probe.output(p)[1][-1000:]))
            progress.append(probe.status()["checkpoint"])
        final = probe.run(rx.url, n, *args, "--drain-timeout", "60")
        expect(final["drained"] and final["pending_count"] == 0, "outbox not drained: %s" % final)
        counts, status = probe_events(rx.records())
        missing = [k for k in range(n) if counts[k] == 0]
        dup = [k for k, c in counts.items() if c > 1]
        extra = [k for k in counts if not 0 <= k < n]
        expect(not missing, "lost events: %s" % missing[:20])
        expect(not dup, "duplicated events: %s" % dup[:20])
        expect(not extra, "unexpected events: %s" % extra[:20])
        expect(sum(counts.values()) == n, "receiver holds %d events, expected %d" % (sum(counts.values()), n))
        expect(status == [], "unexpected loss report: %s" % status[:1])
        stats = rx.get("/stats")
        print("kill: %d SIGKILLs (seed %d) at checkpoints %s; receiver holds exactly %d events (%d alerts), "
              "none lost, none duplicated; %d resends answered by ifNoneExist; %.1f s"
              % (kills, seed, progress, n, n // 5, stats["existing"], time.time() - t0))
    finally:
        rx.stop()


def check_outage(bindir, work, n=400):
    port = free_port()
    probe = Probe(bindir, os.path.join(work, "state"))
    p = probe.start("http://127.0.0.1:%d/fhir" % port, n, "--alert-every", "10", "--batch-size", "20",
                    "--request-timeout", "0.5", "--backoff-max", "0.3", "--drain-timeout", "90")
    rx = None
    try:
        deadline = time.time() + 60
        while True:
            st = probe.status()
            if st["checkpoint"] == n:
                break
            expect(time.time() < deadline and p.poll() is None,
                   "probe did not enqueue %d events within 60 s while the receiver was down (rc %s, checkpoint %s): %s"
                   % (n, p.poll(), st["checkpoint"], Probe.output(p)[1][-1000:]))
            time.sleep(0.1)
        time.sleep(1.0)  # several refused attempts
        expect(st["sent"] == 0, "something was sent while the receiver was down")
        rx = Receiver(work, "--mode", "hang", "--hang", "1.5", port=port)
        time.sleep(2.0)  # requests time out after 0.5 s; the hung ones complete later (deduplicated)
        rx.control(mode="ok")
        p.wait(timeout=90)
        out, err = Probe.output(p)
        expect(p.returncode == 0, "probe did not drain after the outage (rc %d): %s" % (p.returncode, err[-1000:]))
        records = rx.records()
        counts, status = probe_events(records)
        expect(sorted(counts) == list(range(n)) and set(counts.values()) == {1}, "lost or duplicated events")
        alert_arrivals = [r["n"] for r in records if r["resourceType"] == "DetectedIssue"]
        telemetry_arrivals = [r["n"] for r in records if r["resourceType"] == "Observation" and event_number(r["resource"]) is not None]
        expect(len(alert_arrivals) == n // 10, "alerts missing")
        expect(max(alert_arrivals) < min(telemetry_arrivals),
               "telemetry arrived before an alert (last alert #%d, first telemetry #%d)"
               % (max(alert_arrivals), min(telemetry_arrivals)))
        stats = rx.get("/stats")
        expect(stats["hung"] > 0, "the hang phase saw no request")
        print("outage: %d events enqueued while the receiver was down, then %d requests hung past the 0.5 s "
              "timeout; backlog drained: %d alerts arrived first (#1-#%d), then %d telemetry; %d resends deduplicated"
              % (n, stats["hung"], len(alert_arrivals), max(alert_arrivals), len(telemetry_arrivals), stats["existing"]))
    finally:
        if p.poll() is None:
            p.kill()
        if rx:
            rx.stop()


def check_cap(bindir, work, n=400, cap=60000):
    probe = Probe(bindir, os.path.join(work, "state"))
    common = ["--alert-every", "10", "--byte-cap", str(cap)]
    probe.run(None, n, *common)
    st = probe.status()
    alerts = n // 10
    telemetry = n - alerts
    expect(st["pending"]["alert"] == alerts, "alerts lost to the cap: %s" % st["pending"])
    kept = st["pending"]["telemetry"]
    evicted = st["evicted"].get("telemetry", 0)
    expect(0 < kept < telemetry, "cap did not evict telemetry: %s" % st)
    expect(evicted == telemetry - kept, "eviction count %d != %d written - %d kept" % (evicted, telemetry, kept))
    expect("alert" not in st["evicted"], "an alert was evicted")
    expect(st["pending_bytes"] <= cap, "pending bytes %d over cap %d" % (st["pending_bytes"], cap))
    rx = Receiver(work)
    try:
        final = probe.run(rx.url, n, *common)
        expect(final["pending_count"] == 0, "not drained")
        counts, status = probe_events(rx.records())
        got_alerts = [k for k in counts if k % 10 == 0]
        expect(len(got_alerts) == alerts, "receiver has %d of %d alerts" % (len(got_alerts), alerts))
        expect(sum(counts.values()) == alerts + kept, "receiver count mismatch")
        tele = sorted(k for k in counts if k % 10 != 0)
        newest = [k for k in range(n) if k % 10 != 0][-kept:]
        expect(tele == newest, "kept telemetry is not the newest %d (oldest-first eviction)" % kept)
        expect(len(status) == 1, "expected one loss report, got %d" % len(status))
        comps = {c["code"]["coding"][0]["code"]: c["valueInteger"] for c in status[0]["resource"]["component"]}
        expect(comps["evicted-telemetry"] == evicted and comps["evicted-alert"] == 0,
               "loss report says %s, outbox counted %d" % (comps, evicted))
        print("cap: byte cap %d B, %d events (%d alerts): all %d alerts kept and delivered, %d of %d telemetry "
              "evicted oldest-first and counted; the loss Observation reported evicted-telemetry=%d"
              % (cap, n, alerts, alerts, evicted, telemetry, comps["evicted-telemetry"]))
    finally:
        rx.stop()


def check_poison(bindir, work, n=60, seed=7):
    for mode, bad in (("transaction", 17), ("entry", 23)):
        sub = os.path.join(work, mode)
        os.makedirs(sub)
        ident = seeded_uuid(seed, bad)
        rx = Receiver(sub, "--reject", ident, "--reject-mode", mode)
        probe = Probe(bindir, os.path.join(sub, "state"))
        try:
            final = probe.run(rx.url, n, "--alert-every", "6", "--uuid-seed", str(seed), "--batch-size", "10")
            expect(final["pending_count"] == 0, "poison blocked the outbox: %s" % final)
            counts, status = probe_events(rx.records())
            expect(sorted(counts) == [k for k in range(n) if k != bad], "%s: events other than %d missing" % (mode, bad))
            st = probe.status()
            dead = st["dead_letter_entries"]
            expect(len(dead) == 1 and "urn:uuid:" + dead[0]["id"] == ident, "%s: dead letters %s" % (mode, dead))
            expect(dead[0]["status"] == 422, "%s: dead letter status %d" % (mode, dead[0]["status"]))
            oo = json.loads(dead[0]["outcome"])
            expect(oo["resourceType"] == "OperationOutcome" and "rejected by the test receiver" in oo["issue"][0]["diagnostics"],
                   "%s: outcome not kept: %s" % (mode, dead[0]["outcome"][:200]))
            comps = {c["code"]["coding"][0]["code"]: c["valueInteger"] for c in status[-1]["resource"]["component"]} if status else {}
            expect(comps.get("dead-lettered") == 1, "%s: dead letter not reported upstream" % mode)
            print("poison (%s): event %d refused 422, dead-lettered with the server's OperationOutcome; "
                  "the other %d events arrived; %d requests; dead-lettered=1 reported upstream"
                  % (mode, bad, n - 1, rx.get("/stats")["requests"]))
        finally:
            rx.stop()


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_pki(work):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all throwaway."""
    f = lambda name: os.path.join(work, name)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f("ca.key"), "-out", f("ca.pem"),
            "-days", "2", "-subj", "/CN=vigil-test-ca")
    for who, ext in (("server", "subjectAltName=IP:127.0.0.1"), ("client", "extendedKeyUsage=clientAuth")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f(who + ".key"), "-out", f(who + ".csr"),
                "-subj", "/CN=vigil-test-" + who)
        with open(f(who + ".ext"), "w") as e:
            e.write(ext + "\n")
        openssl("x509", "-req", "-in", f(who + ".csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"),
                "-CAcreateserial", "-out", f(who + ".pem"), "-days", "2", "-extfile", f(who + ".ext"))
    return f


def check_auth(bindir, work, n=30):
    token = os.path.join(work, "token")
    with open(token, "w") as t:
        t.write("s3cret-test-token\n")
    wrong = os.path.join(work, "wrong")
    with open(wrong, "w") as t:
        t.write("not-it\n")
    rx = Receiver(work, "--token-file", token)
    probe = Probe(bindir, os.path.join(work, "state"))
    try:
        out = probe.run(rx.url, n, "--token-file", wrong, "--drain-timeout", "1.5", ok=(3,))
        expect(out["dead_letters"] == 0 and out["pending_count"] == n, "a 401 dead-lettered or lost entries: %s" % out)
        out = probe.run(rx.url, n, "--token-file", token)
        expect(out["pending_count"] == 0 and len(rx.records()) == n, "bearer token upload failed")
    finally:
        rx.stop()
    if shutil.which("openssl") is None:
        print("auth: bearer token ok; mutual TLS SKIPPED (no openssl)")
        return
    tls = os.path.join(work, "tls")
    os.makedirs(tls)
    f = make_pki(tls)
    rx = Receiver(tls, "--tls-cert", f("server.pem"), "--tls-key", f("server.key"), "--client-ca", f("ca.pem"))
    url = rx.url.replace("http://", "https://")
    probe = Probe(bindir, os.path.join(tls, "state"))
    try:
        out = probe.run(url, n, "--ca-file", f("ca.pem"), "--drain-timeout", "1.5", ok=(3,))
        expect(out["pending_count"] == n and not rx.records(), "upload without a client certificate got through")
        out = probe.run(url, n, "--ca-file", f("ca.pem"), "--client-cert", f("client.pem"), "--client-key", f("client.key"))
        expect(out["pending_count"] == 0 and len(rx.records()) == n, "mutual TLS upload failed: %s" % out)
    finally:
        rx.stop()
    print("auth: wrong bearer token -> 401 retried, nothing dead-lettered; right token -> %d delivered; "
          "HTTPS without a client certificate refused and retried; with it (mutual TLS) -> %d delivered" % (n, n))


CHECKS = {"invalid": check_invalid, "kill": check_kill, "outage": check_outage, "cap": check_cap,
          "poison": check_poison, "auth": check_auth}


def main():
    bindir, names = sys.argv[1], sys.argv[2:] or list(CHECKS)
    failed = []
    for name in names:
        work = tempfile.mkdtemp(prefix="vigil-sync-%s-" % name)
        try:
            CHECKS[name](bindir, work)
        except (CheckFailed, subprocess.TimeoutExpired) as e:
            print("FAIL %s: %s" % (name, e))
            failed.append(name)
        finally:
            if not failed or failed[-1] != name:
                shutil.rmtree(work, ignore_errors=True)
            else:
                print("  (work files kept in %s)" % work)
    if failed:
        sys.exit(1)
    print("sync checks passed: %s" % ", ".join(names))


if __name__ == "__main__":
    main()
