#!/usr/bin/env bash
# The main job on its bundled demo: the bedside agent (`vigil run`) replays a real ECG (MIT-BIH
# record 208 excerpt) at real time into the bundled ecg-rhythm model and the R-peak heart rate,
# and publishes status, vitals, predictions and alarms to a local mosquitto this script starts
# (on 127.0.0.1:1883 when free, else on a free port) and stops on exit.
#
#   Tools/run-demo.sh                  # until Ctrl-C
#   Tools/run-demo.sh --duration 20    # any `vigil run` flag is passed through
#
# Watch the topics from another terminal with the command it prints (mosquitto_sub).
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/setup.sh >/dev/null
swift build -c release --product vigil 2>&1 | grep -E "error|warning: unre|Compiling vigil|Build complete" || true
VIGIL="$(swift build -c release --show-bin-path)/vigil"
[ -x "$VIGIL" ] || { echo "run-demo: build failed" >&2; exit 1; }

DIR="$(mktemp -d -t vigil-demo.XXXXXX)"
port=1883
if ! python3 -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1", 1883))' 2>/dev/null; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi
cat > "$DIR/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
log_dest file $DIR/mosquitto.log
CONF
/usr/sbin/mosquitto -c "$DIR/mosquitto.conf" -d 2>/dev/null || /usr/sbin/mosquitto -c "$DIR/mosquitto.conf" &
for _ in $(seq 50); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
  sleep 0.1
done
cleanup() { pkill -f "mosquitto -c $DIR/mosquitto.conf" 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT

echo "run-demo: broker mqtt://127.0.0.1:$port; watch with:"
echo "  mosquitto_sub -h 127.0.0.1 -p $port -t 'vigil/#' -v -V mqttv5"
"$VIGIL" run --broker "mqtt://127.0.0.1:$port" --state-dir "$DIR/state" "$@"
