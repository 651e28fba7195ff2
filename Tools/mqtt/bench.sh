#!/usr/bin/env bash
# Sustained MQTT publish throughput of VigilMQTT against a local mosquitto: messages/s at QoS 0
# and QoS 1 and the CPU seconds the publisher (and the broker) used. Numbers go in
# docs/PERFORMANCE.md ("MQTT publish throughput").
#   swift build -c release --product vigil-mqtt-probe && Tools/mqtt/bench.sh [COUNT] [PAYLOAD_BYTES]
# VIGIL_BIN=<dir> picks the probe (default: the release bin path).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${VIGIL_BIN:-$(swift build -c release --show-bin-path)}
COUNT=${1:-200000}
BYTES=${2:-256}
dir=$(mktemp -d)
trap 'Tools/mqtt/broker.sh stop "$dir"; rm -rf "$dir"' EXIT
port=$(Tools/mqtt/broker.sh start "$dir" plain)
broker_cpu() {  # utime + stime of the broker in seconds
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$(cat "$dir/pid")/stat"
}
for qos in 0 1; do
    before=$(broker_cpu)
    result=$("$BIN/vigil-mqtt-probe" bench --broker "mqtt://127.0.0.1:$port" --qos "$qos" --count "$COUNT" \
        --payload-bytes "$BYTES" --max-in-flight 100 2>/dev/null)
    after=$(broker_cpu)
    echo "$result" | python3 -c "
import json, sys
r = json.load(sys.stdin)
print(f\"QoS {r['qos']}: {r['messages']} x {r['payload_bytes']} B in {r['seconds']:.2f} s = {r['messages_per_s']:,.0f} msg/s; \"
      f\"publisher CPU {r['cpu_s']:.2f} s ({r['cpu_us_per_message']:.1f} us/msg), broker CPU $(python3 -c "print(f'{$after - $before:.2f}')") s; \"
      f\"acknowledged {r['acknowledged']}, sent QoS 0 {r['sent_qos0']}, refused {r['refused']}, dropped {r['dropped']}\")"
done
