#!/usr/bin/env bash
# Regenerates Sources/VigilConvert/ONNX/onnx.pb.swift from the onnx.proto shipped in the onnx==1.22.0
# wheel (the plain ONNX schema, proto2 syntax, package `onnx`; the wheel ships no onnx.proto3, and the
# -ml variant adds only classic-ML types we do not import; all share one wire format, so PyTorch's and
# the ONNX node tests' model.onnx files parse), with protoc (Debian protobuf-compiler, 3.21.12 on
# bookworm) and protoc-gen-swift from swift-protobuf 1.39.0, the same version Package.swift depends on.
# The generated code is committed: building the plugin takes minutes and CI must not need it.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v protoc >/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq protobuf-compiler
fi
Tools/setup.sh >/dev/null
CACHE=.build-protoc   # git-ignored (.build-*/)
PLUGIN="$CACHE/swift-protobuf/.build/release/protoc-gen-swift"
if [ ! -x "$PLUGIN" ] || [ "$("$PLUGIN" --version 2>/dev/null)" != "protoc-gen-swift 1.39.0" ]; then
  rm -rf "$CACHE/swift-protobuf"
  mkdir -p "$CACHE"
  git clone -q https://github.com/apple/swift-protobuf "$CACHE/swift-protobuf"
  git -C "$CACHE/swift-protobuf" checkout -q 1.39.0
  (cd "$CACHE/swift-protobuf" && swift build -c release --product protoc-gen-swift)
fi
PROTO_DIR="$(.venv/bin/python -c 'import onnx, os; print(os.path.dirname(onnx.__file__))')"
protoc --plugin=protoc-gen-swift="$PLUGIN" \
  --swift_opt=Visibility=Internal --swift_out=Sources/VigilConvert/ONNX -I "$PROTO_DIR" "$PROTO_DIR/onnx.proto"
echo "regenerated Sources/VigilConvert/ONNX/onnx.pb.swift from $PROTO_DIR/onnx.proto"
