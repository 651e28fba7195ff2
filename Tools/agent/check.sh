#!/usr/bin/env bash
# The agent's acceptance checks, through the built binaries:
#  1. `vigil run --duration 20 --broker mqtt://127.0.0.1:PORT` runs the bundled demo and exits 0
#     after 20 s;
#  2. sensor-sim -> pty -> vigil run -> mosquitto -> paho (+ the outbox -> the FHIR test receiver):
#     Tools/agent/e2e.py (schemas, status birth/offline, lead-off alarm latency, RSS and CPU).
# VIGIL_BIN overrides the binary directory (default: swift build --show-bin-path).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="${VIGIL_BIN:-$(swift build --show-bin-path)}"
PY=.venv/bin/python
DIR="$(mktemp -d -t vigil-agent-check.XXXXXX)"
trap 'Tools/mqtt/broker.sh stop "$DIR/broker" >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT

port="$(Tools/mqtt/broker.sh start "$DIR/broker" plain | tail -1)"
start=$(date +%s.%N)
"$BIN/vigil" run --duration 20 --broker "mqtt://127.0.0.1:$port" --state-dir "$DIR/state" 2> "$DIR/demo.log"
end=$(date +%s.%N)
elapsed=$(python3 -c "print(round($end - $start, 1))")
python3 -c "import sys; e=$elapsed; sys.exit(0 if 20 <= e <= 30 else 1)" || { echo "agent: the demo ran ${elapsed} s, expected 20-30"; exit 1; }
grep -q "alarm active" "$DIR/demo.log" || { echo "agent: the demo raised no alarm in 20 s"; tail -20 "$DIR/demo.log"; exit 1; }
echo "agent: vigil run --duration 20 (demo) exited 0 after ${elapsed} s"
Tools/mqtt/broker.sh stop "$DIR/broker" >/dev/null

$PY Tools/agent/e2e.py "$BIN" --duration 20 ${VIGIL_E2E_FLAGS:-}
