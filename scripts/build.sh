#!/usr/bin/env bash
# Configures and builds privagg.  usage: scripts/build.sh [plain|asan]
#   plain -> build/       (Release)
#   asan  -> build-asan/  (Debug, AddressSanitizer + UndefinedBehaviorSanitizer)
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-plain}
jobs=$(nproc 2>/dev/null || echo 2)
case "$kind" in
  plain) dir=build;      flags=(-DCMAKE_BUILD_TYPE=Release) ;;
  asan)  dir=build-asan; flags=(-DCMAKE_BUILD_TYPE=Debug -DPA_SANITIZE=ON) ;;
  *) echo "usage: scripts/build.sh [plain|asan]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j "$jobs"
