#!/usr/bin/env bash
# The blob checksum's speed on this host (issue 18), for docs/blob.md: CRC-32C over 64 MiB
# with the scalar 16-entry table (what firmware runs) and with the kernel the dispatch
# picks here (kernels/examples/crc32c_speed.rs: x86_64 SSE4.2 `crc32`, aarch64
# `CRC32CX`), fastest of several runs each; and, where tools/setup.d/40-models.sh fetched
# Whisper base (target/models/whisper), the time `picoformer info` takes to load (read,
# verify, validate) its f16 blob with the table (PICOFORMER_KERNEL=scalar: no product
# runs in `info`, so only the checksum differs) and with the kernel, fastest of 5 each.
#
#   host-crc.sh [--write DOC]   builds and runs the example (and the release CLI), prints
#                               the docs section (`--write`: replaces it in DOC,
#                               docs/blob.md, through tools/firmware-doc.sh)
#   host-crc.sh check DOC       cheap (nothing is built or run): DOC's section is exactly
#                               what this script prints for the figures recorded in its
#                               first line, so a hand edit fails
set -euo pipefail
cd "$(dirname "$0")/.."

# The section from its figures: cpu, kernel, scalar MB/s, kernel MB/s, and (or empty)
# blob MB, load seconds with the table, with the kernel.
section() {
    local cpu=$1 kernel=$2 scalar=$3 fast=$4 blob_mb=${5:-} load_table=${6:-} load_kernel=${7:-}
    echo "<!-- host-crc:speed -->"
    echo "<!-- figures|$cpu|$kernel|$scalar|$fast|$blob_mb|$load_table|$load_kernel -->"
    echo "Measured by \`tools/host-crc.sh --write docs/blob.md\` (kernels/examples/crc32c_speed.rs):"
    echo "CRC-32C over 64 MiB, fastest of 5 (table) and 20 (kernel) runs, on a machine"
    echo "shared with other work (which lowers the figures; the fastest run is the least hit):"
    echo
    echo "| CPU | implementation | MB/s | speed-up |"
    echo "|---|---|---|---|"
    echo "| $cpu | scalar 16-entry table | $scalar | 1.0 |"
    echo "| $cpu | \`$kernel\` | $fast | $(awk -v a="$fast" -v b="$scalar" 'BEGIN { printf "%.1f", a / b }') |"
    if [ -n "$blob_mb" ]; then
        echo
        echo "Loading Whisper base (its f16 blob, $blob_mb MB: \`picoformer info\`, which reads,"
        echo "verifies and validates it as \`transcribe\` does, fastest of 5): $load_table s with the"
        echo "table (\`PICOFORMER_KERNEL=scalar\`), $load_kernel s with \`$kernel\`."
    fi
    echo "<!-- /host-crc:speed -->"
}

best_of_5() { # command...: the fastest wall time in seconds
    local best=999 start end
    for _ in 1 2 3 4 5; do
        start=$(date +%s.%N)
        "$@" >/dev/null
        end=$(date +%s.%N)
        best=$(awk -v a="$best" -v b="$start" -v c="$end" 'BEGIN { t = c - b; print (t < a) ? t : a }')
    done
    printf '%.2f' "$best"
}

measure() {
    local out cpu kernel load=() work blob
    out=$(cargo run -q --release -p picoformer-kernels --example crc32c_speed)
    cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo | tr -s ' ' | tr '|' '/')
    kernel=$(awk '$1 == "kernel" { print $2 }' <<<"$out")
    if [ -f target/models/whisper/model.bin ]; then
        cargo build -q --release -p picoformer-cli
        mkdir -p target/tmp
        work=$(mktemp -d target/tmp/host-crc.XXXXXX)
        trap 'rm -rf "$work"' RETURN
        blob=$work/whisper-base.pfm
        target/release/picoformer convert --from ct2-whisper target/models/whisper/model.bin \
            --dtype f16 -o "$blob" >/dev/null 2>&1
        load=("$(($(stat -c %s "$blob") / 1000000))"
            "$(best_of_5 env PICOFORMER_KERNEL=scalar target/release/picoformer info "$blob")"
            "$(best_of_5 env -u PICOFORMER_KERNEL target/release/picoformer info "$blob")")
    else
        echo "host-crc: no target/models/whisper/model.bin: the load time is left out" >&2
    fi
    section "${cpu:-$(uname -m)}" "$kernel" \
        "$(awk '$2 == "crc32c_scalar_mb_s" { print $3 }' <<<"$out")" \
        "$(awk '$2 == "crc32c_kernel_mb_s" { print $3 }' <<<"$out")" "${load[@]}"
}

check() { # doc
    local got figures want
    got=$(awk '/^<!-- host-crc:speed -->$/ { on = 1 } on { print } /^<!-- \/host-crc:speed -->$/ { on = 0 }' "$1")
    figures=$(sed -n 's/^<!-- figures|\(.*\) -->$/\1/p' <<<"$got")
    if [ -z "$figures" ]; then
        echo "host-crc: $1 has no CRC speed section: run bash tools/host-crc.sh --write $1" >&2
        return 1
    fi
    local fields
    IFS='|' read -r -a fields <<<"$figures"
    want=$(section "${fields[@]}")
    if [ "$want" != "$got" ]; then
        echo "host-crc: $1's CRC speed section is not this script's: run bash tools/host-crc.sh --write $1" >&2
        diff <(echo "$got") <(echo "$want") >&2 || true
        return 1
    fi
}

case ${1:-} in
    check) check "$2" ;;
    --write) measure | tee /dev/stderr | bash tools/firmware-doc.sh write "$2" ;;
    "") measure ;;
    *) echo "usage: $0 [--write DOC] | check DOC" >&2 && exit 2 ;;
esac
