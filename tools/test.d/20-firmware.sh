#!/usr/bin/env bash
# Firmware under QEMU: lints the firmware crates, builds every board's suite once (release,
# one cargo call per target), runs each suite on its QEMU machine, and checks that a
# HardFault and a panic end QEMU with their exit statuses. Each suite runs under
# tools/qemu-icount with its core's timing model and is followed by its board's budget
# figures (tools/firmware-budgets.sh figures), checked at the end against
# tools/firmware-budgets.txt: an enforced budget not met fails the run ("budget FAILED"),
# a pending one is reported ("budget pending"). Each suite prints its own
# "N passed, N failed" line, which tools/test.sh sums; a suite that dies before its
# summary counts as one failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
out=$root/target/firmware

# rv32 with the vector extension: riscv32imafc (hardware single precision) built with
# -C target-feature=+zve32f (the embedded vector profile the RVV kernels need), which turns
# them on (kernels/build.rs) and the vector unit's start-up (targets/riscv/build.rs); run
# on `-cpu rv32,v=true,vlen=128` (targets/riscv/qemu-run.sh, by the binary's name).
# rustc warns once per crate that zve32f is not a stable `-C target-feature` (stable Rust
# marks no RISC-V vector feature stable); the code it builds is what the flag asks for.
rvv_target=riscv32imafc-unknown-none-elf
rvv_flags=(env CARGO_TARGET_RISCV32IMAFC_UNKNOWN_NONE_ELF_RUSTFLAGS="-C target-feature=+zve32f")
rvv_out=$root/target/firmware-rvv

for crate in targets/board targets/firmware-suite targets/cortex-m targets/riscv; do
    (cd "$crate" && cargo fmt --check)
done
(cd targets/cortex-m && cargo clippy -q --release --target thumbv7em-none-eabihf \
    -p picoformer-firmware-suite -p picoformer-board -p picoformer-firmware-cortex-m --bins -- -D warnings)
(cd targets/riscv && cargo clippy -q --release -p picoformer-board -p picoformer-firmware-riscv --bins -- -D warnings)
# the size probes, each with its own features (`--bins` above skips them)
for probe in size-greedy size-engine; do
    (cd targets/cortex-m && cargo clippy -q --release --target thumbv7em-none-eabihf \
        --no-default-features --features "$probe" --bin "$probe" -- -D warnings)
    (cd targets/riscv && cargo clippy -q --release --no-default-features --features "$probe" \
        --bin "$probe" -- -D warnings)
done
(cd targets/riscv && "${rvv_flags[@]}" cargo clippy -q --release --target "$rvv_target" \
    --target-dir "$rvv_out" -p picoformer-firmware-riscv --bins -- -D warnings)
# the RVV kernels as rv32 firmware compiles them (the host workspace lints x86_64 only)
"${rvv_flags[@]}" cargo clippy -q -p picoformer-kernels --target "$rvv_target" -- -D warnings

# target: the boards it runs (each also builds the code-size probes for the report)
declare -A boards=(
    [thumbv6m-none-eabi]="mps2-an385"
    [thumbv7em-none-eabihf]="mps2-an386 mps2-an500"
)
# Cortex-M55 (Helium): the same target built with -C target-cpu=cortex-m55, which turns
# on the MVE kernels (kernels/build.rs), in a target directory of its own.
m55_flags=(env CARGO_TARGET_THUMBV8M_MAIN_NONE_EABIHF_RUSTFLAGS="-C target-cpu=cortex-m55")
m55_out=$root/target/firmware-m55
# Cortex-M33 (mps2-an505): the same target built with -C target-cpu=cortex-m33, which turns
# on the DSP extension's SMLAD int8 kernel (kernels/build.rs), in a target directory of its
# own; the thumbv8m.main code-size probes are built there too.
m33_flags=(env CARGO_TARGET_THUMBV8M_MAIN_NONE_EABIHF_RUSTFLAGS="-C target-cpu=cortex-m33")
m33_out=$root/target/firmware-m33
# the size probes: each alone, with only its configuration's engine features
probes=(size-greedy size-engine)
build_probes() { # crate, cargo arguments...
    local crate=$1 probe
    shift
    for probe in "${probes[@]}"; do
        (cd "targets/$crate" && cargo build -q --release "$@" --no-default-features \
            --features "$probe" --bin "$probe")
    done
}
for target in thumbv6m-none-eabi thumbv7em-none-eabihf; do
    bins=(--bin size-runtime)
    for bin in ${boards[$target]}; do bins+=(--bin "$bin"); done
    [ "$target" = thumbv7em-none-eabihf ] && bins+=(--bin check-hardfault --bin check-panic --bin check-cycles)
    (cd targets/cortex-m && cargo build -q --release --target "$target" "${bins[@]}")
    build_probes cortex-m --target "$target"
done
(cd targets/cortex-m && "${m33_flags[@]}" cargo build -q --release \
    --target thumbv8m.main-none-eabihf --target-dir "$m33_out" --bin mps2-an505 --bin size-runtime)
(export CARGO_TARGET_THUMBV8M_MAIN_NONE_EABIHF_RUSTFLAGS="-C target-cpu=cortex-m33"
    build_probes cortex-m --target thumbv8m.main-none-eabihf --target-dir "$m33_out")
(cd targets/cortex-m && "${m55_flags[@]}" cargo build -q --release \
    --target thumbv8m.main-none-eabihf --target-dir "$m55_out" --bin mps3-an547)
(cd targets/riscv && cargo build -q --release --bin virt --bin size-runtime --bin check-cycles)
build_probes riscv
(cd targets/riscv && "${rvv_flags[@]}" cargo build -q --release --target "$rvv_target" \
    --target-dir "$rvv_out" --bin virt-rvv)

plugin=$(bash tools/qemu-icount/build.sh)
nm_bin="$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin/llvm-nm"
figures=$out/budget-figures.txt
: >"$figures"
failed_boards=()
run_suite() { # runner, elf, board, cycle model (tools/qemu-icount core=), [probe directory]
    local log status start stop
    log=$(mktemp)
    start=$("$nm_bin" -C "$2" | awk '/figures::icount_start/ { print "0x" $1 }')
    stop=$("$nm_bin" -C "$2" | awk '/figures::icount_stop/ { print "0x" $1 }')
    set +e
    QEMU_EXTRA="-plugin $plugin,start=$start,stop=$stop,core=$4 -d plugin -D $log.icount" \
        bash "$1" "$2" | tee "$log"
    status=${PIPESTATUS[0]}
    set -e
    if [ "$status" -ne 0 ]; then
        failed_boards+=("$3")
        # no summary line means the suite died before it: count the board as a failure
        grep -qE '^[0-9]+ passed, [0-9]+ failed' "$log" || echo "0 passed, 1 failed"
    fi
    cat "$log.icount" >>"$log" 2>/dev/null || true
    # the suite prints the stack figures itself: only the computed ones are echoed
    bash tools/firmware-budgets.sh figures "$3" "$log" "${5:-}" >"$log.figures"
    grep -v '^figure stack_' "$log.figures" || true
    sed "s/^/$3 /" "$log.figures" >>"$figures"
    rm -f "$log" "$log.icount" "$log.figures"
}
declare -A cores=([mps2-an385]=cortex-m3 [mps2-an386]=cortex-m4 [mps2-an500]=cortex-m7)
for target in thumbv6m-none-eabi thumbv7em-none-eabihf; do
    for board in ${boards[$target]}; do
        echo "== $board ($target)"
        run_suite targets/cortex-m/qemu-run.sh "$out/$target/release/$board" "$board" \
            "${cores[$board]}" "$out/$target/release"
    done
done
echo "== mps2-an505 (thumbv8m.main-none-eabihf, -C target-cpu=cortex-m33)"
run_suite targets/cortex-m/qemu-run.sh "$m33_out/thumbv8m.main-none-eabihf/release/mps2-an505" mps2-an505 \
    cortex-m33 "$m33_out/thumbv8m.main-none-eabihf/release"
echo "== mps3-an547 (thumbv8m.main-none-eabihf, -C target-cpu=cortex-m55)"
run_suite targets/cortex-m/qemu-run.sh "$m55_out/thumbv8m.main-none-eabihf/release/mps3-an547" mps3-an547 cortex-m55
echo "== virt (riscv32imac-unknown-none-elf)"
run_suite targets/riscv/qemu-run.sh "$out/riscv32imac-unknown-none-elf/release/virt" virt rv32 \
    "$out/riscv32imac-unknown-none-elf/release"
echo "== virt-rvv (riscv32imafc-unknown-none-elf, -C target-feature=+zve32f; -cpu rv32,v=true,vlen=128)"
run_suite targets/riscv/qemu-run.sh "$rvv_out/$rvv_target/release/virt-rvv" virt-rvv rv32

# The failure paths of the glue: each must end QEMU with its own status (by name: the
# values come from targets/board's ExitStatus).
source tools/firmware-exit-status.sh
exit_checks=0
check_exit() { # bin, expected status
    local status
    set +e
    QEMU_MACHINE=mps2-an386 bash targets/cortex-m/qemu-run.sh \
        "$out/thumbv7em-none-eabihf/release/$1" >/dev/null 2>&1
    status=$?
    set -e
    if [ "$status" -eq "$2" ]; then
        echo "test $1 exits with $2 ... ok"
    else
        echo "test $1 exits with $2 ... FAILED (status $status)"
        failed_boards+=("$1")
        exit_checks=$((exit_checks + 1))
    fi
}
check_exit check-hardfault "$(exit_status Fault)"
check_exit check-panic "$(exit_status Panic)"

# The instruction-count plugin (tools/firmware-report.sh) builds and reports the suite's
# ten marked regions, instructions and estimated cycles identically on a second run.
elf=$out/thumbv7em-none-eabihf/release/mps2-an386
marker() { "$nm_bin" -C "$elf" |
    awk -v name="figures::icount_$1" 'index($0, name) { print "0x" $1 }'; }
counts=()
for run in 1 2; do
    QEMU_EXTRA="-plugin $plugin,start=$(marker start),stop=$(marker stop),core=cortex-m4 -d plugin -D $out/icount-$run.log" \
        bash targets/cortex-m/qemu-run.sh "$elf" >/dev/null
    counts+=("$(grep -c '^picoformer-icount region' "$out/icount-$run.log")")
done
if [ "${counts[0]}" -eq 10 ] && cmp -s "$out/icount-1.log" "$out/icount-2.log"; then
    echo "test icount_plugin_counts_regions_repeatably ... ok"
else
    echo "test icount_plugin_counts_regions_repeatably ... FAILED (${counts[*]} regions)"
    failed_boards+=(icount-plugin)
    exit_checks=$((exit_checks + 1))
fi

# The cycle models (docs/cycles.md) on the hand-counted sequences of check-cycles.rs:
# Cortex-M 20 instructions, 43 cycles on the Cortex-M4 table, 27 with the Cortex-M7's dual
# issue; RV32 13 instructions, 52 cycles.
for expected in "cortex-m cortex-m4 20 43" "cortex-m cortex-m7 20 27" "riscv rv32 13 52"; do
    read -r crate core instructions cycles <<<"$expected"
    case $crate in
        cortex-m) elf=$out/thumbv7em-none-eabihf/release/check-cycles ;;
        riscv) elf=$out/riscv32imac-unknown-none-elf/release/check-cycles ;;
    esac
    probe() { "$nm_bin" "$elf" | awk -v name="cycle_probe_$1" '$3 == name { print "0x" $1 }'; }
    QEMU_MACHINE=mps2-an386 QEMU_EXTRA="-plugin $plugin,start=$(probe start),stop=$(probe stop),core=$core -d plugin -D $out/cycles-$core.log" \
        bash "targets/$crate/qemu-run.sh" "$elf" >/dev/null
    got=$(awk '$1 == "picoformer-icount" && $2 == "region" { print $5, $7 }' "$out/cycles-$core.log")
    if [ "$got" = "$instructions $cycles" ]; then
        echo "test cycle_model_${core//-/_}_counts_the_hand_counted_sequence ... ok"
    else
        echo "test cycle_model_${core//-/_}_counts_the_hand_counted_sequence ... FAILED (instructions and cycles: $got, expected $instructions $cycles)"
        failed_boards+=("cycles-$core")
        exit_checks=$((exit_checks + 1))
    fi
done

# The larger model (tests/golden/firmware_large) as f32 and int8 on one board per core
# (M4F, M33, M55): its suites and the token cycles the budgets compare. Six more firmware
# builds and runs, ~30 s once the boards are built; they reuse the boards' target
# directories, so this runs after every check of the small model's binaries.
# PICOFORMER_FIRMWARE_LARGE=0 leaves it out.
# docs/firmware.md holds every table the report scripts write, in their current format
# (tools/firmware-doc.sh: nothing is built or run), after the check's own self-test
bash tools/firmware-doc.sh self-test || failed_boards+=(firmware-doc-checker)
if bash tools/firmware-doc.sh check; then
    echo "test firmware_doc_sections_match_the_scripts ... ok"
else
    echo "test firmware_doc_sections_match_the_scripts ... FAILED"
    failed_boards+=(docs/firmware.md)
    exit_checks=$((exit_checks + 1))
fi

# docs/blob.md's checksum cost is the one this run measured on mps2-an386
# (tools/firmware-crc.sh writes it; instruction counts are exact and repeatable).
if bash tools/firmware-crc.sh check "$figures" docs/blob.md; then
    echo "test crc_cost_in_docs_blob_md_is_current ... ok"
else
    echo "test crc_cost_in_docs_blob_md_is_current ... FAILED"
    failed_boards+=(docs/blob.md)
    exit_checks=$((exit_checks + 1))
fi

checks=9
if [ "${PICOFORMER_FIRMWARE_LARGE:-1}" = 1 ]; then
    checks=10
    echo "== firmware_large (tools/firmware-large.sh)"
    if bash tools/firmware-large.sh --figures "$figures"; then
        echo "test firmware_large_suites_pass ... ok"
    else
        echo "test firmware_large_suites_pass ... FAILED"
        failed_boards+=(firmware_large)
        exit_checks=$((exit_checks + 1))
    fi
else
    echo "firmware_large: not run (PICOFORMER_FIRMWARE_LARGE=0)"
fi

# The llama case of stories260K's shape (tests/golden/llama_stories260k: 256 greedy tokens)
# as f32 and int8 on the same three boards and virt-rvv, the same way: eight more builds
# and runs (~1 minute once the boards are built).
# PICOFORMER_FIRMWARE_STORIES260K=0 leaves it out.
if [ "${PICOFORMER_FIRMWARE_STORIES260K:-1}" = 1 ]; then
    checks=$((checks + 1))
    echo "== llama_stories260k (tools/firmware-llama.sh)"
    if bash tools/firmware-llama.sh --figures "$figures"; then
        echo "test firmware_llama_suites_pass ... ok"
    else
        echo "test firmware_llama_suites_pass ... FAILED"
        failed_boards+=(llama_stories260k)
        exit_checks=$((exit_checks + 1))
    fi
else
    echo "llama_stories260k: not run (PICOFORMER_FIRMWARE_STORIES260K=0)"
fi

# Budgets (tools/firmware-budgets.txt): the checker on made-up figures (its own summary
# line), then the figures of this run.
echo "== budgets (tools/firmware-budgets.txt)"
bash tools/firmware-budgets.sh self-test || failed_boards+=(budget-checker)
if bash tools/firmware-budgets.sh check "$figures"; then
    echo "test firmware_budgets_met ... ok"
else
    echo "test firmware_budgets_met ... FAILED (budget FAILED above)"
    failed_boards+=(budgets)
    exit_checks=$((exit_checks + 1))
fi
echo "$((checks - exit_checks)) passed, $exit_checks failed"

if [ "${#failed_boards[@]}" -gt 0 ]; then
    echo "firmware: failed on ${failed_boards[*]}"
    exit 1
fi
