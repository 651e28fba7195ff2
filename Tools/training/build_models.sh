#!/usr/bin/env bash
# Builds the trained example models and their int8-vs-float fidelity reports:
#   Models/ecg-rhythm/         1-D CNN, heart-rate class of 2-s ECG windows (simulated training data,
#                              real MIT-BIH record 208 evaluation windows)
#   Models/breast-cancer-mlp/  MLP on scikit-learn's breast cancer data
# Each directory gets model.onnx, model.vigil, calib.npy, eval.npy, eval_labels.npy, labels.txt,
# train_info.json, fidelity.json and MODEL_CARD.md.
#
# Training needs torch, scikit-learn and neurokit2, so it runs in its own venv, .venv-train
# (created here if missing; Tools/training/requirements.txt), keeping the test venv .venv small.
# Idempotent: the venv is reused while requirements.txt is unchanged; models are retrained.
#
# Usage: Tools/training/build_models.sh [ecg|breast-cancer]...   (default: both)
set -euo pipefail
cd "$(dirname "$0")/../.."

VENV=".venv-train"
REQ="Tools/training/requirements.txt"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
STAMP="$VENV/.requirements.sha256"
want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$want" ]; then
  # torch: the CPU-only wheel is taken from PIP_FIND_LINKS when the machine provides one.
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQ"
  echo "$want" > "$STAMP"
fi
PY="$VENV/bin/python"

swift build --product vigil-convert
swift build --product vigil

models=("$@")
[ ${#models[@]} -eq 0 ] && models=(ecg breast-cancer)

for m in "${models[@]}"; do
  case "$m" in
    ecg)
      DIR=Models/ecg-rhythm
      [ -f "$DIR/data/mitbih-208-excerpt.npy" ] || "$PY" Tools/training/fetch_mitbih_excerpt.py "$DIR/data/mitbih-208-excerpt.npy"
      start=$SECONDS
      "$PY" -W ignore Tools/training/train_ecg.py --out "$DIR"
      echo "build_models: train_ecg.py took $((SECONDS - start)) s"
      ;;
    breast-cancer)
      DIR=Models/breast-cancer-mlp
      start=$SECONDS
      "$PY" -W ignore Tools/training/train_breast_cancer.py --out "$DIR"
      echo "build_models: train_breast_cancer.py took $((SECONDS - start)) s"
      ;;
    *) echo "build_models: unknown model '$m' (ecg, breast-cancer)" >&2; exit 2 ;;
  esac
  start=$SECONDS
  "$PY" -W ignore Tools/training/evaluate.py "$DIR"
  echo "build_models: evaluate.py $DIR took $((SECONDS - start)) s"
done
