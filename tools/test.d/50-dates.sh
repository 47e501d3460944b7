#!/usr/bin/env bash
# The date model on the Cortex-M4F under QEMU: lints the firmware crate, then runs the
# on-target held-out check (the first 200 held-out phrases, greedy and beam search of 4,
# against their true dates) and the default phrases through tools/dates/on-qemu.sh, which
# must print a date for each; then phrases without a date in range, which the firmware
# must refuse one by one; and docs/dates.md against tools/dates/threshold.py (the answer
# threshold and its error rates, from the engine's scores). Prints "N passed, N failed"
# lines for tools/test.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
(cd targets/dates && cargo fmt --check && cargo clippy -q --release -- -D warnings)
cargo build -q --bin picoformer
if python3 tools/dates/threshold.py --picoformer target/debug/picoformer --check docs/dates.md >/dev/null; then
    echo "test dates_threshold_page_is_current ... ok"
    echo "1 passed, 0 failed"
else
    echo "test dates_threshold_page_is_current ... FAILED"
    echo "0 passed, 1 failed"
    exit 1
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
bash tools/dates/on-qemu.sh --held-out | tee "$log"
status=${PIPESTATUS[0]}
set -e
[ "$status" -eq 0 ] || grep -qE '^[0-9]+ passed, [0-9]+ failed' "$log" || echo "0 passed, 1 failed"
bash tools/dates/on-qemu.sh | tee "$log"
if [ "$(grep -cE '^  [0-9]{4}-[0-9]{2}-[0-9]{2}  <-' "$log")" -eq 6 ] && grep -q '^  flash: ' "$log"; then
    echo "test dates_on_qemu_prints_each_date_and_memory ... ok"
    echo "1 passed, 0 failed"
else
    echo "test dates_on_qemu_prints_each_date_and_memory ... FAILED"
    echo "0 passed, 1 failed"
    exit 1
fi
# Each refused with its reason (the impossible days as such), the good phrase among them
# still read, exit status non-zero.
set +e
bash tools/dates/on-qemu.sh "tomorrow" "31/31/2026" "feb 29 2025" "feb 30" "11/28/26" "june 5th 1945" >"$log"
refused=$?
set -e
cat "$log"
if [ "$refused" -ne 0 ] &&
    grep -q '^error: no date found in "tomorrow" (' "$log" &&
    [ "$(grep -cE '^error: no date found in "(31/31/2026|feb 29 2025|feb 30)" \(no such day in the calendar\)$' "$log")" -eq 3 ] &&
    grep -q '^error: "june 5th 1945" is outside 1950–2049$' "$log" &&
    [ "$(grep -cE '^  [0-9]{4}-[0-9]{2}-[0-9]{2}  <-' "$log")" -eq 1 ] &&
    grep -qE '^  2026-11-28  <-  "11/28/26"' "$log"; then
    echo "test dates_on_qemu_refuses_phrases_without_a_date ... ok"
    echo "1 passed, 0 failed"
else
    echo "test dates_on_qemu_refuses_phrases_without_a_date ... FAILED"
    echo "0 passed, 1 failed"
    exit 1
fi
exit "$status"
