#!/usr/bin/env bash
# The README's main command.  Installs dependencies, builds, and runs the main job.
# Until the end-to-end demo lands, the main job is the conformance suite: every
# official Prio3 (draft-irtf-cfrg-vdaf-20) and HPKE (RFC 9180) vector replayed
# byte for byte through the real privagg command.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh plain
echo "=== privagg conformance vdaf tests/vectors/vdaf"
build/privagg conformance vdaf tests/vectors/vdaf
echo "=== privagg conformance hpke tests/vectors/hpke"
build/privagg conformance hpke tests/vectors/hpke/x25519-hkdfsha256-chacha20poly1305.json
echo "main job done: all vectors passed"
