#!/usr/bin/env bash
# The full stress run: appends from several threads across 32 zones under max-open 8, in every
# profile, each acknowledged append verified.
#   fuzz/stress.sh [appends per profile, default 1000000] [threads, default 4]
# ctest -L stress runs the short version (300,000 appends per profile).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cmake --preset default >/dev/null
cmake --build --preset default -j "$(nproc)" --target stress_test
ZBL_STRESS_APPENDS=${1:-1000000} ZBL_STRESS_THREADS=${2:-4} build/default/fuzz/stress_test
