#!/usr/bin/env bash
# The README's main command: installs dependencies, builds, and runs the whole
# system end to end on this machine (privagg demo): keys for every party, the
# Missouri task, a leader and a helper as separate processes over HTTPS on
# 127.0.0.1 (SQLite stores), all 646 agencies submitting one month of synthetic
# counts as Prio3 reports, aggregation, and the noised statewide release.
# Extra arguments go to privagg demo (e.g. --agencies 100 --months 2 --out DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh plain
exec build/privagg demo "$@"
