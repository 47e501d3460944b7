#!/usr/bin/env bash
# The blob checksum's speed on this host (issue 18), for docs/blob.md: CRC-32C over 64 MiB
# with the scalar 16-entry table (what firmware runs) and with the kernel the dispatch
# picks here (kernels/examples/crc32c_speed.rs: x86_64 SSE4.2 `crc32`, aarch64
# `CRC32CX`), fastest of several runs each.
#
#   host-crc.sh [--write DOC]   builds and runs the example, prints the docs section
#                               (`--write`: replaces it in DOC, docs/blob.md, through
#                               tools/firmware-doc.sh)
#   host-crc.sh check DOC       cheap (nothing is built or run): DOC's section is exactly
#                               what this script prints for the figures it states (the
#                               speed-up, the wording), so a hand edit fails
set -euo pipefail
cd "$(dirname "$0")/.."

section() { # cpu, kernel, scalar MB/s, kernel MB/s
    local cpu=$1 kernel=$2 scalar=$3 fast=$4
    echo "<!-- host-crc:speed -->"
    echo "Measured by \`tools/host-crc.sh --write docs/blob.md\` (kernels/examples/crc32c_speed.rs):"
    echo "CRC-32C over 64 MiB, fastest of 5 (table) and 20 (kernel) runs, on a machine"
    echo "shared with other work (which lowers the figures; the fastest run is the least hit):"
    echo
    echo "| CPU | implementation | MB/s | speed-up |"
    echo "|---|---|---|---|"
    echo "| $cpu | scalar 16-entry table | $scalar | 1.0 |"
    echo "| $cpu | \`$kernel\` | $fast | $(awk -v a="$fast" -v b="$scalar" 'BEGIN { printf "%.1f", a / b }') |"
    echo "<!-- /host-crc:speed -->"
}

measure() {
    local out cpu
    out=$(cargo run -q --release -p picoformer-kernels --example crc32c_speed)
    cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo | tr -s ' ' | tr '|' '/')
    section "${cpu:-$(uname -m)}" \
        "$(awk '$1 == "kernel" { print $2 }' <<<"$out")" \
        "$(awk '$2 == "crc32c_scalar_mb_s" { print $3 }' <<<"$out")" \
        "$(awk '$2 == "crc32c_kernel_mb_s" { print $3 }' <<<"$out")"
}

check() { # doc
    local got rows want
    got=$(awk '/^<!-- host-crc:speed -->$/ { on = 1 } on { print } /^<!-- \/host-crc:speed -->$/ { on = 0 }' "$1")
    rows=$(grep '^| ' <<<"$got" | tail -n 2 || true)
    if [ "$(wc -l <<<"$rows")" != 2 ]; then
        echo "host-crc: $1 has no CRC speed section: run bash tools/host-crc.sh --write $1" >&2
        return 1
    fi
    want=$(section "$(awk -F' [|] ' 'NR == 1 { print substr($1, 3) }' <<<"$rows")" \
        "$(awk -F' [|] ' 'NR == 2 { gsub("`", "", $2); print $2 }' <<<"$rows")" \
        "$(awk -F' [|] ' 'NR == 1 { print $3 }' <<<"$rows")" \
        "$(awk -F' [|] ' 'NR == 2 { print $3 }' <<<"$rows")")
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
