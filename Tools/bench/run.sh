#!/usr/bin/env bash
# Builds release binaries and prints the latency table of compare.py (see its docstring).
set -euo pipefail
cd "$(dirname "$0")/../.."
Tools/setup.sh >/dev/null
swift build -c release --product vigil >/dev/null
swift build -c release --product vigil-convert >/dev/null
exec .venv/bin/python Tools/bench/compare.py "$(swift build -c release --show-bin-path)" "$@"
