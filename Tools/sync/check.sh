#!/usr/bin/env bash
# Process-level checks of VigilSync (see Tools/sync/sync_checks.py): the FHIR test receiver's own
# validation, SIGKILL of the writer/uploader at 25 seeded moments, receiver outage with timeouts,
# the byte cap, and poison entries. Uses vigil-sync-probe from `swift build --show-bin-path`, or
# from VIGIL_BIN=<dir>. Python: the repo's .venv (fhir.resources==8.3.0), or VIGIL_PYTHON.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="${VIGIL_BIN:-$(swift build --show-bin-path)}"
PYTHON="${VIGIL_PYTHON:-.venv/bin/python}"
if [[ ! -x "$BIN/vigil-sync-probe" ]]; then
    echo "check.sh: $BIN/vigil-sync-probe not built (swift build --product vigil-sync-probe)" >&2
    exit 2
fi
"$PYTHON" -c 'import fhir.resources.R4B' || { echo "check.sh: fhir.resources==8.3.0 missing in $PYTHON" >&2; exit 2; }
exec "$PYTHON" Tools/sync/sync_checks.py "$BIN" "$@"
