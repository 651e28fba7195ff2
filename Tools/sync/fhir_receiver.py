#!/usr/bin/env python3
"""FHIR R4 test receiver for Vigil's sync tests.

Accepts transaction Bundles POSTed to /fhir, validates every resource with fhir.resources
(R4B models, which match FHIR R4 for the resources Vigil sends: Observation, DetectedIssue,
Bundle), honours `ifNoneExist: identifier=<system>|<value>` (an identifier already stored answers
"200 OK" with the existing resource, no duplicate), and appends what it accepted to a JSON-lines
file so another process can count it. It is atomic per transaction: a refused Bundle stores nothing.

Faults, from the command line or at run time via POST /control with a JSON object:
  mode        "ok" | "500" (answer 500, store nothing) | "hang" (sleep `hang` seconds, then
              answer normally: the client has timed out and will retry)
  delay       seconds to sleep before every answer (slow server)
  hang        seconds a "hang" lasts
  reject      identifier values (e.g. urn:uuid:...) whose entry the server refuses
  reject_mode "transaction" (the whole Bundle fails 422 with an OperationOutcome, like a real
              atomic server) | "entry" (200 batch-style answer, that entry 422 with its outcome)
GET /stats answers counters; GET /control answers the current faults.

Each stored line: {"n": arrival number, "request": request number, "identifier": value,
"resourceType": ..., "id": ..., "resource": {...}}.
"""
import argparse
import json
import os
import ssl
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle


def outcome(code, diagnostics, severity="error"):
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}]}


class Receiver:
    def __init__(self, store_path, faults, validate=True):
        self.validate = validate
        self.lock = threading.Lock()
        self.store_path = store_path
        self.faults = faults
        self.index = {}  # "system|value" -> (resourceType, id)
        self.arrivals = 0
        self.stats = {"requests": 0, "created": 0, "existing": 0, "rejected_entries": 0,
                      "invalid_bundles": 0, "failed_500": 0, "hung": 0}
        if os.path.exists(store_path):
            with open(store_path) as f:
                for line in f:
                    rec = json.loads(line)
                    self.index[rec["identifier"]] = (rec["resourceType"], rec["id"])
                    self.arrivals = max(self.arrivals, rec["n"])
        self.out = open(store_path, "a")

    def identifiers(self, resource):
        return ["%s|%s" % (i.get("system", ""), i.get("value", "")) for i in resource.get("identifier", [])]

    def transaction(self, body):
        """Returns (http status, response JSON)."""
        with self.lock:
            self.stats["requests"] += 1
            request_no = self.stats["requests"]
            faults = dict(self.faults)
        if faults.get("delay"):
            time.sleep(faults["delay"])
        if faults["mode"] == "500":
            with self.lock:
                self.stats["failed_500"] += 1
            return 500, outcome("transient", "receiver told to fail (mode 500)")
        if faults["mode"] == "hang":
            with self.lock:
                self.stats["hung"] += 1
            time.sleep(faults.get("hang", 30))
        try:
            doc = json.loads(body)
        except ValueError as e:
            return self.invalid("body is not JSON: %s" % e)
        if not isinstance(doc, dict) or doc.get("resourceType") != "Bundle" or doc.get("type") != "transaction":
            return self.invalid("expected a Bundle of type transaction")
        try:
            if self.validate:
                Bundle.model_validate(doc)
        except Exception as e:
            return self.invalid("Bundle: %s" % e)
        entries = doc.get("entry", [])
        # Validate every resource as its own type before touching the store (atomic transaction).
        for i, entry in enumerate(entries):
            res = entry.get("resource")
            req = entry.get("request", {})
            if not isinstance(res, dict) or "resourceType" not in res:
                return self.invalid("entry %d: no resource" % i)
            try:
                if self.validate:
                    get_fhir_model_class(res["resourceType"]).model_validate(res)
            except Exception as e:
                return self.invalid("entry %d (%s): %s" % (i, res.get("resourceType"), e))
            if req.get("method") != "POST" or req.get("url") != res["resourceType"]:
                return self.invalid("entry %d: request must be POST %s" % (i, res["resourceType"]))
            cond = req.get("ifNoneExist", "")
            if not cond.startswith("identifier=") or cond[len("identifier="):] not in self.identifiers(res):
                return self.invalid("entry %d: ifNoneExist %r does not name the resource's identifier" % (i, cond))
        rejected = set(faults.get("reject", []))
        answers = []
        with self.lock:
            for i, entry in enumerate(entries):
                key = entry["request"]["ifNoneExist"][len("identifier="):]
                value = key.split("|", 1)[1]
                if value in rejected:
                    self.stats["rejected_entries"] += 1
                    oo = outcome("business-rule", "entry %d: identifier %s rejected by the test receiver" % (i, value))
                    if faults.get("reject_mode", "transaction") == "transaction":
                        return 422, oo
                    answers.append({"response": {"status": "422 Unprocessable Entity", "outcome": oo}})
                    continue
                if key in self.index:
                    rtype, rid = self.index[key]
                    self.stats["existing"] += 1
                    answers.append({"response": {"status": "200 OK", "location": "%s/%s/_history/1" % (rtype, rid)}})
                    continue
                rid = str(uuid.uuid4())
                res = dict(entry["resource"], id=rid)
                self.arrivals += 1
                self.index[key] = (res["resourceType"], rid)
                self.stats["created"] += 1
                self.out.write(json.dumps({"n": self.arrivals, "request": request_no, "identifier": key,
                                           "resourceType": res["resourceType"], "id": rid, "resource": res}) + "\n")
                answers.append({"response": {"status": "201 Created", "location": "%s/%s/_history/1" % (res["resourceType"], rid)}})
            self.out.flush()
            os.fsync(self.out.fileno())
        return 200, {"resourceType": "Bundle", "type": "transaction-response", "entry": answers}

    def invalid(self, why):
        with self.lock:
            self.stats["invalid_bundles"] += 1
        return 400, outcome("invalid", why)


def make_handler(rx, token):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def send_json(self, status, obj):
            data = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout); what was stored stays stored

        def read_body(self):
            return self.rfile.read(int(self.headers.get("Content-Length", "0")))

        def do_GET(self):
            if self.path == "/stats":
                with rx.lock:
                    self.send_json(200, dict(rx.stats, stored=len(rx.index)))
            elif self.path == "/control":
                with rx.lock:
                    self.send_json(200, rx.faults)
            else:
                self.send_json(404, outcome("not-found", self.path))

        def do_POST(self):
            body = self.read_body()
            if self.path == "/control":
                change = json.loads(body)
                with rx.lock:
                    rx.faults.update(change)
                    self.send_json(200, rx.faults)
                return
            if self.path.rstrip("/") != "/fhir":
                self.send_json(404, outcome("not-found", "POST transactions to /fhir, not %s" % self.path))
                return
            if token is not None and self.headers.get("Authorization") != "Bearer " + token:
                self.send_json(401, outcome("login", "bearer token missing or wrong"))
                return
            status, obj = rx.transaction(body)
            self.send_json(status, obj)

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ap.add_argument("--port-file", help="write the chosen port here once listening")
    ap.add_argument("--store", required=True, help="JSON-lines file of accepted resources")
    ap.add_argument("--mode", default="ok", choices=["ok", "500", "hang"])
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--hang", type=float, default=30.0)
    ap.add_argument("--reject", action="append", default=[], help="identifier value to refuse (repeatable)")
    ap.add_argument("--reject-mode", default="transaction", choices=["transaction", "entry"])
    ap.add_argument("--token-file", help="require this bearer token")
    ap.add_argument("--no-validate", action="store_true",
                    help="skip fhir.resources validation (benchmarks of the client side only)")
    ap.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate (chain)")
    ap.add_argument("--tls-key", help="PEM key of --tls-cert")
    ap.add_argument("--client-ca", help="require a client certificate signed by this PEM CA (mutual TLS)")
    a = ap.parse_args()
    token = open(a.token_file).read().strip() if a.token_file else None
    rx = Receiver(a.store, {"mode": a.mode, "delay": a.delay, "hang": a.hang, "reject": a.reject,
                            "reject_mode": a.reject_mode}, validate=not a.no_validate)
    server = ThreadingHTTPServer(("127.0.0.1", a.port), make_handler(rx, token))
    server.daemon_threads = True
    scheme = "http"
    if a.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        if a.client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(a.client_ca)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(server.server_address[1]))
        os.replace(tmp, a.port_file)
    print("fhir_receiver listening on %s://127.0.0.1:%d/fhir" % (scheme, server.server_address[1]), file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
