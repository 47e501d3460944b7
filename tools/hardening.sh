#!/usr/bin/env bash
# Everything of the hardening work that is too slow for CI: Miri, then the fuzzers.
#   bash tools/hardening.sh [SECONDS_PER_FUZZ_TARGET (default 60)]
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/miri.sh
bash tools/fuzz.sh "${1:-60}"
