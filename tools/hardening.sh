#!/usr/bin/env bash
# Everything of the hardening work that is too slow for CI: Miri, then the fuzzers, each
# writing its figures into docs/hardening.md.
#   bash tools/hardening.sh [EXECUTIONS_PER_FUZZ_TARGET (default 10000000)]
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/miri.sh --write docs/hardening.md
bash tools/fuzz.sh --runs "${1:-10000000}" --write docs/hardening.md
