#!/usr/bin/env bash
# Firmware budgets (issue 15): the figures a board's run is held to, and the check against
# the one list of limits, tools/firmware-budgets.txt.
#
#   firmware-budgets.sh figures BOARD LOG [PROBE_DIR]
#       prints the budget figures of one board's suite run as `figure NAME VALUE` lines:
#       LOG holds the suite's output and the tools/qemu-icount plugin's region lines (with
#       core=NAME); PROBE_DIR, where the target's code-size probes were built (boards
#       without probes leave it out). Figures:
#       - engine_text_greedy_bytes, engine_text_beam_bytes: .text of size-greedy and of
#         size-engine (greedy + beam search) minus .text of size-runtime;
#       - stack_greedy_bytes, stack_beam_bytes: the suite's painted stack figures;
#       - matvec_i8_instr_per_mac, matvec_i8_cycles_per_mac: the int8 matrix-vector
#         product [512, 512] (the region the suite names with
#         `figure matvec_i8_shape REGION 512 512`), per multiply-accumulate;
#       - matvec_i8_64x256_instr_per_mac, matvec_i8_64x256_cycles_per_mac: the same at
#         [64, 256] (`figure matvec_i8_shape REGION 64 256`), where the per-group frame
#         and the quantizer weigh most;
#       - matvec_i8_256x256_instr_per_mac, matvec_i8_256x256_cycles_per_mac: at [256, 256];
#       - crc_instr_per_kib, crc_cycles_per_kib: the blob checksum (CRC-32C) over the
#         test blob in flash (the region the suite names with `figure crc_region REGION
#         BYTES`), per KiB, rounded.
#   firmware-budgets.sh check FIGURES [BUDGETS]
#       FIGURES: lines `BOARD figure NAME VALUE`; BUDGETS: tools/firmware-budgets.txt by
#       default. Prints one line per budget and board: `budget ok: ...`,
#       `budget pending: ...` (over a pending budget) or `budget FAILED: ...` (over an
#       enforced one, or every one with PICOFORMER_BUDGETS=enforce), and exits 1 when a
#       budget FAILED.
#   firmware-budgets.sh self-test
#       checks the checker on made-up figures and budgets.
set -euo pipefail
cd "$(dirname "$0")/.."
bin_dir=$(rustc --print sysroot 2>/dev/null)/lib/rustlib/x86_64-unknown-linux-gnu/bin

# The int8 products the kernel budgets are set at: rows, columns, figure name stem.
readonly I8_SHAPES="512 512 matvec_i8 64 256 matvec_i8_64x256 256 256 matvec_i8_256x256"

text_bytes() { "$bin_dir/llvm-size" -A "$1" | awk '$1 == ".text" { print $2 }'; }

figures() { # board, log, [probe dir]
    local log=$2 probes=${3:-}
    if [ -n "$probes" ]; then
        local runtime
        runtime=$(text_bytes "$probes/size-runtime")
        echo "figure engine_text_greedy_bytes $(($(text_bytes "$probes/size-greedy") - runtime))"
        echo "figure engine_text_beam_bytes $(($(text_bytes "$probes/size-engine") - runtime))"
    fi
    awk '$1 == "figure" && ($2 == "stack_greedy_bytes" || $2 == "stack_beam_bytes") { print $1, $2, $3 }' "$log"
    awk -v shapes="$I8_SHAPES" '
        BEGIN { count = split(shapes, field, " ") / 3 }
        $1 == "figure" && $2 == "matvec_i8_shape" { region[$4 "x" $5] = $3 }
        $1 == "picoformer-icount" && $2 == "region" { instructions[$3] = $5; cycles[$3] = $7 }
        $1 == "figure" && $2 == "crc_region" { crc_region = $3; crc_bytes = $4 }
        END {
            if (crc_region != "" && crc_bytes > 0 && (crc_region in instructions)) {
                printf "figure crc_instr_per_kib %.0f\n", instructions[crc_region] * 1024 / crc_bytes
                if (cycles[crc_region] != "")
                    printf "figure crc_cycles_per_kib %.0f\n", cycles[crc_region] * 1024 / crc_bytes
            }
            for (i = 0; i < count; i++) {
                rows = field[3 * i + 1]; cols = field[3 * i + 2]; stem = field[3 * i + 3]
                r = region[rows "x" cols]
                if (r == "" || !(r in instructions)) continue
                printf "figure %s_instr_per_mac %.4f\n", stem, instructions[r] / (rows * cols)
                if (cycles[r] != "")
                    printf "figure %s_cycles_per_mac %.4f\n", stem, cycles[r] / (rows * cols)
            }
        }' "$log"
}

check() { # figures, [budgets]
    local budgets=${2:-tools/firmware-budgets.txt}
    awk -v enforce_all="${PICOFORMER_BUDGETS:-}" '
        FNR == NR {
            if ($2 == "figure") {
                value[$1, $3] = $4
                measured[$3] = 1
                if (!($1 in seen)) { seen[$1] = 1; boards[++board_count] = $1 }
            }
            next
        }
        /^[[:space:]]*(#|$)/ { next }
        {
            status = $1; name = $2; on = $3; op = $4; limit = $5
            if ((status != "enforced" && status != "pending") || (op != "<=" && op != "<") || limit == "") {
                printf "budget FAILED: %s:%d: malformed budget line: %s\n", FILENAME, FNR, $0
                failed++
                next
            }
            if (enforce_all == "enforce") status = "enforced"
            if (!(name in measured)) {
                printf "budget not measured in this run: %s %s %s (%s)\n", name, op, limit, on
                next
            }
            n = 0
            if (on == "*") { for (b = 1; b <= board_count; b++) list[++n] = boards[b] }
            else n = split(on, list, ",")
            for (i = 1; i <= n; i++) {
                board = list[i]
                what = board " figure " name
                if (!((board, name) in value)) {
                    report(status, what " missing (limit " limit ")")
                    continue
                }
                got = value[board, name]
                bound = limit
                shown = limit
                if (limit !~ /^[0-9.]+$/) {
                    if (!((board, limit) in value)) {
                        report(status, what " = " got ": figure " limit " missing")
                        continue
                    }
                    bound = value[board, limit]
                    shown = limit " = " bound
                }
                within = (op == "<=") ? (got + 0 <= bound + 0) : (got + 0 < bound + 0)
                if (within) printf "budget ok: %s = %s %s limit %s\n", what, got, op, shown
                else report(status, what " = " got " " (op == "<=" ? ">" : ">=") " limit " shown)
            }
            delete list
        }
        function report(status, text) {
            if (status == "enforced") { printf "budget FAILED: %s\n", text; failed++ }
            else printf "budget pending: %s\n", text
        }
        END { exit failed > 0 }
    ' "$1" "$budgets"
}

self_test() {
    local work passed=0 failed=0
    # the switch is the test's to set (one test below), not the caller's
    unset PICOFORMER_BUDGETS
    work=$(mktemp -d)
    trap 'rm -rf "$work"' RETURN
    cat >"$work/figures" <<'EOF'
board-a figure stack_greedy_bytes 2048
board-a figure matvec_i8_instr_per_mac 1.401
board-a figure token_cycles_i8 900
board-a figure token_cycles_f32 1000
board-b figure stack_greedy_bytes 2049
board-b figure token_cycles_i8 1000
board-b figure token_cycles_f32 1000
EOF
    expect() { # name, expected status, expected output (grep -x pattern), budgets line...
        local name=$1 status=$2 pattern=$3 got output
        shift 3
        printf '%s\n' "# a comment" "" "$@" >"$work/budgets"
        set +e
        output=$(check "$work/figures" "$work/budgets")
        got=$?
        set -e
        if [ "$got" -eq "$status" ] && grep -qx -- "$pattern" <<<"$output"; then
            echo "test budgets_$name ... ok"
            passed=$((passed + 1))
        else
            echo "test budgets_$name ... FAILED (status $got, expected $status; output:)"
            sed 's/^/    /' <<<"$output"
            failed=$((failed + 1))
        fi
    }
    expect at_limit_is_ok 0 "budget ok: board-a figure stack_greedy_bytes = 2048 <= limit 2048" \
        "enforced stack_greedy_bytes board-a <= 2048"
    expect over_an_enforced_limit_fails 1 "budget FAILED: board-b figure stack_greedy_bytes = 2049 > limit 2048" \
        "enforced stack_greedy_bytes * <= 2048"
    expect over_a_pending_limit_is_reported_and_passes 0 \
        "budget pending: board-b figure stack_greedy_bytes = 2049 > limit 2048" \
        "pending stack_greedy_bytes * <= 2048"
    PICOFORMER_BUDGETS=enforce expect enforce_switch_fails_pending_budgets 1 \
        "budget FAILED: board-b figure stack_greedy_bytes = 2049 > limit 2048" \
        "pending stack_greedy_bytes * <= 2048"
    expect fraction_over_limit_fails 1 "budget FAILED: board-a figure matvec_i8_instr_per_mac = 1.401 > limit 1.4" \
        "enforced matvec_i8_instr_per_mac board-a <= 1.4"
    expect missing_figure_of_a_named_board_fails 1 \
        "budget FAILED: board-b figure matvec_i8_instr_per_mac missing (limit 1.4)" \
        "enforced matvec_i8_instr_per_mac board-a,board-b <= 1.4"
    expect figure_below_another_figure_is_ok 0 \
        "budget ok: board-a figure token_cycles_i8 = 900 < limit token_cycles_f32 = 1000" \
        "enforced token_cycles_i8 board-a < token_cycles_f32"
    expect figure_equal_to_a_strict_limit_fails 1 \
        "budget FAILED: board-b figure token_cycles_i8 = 1000 >= limit token_cycles_f32 = 1000" \
        "enforced token_cycles_i8 board-a,board-b < token_cycles_f32"
    expect unmeasured_figure_is_reported 0 \
        "budget not measured in this run: engine_text_greedy_bytes <= 16384 (board-a)" \
        "enforced engine_text_greedy_bytes board-a <= 16384"
    expect malformed_line_fails 1 "budget FAILED: .*malformed budget line: enforced stack_greedy_bytes \\* =< 2048" \
        "enforced stack_greedy_bytes * =< 2048"
    # figures: the [512, 512], [64, 256] and [256, 256] int8 regions found by their shape lines,
    # the checksum's region by its line (per KiB, rounded), stacks from the suite
    printf '%s\n' "figure stack_greedy_bytes 2000" "figure stack_beam_bytes 2100" \
        "figure matvec_i8_shape 6 64 256" "figure matvec_i8_shape 8 256 256" \
        "figure matvec_i8_shape 9 512 512" \
        "picoformer-icount region 6 instructions 24576 cycles 32768" \
        "picoformer-icount region 8 instructions 91750 cycles 131072" \
        "picoformer-icount region 9 instructions 367002 cycles 524288" \
        "figure crc_region 10 2048" "picoformer-icount region 10 instructions 30001 cycles 40000" >"$work/log"
    if [ "$(figures board-a "$work/log")" = "$(printf '%s\n' "figure stack_greedy_bytes 2000" \
        "figure stack_beam_bytes 2100" "figure crc_instr_per_kib 15000" \
        "figure crc_cycles_per_kib 20000" "figure matvec_i8_instr_per_mac 1.4000" \
        "figure matvec_i8_cycles_per_mac 2.0000" "figure matvec_i8_64x256_instr_per_mac 1.5000" \
        "figure matvec_i8_64x256_cycles_per_mac 2.0000" \
        "figure matvec_i8_256x256_instr_per_mac 1.4000" \
        "figure matvec_i8_256x256_cycles_per_mac 2.0000")" ]; then
        echo "test budgets_figures_from_a_suite_log ... ok"
        passed=$((passed + 1))
    else
        echo "test budgets_figures_from_a_suite_log ... FAILED"
        figures board-a "$work/log" | sed 's/^/    /'
        failed=$((failed + 1))
    fi
    # the budgets of the repository parse
    set +e
    check "$work/figures" >"$work/repo-output"
    set -e
    if grep -q "malformed" "$work/repo-output"; then
        echo "test budgets_file_parses ... FAILED"
        sed 's/^/    /' "$work/repo-output"
        failed=$((failed + 1))
    else
        echo "test budgets_file_parses ... ok"
        passed=$((passed + 1))
    fi
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

case ${1:-} in
    figures) shift && figures "$@" ;;
    check) shift && check "$@" ;;
    self-test) self_test ;;
    *) echo "usage: $0 figures BOARD LOG [PROBE_DIR] | check FIGURES [BUDGETS] | self-test" >&2 && exit 2 ;;
esac
