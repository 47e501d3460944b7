#!/usr/bin/env bash
# The README's quickstart times and test count are measured, never typed: they live
# between the markers `<!-- quickstart-figures:times -->` and `<!-- /quickstart-figures:times -->`
# of README.md, and this script checks them against a measurement or writes them from it.
#
#   quickstart-figures.sh suite SECONDS PASSED FRESH
#       .ci/run calls it after the whole suite (setup + tests): PASSED must equal the
#       README's test count; with FRESH=1 (the build directory was empty: a fresh clone)
#       the README's time must also lie within the tolerance of SECONDS.
#   quickstart-figures.sh first
#       runs the README's first command (read from its quickstart block), timed, and checks
#       its time against the README's "first time" figure when nothing was built yet
#       (target/firmware absent), else against the "after that" figure, and its output
#       (exact instruction counts and sizes) against the README's copy between
#       `<!-- quickstart-figures:output -->` markers, line for line.
#   quickstart-figures.sh show
#       prints the figures the README holds.
#   quickstart-figures.sh self-test
#       the parser, the checks and the writer on made-up documents.
#
# A check that fails says what was measured; PICOFORMER_WRITE_FIGURES=1 writes the
# measurement into the README instead (times only from the run they describe: a fresh
# clone for the suite and for the first command's first time).
# A test count must be exact. Times of a whole run vary with the machine and its load, and
# a timed check would fail CI on a slow machine, not on a stale figure: a time more than
# 50 % (plus 5 s) away from the README's is reported ("differs"), never failed; rewrite it
# from a fresh clone's run with PICOFORMER_WRITE_FIGURES=1.
set -euo pipefail
cd "$(dirname "$0")/.."
doc=${PICOFORMER_FIGURES_DOC:-README.md}

seconds_of() { # "19 min 59 s" | "4 s" -> seconds
    awk '{ s = 0; for (i = 1; i < NF; i++) { if ($(i + 1) == "min") s += 60 * $i; if ($(i + 1) == "s") s += $i } print s }' <<<"$1"
}
text_of() { # seconds -> "19 min 59 s" | "4 s"
    if [ "$1" -ge 60 ]; then echo "$(($1 / 60)) min $(($1 % 60)) s"; else echo "$1 s"; fi
}

# The figures: FIRST, FIRST_DATE, AGAIN (seconds), SUITE (seconds), SUITE_DATE, TESTS.
read_figures() {
    local block
    block=$(awk '$0 == "<!-- quickstart-figures:times -->" { inside = 1; next }
                 $0 == "<!-- /quickstart-figures:times -->" { inside = 0 } inside' "$doc")
    local first_line suite_line
    first_line=$(grep '^- The first command: ' <<<"$block") || { echo "quickstart-figures: $doc has no first-command line" >&2; return 1; }
    suite_line=$(grep '^- The second command' <<<"$block") || { echo "quickstart-figures: $doc has no suite line" >&2; return 1; }
    FIRST=$(seconds_of "$(sed -E 's/^- The first command: (([0-9]+ min )?[0-9]+ s) the first time.*/\1/' <<<"$first_line")")
    FIRST_DATE=$(sed -E 's/.*\(measured ([0-9-]+);.*/\1/' <<<"$first_line")
    AGAIN=$(seconds_of "$(sed -E 's/.*, (([0-9]+ min )?[0-9]+ s) after that\.$/\1/' <<<"$first_line")")
    SUITE=$(seconds_of "$(sed -E 's/.*setup included\): (([0-9]+ min )?[0-9]+ s) on .*/\1/' <<<"$suite_line")")
    SUITE_DATE=$(sed -E 's/.* on ([0-9]{4}-[0-9]{2}-[0-9]{2}), .*/\1/' <<<"$suite_line")
    TESTS=$(sed -E 's/.*, ([0-9]+) tests passed\.$/\1/' <<<"$suite_line")
    for value in "$FIRST" "$AGAIN" "$SUITE" "$TESTS"; do
        [[ $value =~ ^[0-9]+$ ]] && [ "$value" -gt 0 ] ||
            { echo "quickstart-figures: $doc: unreadable figures: $first_line / $suite_line" >&2; return 1; }
    done
}

write_figures() { # from FIRST, FIRST_DATE, AGAIN, SUITE, SUITE_DATE, TESTS
    {
        echo "<!-- quickstart-figures:times -->"
        echo "- The first command: $(text_of "$FIRST") the first time (measured $FIRST_DATE; it builds \`defmt-print\` for the firmware setup, the engine and the firmware), $(text_of "$AGAIN") after that."
        echo "- The second command, as CI runs it (\`CI=true bash .ci/run\`, setup included): $(text_of "$SUITE") on $SUITE_DATE, $TESTS tests passed."
        echo "<!-- /quickstart-figures:times -->"
    } | bash tools/firmware-doc.sh write "$doc"
}

within() { # measured, documented -> status: within 50 % (+ 5 s)
    local measured=$1 documented=$2
    [ "$((measured * 2))" -le "$((documented * 3 + 10))" ] && [ "$((measured * 2 + 10))" -ge "$documented" ]
}

failed=0
retime=0
time_verdict() { # what, measured, documented, within-status: reported, never failed
    if [ "$4" -eq 0 ]; then
        echo "quickstart-figures: $1: measured $2, $doc says $3: ok"
    else
        echo "quickstart-figures: $1: measured $2, $doc says $3: differs by more than 50 % (a note, not a failure; PICOFORMER_WRITE_FIGURES=1 writes the measurement)"
        retime=1
    fi
}

verdict() { # what, measured, documented, ok-status
    if [ "$4" -eq 0 ]; then
        echo "quickstart-figures: $1: measured $2, $doc says $3: ok"
    else
        echo "quickstart-figures: $1: measured $2, $doc says $3: FAILED (PICOFORMER_WRITE_FIGURES=1 writes the measurement)"
        failed=1
    fi
}

suite() { # seconds, passed, fresh
    local seconds=$1 passed=$2 fresh=$3 status
    read_figures
    [ "$passed" -eq "$TESTS" ] && status=0 || status=1
    verdict "tests passed" "$passed" "$TESTS" "$status"
    if [ "$fresh" = 1 ]; then
        within "$seconds" "$SUITE" && status=0 || status=1
        time_verdict "whole suite on a fresh clone" "$(text_of "$seconds")" "$(text_of "$SUITE")" "$status"
    else
        echo "quickstart-figures: whole suite: $(text_of "$seconds") with a build directory already there (not a fresh clone: not compared)"
    fi
    if [ "$((failed + retime))" -ne 0 ] && [ "${PICOFORMER_WRITE_FIGURES:-0}" = 1 ]; then
        TESTS=$passed
        if [ "$fresh" = 1 ]; then SUITE=$seconds && SUITE_DATE=$(date -u +%F); fi
        write_figures && echo "quickstart-figures: wrote the measurement into $doc" && failed=0
    fi
    return "$failed"
}

first() {
    read_figures
    local command fresh=1 start seconds status
    command=$(awk '/^## Quickstart/ { q = 1 } q && /^bash tools\/dates\/on-qemu.sh / { print; exit }' "$doc")
    [ -n "$command" ] || { echo "quickstart-figures: $doc's quickstart has no tools/dates/on-qemu.sh line" >&2; return 1; }
    [ -e target/firmware ] && fresh=0
    echo "quickstart-figures: running the README's first command: $command"
    output=$(mktemp)
    start=$SECONDS
    bash -c "$command" | tee "$output"
    seconds=$((SECONDS - start))
    # What it prints, setup lines aside, is exact (instruction counts, sizes): the README's
    # copy must be the same, line for line.
    local printed documented
    printed=$(grep -v '^setup \[' "$output")
    rm -f "$output"
    documented=$(awk '$0 == "<!-- quickstart-figures:output -->" { inside = 1; next }
                      $0 == "<!-- /quickstart-figures:output -->" { inside = 0 }
                      inside && !/^```/' "$doc")
    if [ "$printed" = "$documented" ]; then
        echo "quickstart-figures: first command's output: the same as $doc's: ok"
    elif [ "${PICOFORMER_WRITE_FIGURES:-0}" = 1 ]; then
        printf '%s\n' "<!-- quickstart-figures:output -->" '```text' "$printed" '```' \
            "<!-- /quickstart-figures:output -->" | bash tools/firmware-doc.sh write "$doc"
        echo "quickstart-figures: wrote the first command's output into $doc"
    else
        diff <(echo "$documented") <(echo "$printed") || true
        echo "quickstart-figures: first command's output differs from $doc's (< README, > now): FAILED (PICOFORMER_WRITE_FIGURES=1 writes it)"
        failed=1
    fi
    if [ "$fresh" = 1 ]; then
        within "$seconds" "$FIRST" && status=0 || status=1
        time_verdict "first command, the first time" "$(text_of "$seconds")" "$(text_of "$FIRST")" "$status"
        if [ "$retime" -ne 0 ] && [ "${PICOFORMER_WRITE_FIGURES:-0}" = 1 ]; then
            FIRST=$seconds && FIRST_DATE=$(date -u +%F) && write_figures && failed=0
        fi
    else
        within "$seconds" "$AGAIN" && status=0 || status=1
        time_verdict "first command, once built" "$(text_of "$seconds")" "$(text_of "$AGAIN")" "$status"
        if [ "$retime" -ne 0 ] && [ "${PICOFORMER_WRITE_FIGURES:-0}" = 1 ]; then
            AGAIN=$seconds && write_figures && failed=0
        fi
    fi
    return "$failed"
}

self_test() {
    local work passed=0 failures=0
    # The cases choose when to write: a PICOFORMER_WRITE_FIGURES=1 of the caller (a
    # .ci/run that writes its figures) must not turn the failing cases into writes.
    local PICOFORMER_WRITE_FIGURES=0
    work=$(mktemp -d)
    trap 'rm -rf "$work"' RETURN
    result() { # name, status
        if [ "$2" -eq 0 ]; then
            echo "test quickstart_figures_$1 ... ok" && passed=$((passed + 1))
        else
            echo "test quickstart_figures_$1 ... FAILED" && failures=$((failures + 1))
        fi
    }
    # the README's own block reads
    (read_figures) >/dev/null 2>&1
    result readme_block_reads $?
    printf '%s\n' "intro" "<!-- quickstart-figures:times -->" \
        "- The first command: 16 min 56 s the first time (measured 2026-11-28; it builds \`defmt-print\` for the firmware setup, the engine and the firmware), 4 s after that." \
        "- The second command, as CI runs it (\`CI=true bash .ci/run\`, setup included): 19 min 59 s on 2026-12-04, 1047 tests passed." \
        "<!-- /quickstart-figures:times -->" "outro" >"$work/doc.md"
    local figures
    figures=$(doc=$work/doc.md && read_figures && echo "$FIRST $FIRST_DATE $AGAIN $SUITE $SUITE_DATE $TESTS")
    [ "$figures" = "1016 2026-11-28 4 1199 2026-12-04 1047" ]
    result parses_times_dates_and_count $?
    cp "$work/doc.md" "$work/same.md"
    (doc=$work/same.md && read_figures && write_figures) && cmp -s "$work/doc.md" "$work/same.md"
    result writes_back_what_it_read $?
    (doc=$work/doc.md && suite 1500 1047 1) >/dev/null
    result suite_passes_within_tolerance $?
    (doc=$work/doc.md && suite 1199 1046 0) >/dev/null && status=1 || status=0
    result suite_fails_on_another_test_count $status
    (doc=$work/doc.md && suite 3000 1047 1) | grep -q 'differs by more than 50 %'
    result suite_reports_a_fresh_time_far_off_without_failing $?
    (doc=$work/doc.md && suite 3000 1047 0) >/dev/null
    result suite_ignores_the_time_of_a_built_tree $?
    cp "$work/doc.md" "$work/written.md"
    (doc=$work/written.md && PICOFORMER_WRITE_FIGURES=1 suite 600 1050 1) >/dev/null &&
        grep -q '): 10 min 0 s on [0-9-]*, 1050 tests passed\.$' "$work/written.md" &&
        grep -qx 'outro' "$work/written.md"
    result write_records_the_measurement $?
    echo "$passed passed, $failures failed"
    [ "$failures" -eq 0 ]
}

case ${1:-} in
    suite) suite "$2" "$3" "$4" ;;
    first) first ;;
    show) read_figures && echo "first: $(text_of "$FIRST") ($FIRST_DATE), again: $(text_of "$AGAIN"), suite: $(text_of "$SUITE") ($SUITE_DATE), tests: $TESTS" ;;
    self-test) self_test ;;
    *) echo "usage: $0 suite SECONDS PASSED FRESH | first | show | self-test" >&2 && exit 2 ;;
esac
