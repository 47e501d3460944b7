#!/usr/bin/env bash
# The library's runnable examples (examples/*.rs, `cargo run --example NAME`), each run and
# its output checked: the bundled date model loads, decodes greedily and by beam search to
# the true date, and its encoder embeds two spellings of a date closer than two dates.
# Prints "N passed, N failed" for tools/test.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
passed=0
failed=0
check() { # name, example, expected-output pattern (extended regex, whole line)
    local out
    if out=$(cargo run -q -p picoformer --example "$2" 2>&1) && grep -qxE -- "$3" <<<"$out"; then
        echo "test example_$1 ... ok"
        passed=$((passed + 1))
    else
        printf '%s\n' "$out"
        echo "test example_$1 ... FAILED (expected a line matching: $3)"
        failed=$((failed + 1))
    fi
}
check load_blob_prints_the_shape load_blob '  D 32, 4 heads, F 128, 2 \+ 2 layers, vocab 46 / 15, 48 source / 12 target positions'
check greedy_decodes_the_date greedy '2026-11-28  <-  "11/28/26"  \(log-probability -[0-9.]+\)'
check beam_search_ranks_the_true_date_first beam_search '  2026-11-28  score -[0-9.]+'
# the first hypothesis line must be the true date
out=$(cargo run -q -p picoformer --example beam_search 2>&1 | sed -n 2p)
if [[ $out == "  2026-11-28  score "* ]]; then
    echo "test example_beam_search_best_first ... ok" && passed=$((passed + 1))
else
    echo "test example_beam_search_best_first ... FAILED ($out)" && failed=$((failed + 1))
fi
out=$(cargo run -q -p picoformer --example embed 2>&1)
same=$(awk -F'= ' '/two spellings/ { print $2 }' <<<"$out")
different=$(awk -F'= ' '/two different dates/ { print $2 }' <<<"$out")
if [ -n "$same" ] && [ -n "$different" ] && awk -v s="$same" -v d="$different" 'BEGIN { exit !(s > d) }'; then
    echo "test example_embed_same_date_closer ... ok" && passed=$((passed + 1))
else
    printf '%s\n' "$out"
    echo "test example_embed_same_date_closer ... FAILED" && failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
