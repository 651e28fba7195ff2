#!/usr/bin/env bash
# Prints the one-run peer table of compare.py (see its docstring): Vigil int8 against ONNX Runtime
# and LiteRT, float and int8, single thread.
#
#   Tools/bench/run.sh [compare.py options...]            builds release vigil/vigil-convert first
#   VIGIL_BIN=.build-kern/release Tools/bench/run.sh ...   uses binaries already built there
#
# The Python side runs in its own venv (BENCH_VENV, default .venv-bench), created and kept in step
# with Tools/bench/requirements.txt idempotently; the test venv (.venv) is not touched. If the full
# requirements (with litert-torch / ai-edge-litert) cannot be installed, the core ones are, and the
# table says why the LiteRT columns are missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

VENV="${BENCH_VENV:-.venv-bench}"
REQ="Tools/bench/requirements.txt"
CORE="Tools/bench/requirements-core.txt"
STAMP="$VENV/.requirements.sha256"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
want="$(cat "$REQ" "$CORE" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$want" ]; then
  echo "bench: installing $REQ into $VENV (first run: a few minutes)" >&2
  rm -f "$VENV/.litert-install-error"
  if ! "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQ" 2>"$VENV/.pip-err"; then
    echo "bench: $REQ failed to install; installing $CORE (no LiteRT columns)" >&2
    tail -n 15 "$VENV/.pip-err" > "$VENV/.litert-install-error"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$CORE"
  fi
  echo "$want" > "$STAMP"
fi
if [ -s "$VENV/.litert-install-error" ]; then
  export BENCH_LITERT_INSTALL_ERROR="$(tr '\n' ' ' < "$VENV/.litert-install-error")"
fi

if [ -n "${VIGIL_BIN:-}" ]; then
  BIN="$VIGIL_BIN"
else
  Tools/setup.sh >/dev/null
  swift build -c release --product vigil >/dev/null
  swift build -c release --product vigil-convert >/dev/null
  BIN="$(swift build -c release --show-bin-path)"
fi
exec "$VENV/bin/python" Tools/bench/compare.py "$BIN" "$@"
