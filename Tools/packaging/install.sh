#!/usr/bin/env bash
# Installs the Vigil agent on a Debian-family board (Raspberry Pi OS, Debian, Ubuntu), idempotently:
#   sudo Tools/packaging/install.sh [--prefix /usr/local] [--no-start]
# Builds vigil in release mode, installs it with the bundled models and docs, creates the `vigil`
# system user, puts a config in /etc/vigil (kept if present), and enables the systemd unit.
# `--dry-run` prints what it would do without touching the system (used by the test suite).
set -euo pipefail
cd "$(dirname "$0")/../.."

PREFIX=/usr/local START=1 DRY=0
while (($#)); do
  case "$1" in
    --prefix) PREFIX="$2"; shift 2 ;;
    --no-start) START=0; shift ;;
    --dry-run) DRY=1; shift ;;
    -h|--help) sed -n 2,7p "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
  esac
done
run() { if ((DRY)); then echo "+ $*"; else "$@"; fi }

if ((!DRY)) && [ "$(id -u)" -ne 0 ]; then echo "install.sh: run as root (sudo)" >&2; exit 1; fi
for f in Tools/packaging/vigil.service Tools/packaging/vigil.example.yaml Models/ecg-rhythm/model.vigil; do
  [ -f "$f" ] || { echo "install.sh: missing $f" >&2; exit 1; }
done

if ((DRY)); then echo "+ swift build -c release --product vigil"; else swift build -c release --product vigil; fi
BIN="$(swift build -c release --show-bin-path 2>/dev/null || echo .build/release)/vigil"
SHARE="$PREFIX/share/vigil"

# libopenblas0 is loaded only by models with float layers (dlopen); libsqlite3-0 holds the outbox.
run apt-get install -y -qq --no-install-recommends libopenblas0 libmosquitto1 libsqlite3-0
getent passwd vigil >/dev/null || run useradd --system --home-dir /var/lib/vigil --shell /usr/sbin/nologin vigil
run install -D -m 0755 "$BIN" "$PREFIX/bin/vigil"
run install -d -m 0755 "$SHARE/Models/ecg-rhythm/data" "$SHARE/docs"
run install -m 0644 Models/ecg-rhythm/model.vigil Models/ecg-rhythm/labels.txt Models/ecg-rhythm/MODEL_CARD.md "$SHARE/Models/ecg-rhythm/"
run install -m 0644 Models/ecg-rhythm/data/mitbih-208-excerpt.npy Models/ecg-rhythm/data/SOURCE.md "$SHARE/Models/ecg-rhythm/data/"
run install -m 0644 docs/*.md "$SHARE/docs/"
run install -d -m 0750 -o root -g vigil /etc/vigil
if [ ! -f /etc/vigil/vigil.yaml ]; then
  run install -m 0640 -o root -g vigil Tools/packaging/vigil.example.yaml /etc/vigil/vigil.yaml
fi
run install -D -m 0644 Tools/packaging/vigil.service /etc/systemd/system/vigil.service
run systemctl daemon-reload
if ((START)); then run systemctl enable --now vigil.service; else run systemctl enable vigil.service; fi
echo "install.sh: installed $PREFIX/bin/vigil; config /etc/vigil/vigil.yaml; logs: journalctl -u vigil"
