#!/usr/bin/env bash
# The date model on the Cortex-M4F under QEMU: lints the firmware crate, then runs the
# on-target held-out check (the first 200 held-out phrases, greedy and beam search of 4,
# against their true dates) and the default phrases through tools/dates/on-qemu.sh, which
# must print a date for each. Prints "N passed, N failed" lines for tools/test.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
(cd targets/dates && cargo fmt --check && cargo clippy -q --release -- -D warnings)
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
exit "$status"
