#!/usr/bin/env bash
# Installs every Debian package privagg needs to build, test and run (idempotent).
# Runs apt-get only when a package is missing; uses sudo when not root.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git ca-certificates openssl curl
  libsodium-dev libmsgpack-dev libgsl-dev libcmocka-dev libsqlite3-dev sqlite3
  libpq-dev libmicrohttpd-dev libcurl4-openssl-dev libjansson-dev libgnutls28-dev
  libsystemd-dev  # privagg serve: sd_notify for the Type=notify units (cmake -DPA_SYSTEMD=OFF drops it)
  libgmp-dev   # tests only: field arithmetic cross-checked against GMP
  valgrind     # tests only: valgrind/memcheck.h and the ctgrind (constant-time) re-runs
  postgresql   # tests only: a private cluster for the tests labelled pg (scripts/pg-cluster.sh)
  chromium python3  # tests only: report.html rendered headless (tests/integration/report_browser.sh);
                    # python3 edits files in the audit tampering test and captures a report
                    # in tests/integration/bad_requests.sh
  clang libclang-rt-14-dev  # tests only: libFuzzer (clang -fsanitize=fuzzer; libclang_rt.fuzzer is in
                            # libclang-rt-14-dev, only recommended by clang-14) for scripts/fuzz in CI
  time              # tests only: /usr/bin/time, the CPU seconds per fuzz target (scripts/fuzz)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
