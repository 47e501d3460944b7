#!/usr/bin/env bash
# docs/firmware.md's tables are written by the commands that measure them. Each command
# (tools/firmware-report.sh, tools/firmware-dtypes.sh, tools/firmware-large.sh,
# tools/firmware-llama.sh) prints
# its tables between marker lines
#
#   <!-- COMMAND:NAME -->
#   ...
#   <!-- /COMMAND:NAME -->
#
# (COMMAND: the script's name without `.sh`), and `COMMAND.sh --write DOC` pipes its
# output through `firmware-doc.sh write DOC`, which replaces each such section of DOC.
#
#   firmware-doc.sh write DOC       stdin: a command's output; replaces its sections in DOC
#                                   (a section DOC lacks is an error: add its markers first)
#   firmware-doc.sh check [DOC]     cheap (nothing is built or run): every section the
#                                   scripts print exists in DOC (docs/firmware.md), once,
#                                   and holds the table header lines the script prints
#                                   today, so a table written by an older format fails
#   firmware-doc.sh self-test       the writer and the check on made-up documents
set -euo pipefail
cd "$(dirname "$0")/.."
scripts=(tools/firmware-report.sh tools/firmware-dtypes.sh tools/firmware-large.sh tools/firmware-llama.sh)

write() { # doc; stdin: output with sections
    local doc=$1 output
    output=$(mktemp)
    trap 'rm -f "$output"' RETURN
    cat >"$output"
    # the sections of the output, then DOC with each of them swapped in
    awk '
        FNR == NR {
            if (match($0, /^<!-- [a-z0-9-]+:[a-z0-9-]+ -->$/)) { name = $2; order[++n] = name; body[name] = "" ; inside = 1; next }
            if (inside && $0 == "<!-- /" name " -->") { inside = 0; next }
            if (inside) body[name] = body[name] $0 "\n"
            next
        }
        !skipping && match($0, /^<!-- [a-z0-9-]+:[a-z0-9-]+ -->$/) && ($2 in body) {
            print; printf "%s", body[$2]; written[$2] = 1; skipping = $2; next
        }
        skipping && $0 == "<!-- /" skipping " -->" { skipping = ""; print; next }
        skipping { next }
        { print }
        END {
            for (i = 1; i <= n; i++)
                if (!(order[i] in written)) { printf "firmware-doc: %s has no section %s\n", FILENAME, order[i] > "/dev/stderr"; missing = 1 }
            exit missing
        }
    ' "$output" "$doc" >"$doc.new" || { rm -f "$doc.new"; return 1; }
    mv "$doc.new" "$doc"
}

sections() { # script: `NAME<TAB>HEADER` per table header line of each section it prints
    awk '
            match($0, /echo "<!-- [a-z0-9-]+:[a-z0-9-]+ -->"/) {
                split($0, parts, /<!-- | -->/); name = parts[2]; headers = 0; next
            }
            name != "" && match($0, /echo "<!-- \/[a-z0-9-]+:[a-z0-9-]+ -->"/) {
                if (headers == 0) printf "%s\t\n", name
                name = ""; next
            }
            # a header line: an echo of a literal table row that is not the |---| rule
            name != "" && match($0, /^[[:space:]]*echo "\|[^$"]*\|"$/) && $0 !~ /\|---/ {
                line = $0; sub(/^[[:space:]]*echo "/, "", line); sub(/"$/, "", line)
                printf "%s\t%s\n", name, line; headers++
            }' "$1"
}

check() { # doc
    local doc=${1:-docs/firmware.md} failed=0 script name section header
    for script in "${scripts[@]}"; do
        # the sections this script prints, and the literal table header lines inside each
        while IFS=$'\t' read -r name header; do
            section=$(awk -v name="$name" '
                $0 == "<!-- " name " -->" { inside = 1; count++; next }
                $0 == "<!-- /" name " -->" { inside = 0; closed++; next }
                inside { print }
                END { if (count != 1 || closed != 1) print "firmware-doc: bad markers" }' "$doc")
            if [ -z "$section" ] || grep -q '^firmware-doc: bad markers' <<<"$section"; then
                echo "firmware-doc: $doc: section $name (written by $script) missing, empty or marked twice"
                failed=1
            elif [ -n "$header" ] && ! grep -qxF -- "$header" <<<"$section"; then
                echo "firmware-doc: $doc: section $name lacks the header $script prints today: $header"
                failed=1
            fi
        done < <(sections "$script")
    done
    return "$failed"
}

self_test() { # the writer and the check on copies of docs/firmware.md
    local work passed=0 failed=0
    work=$(mktemp -d)
    trap 'rm -rf "$work"' RETURN
    result() { # name, condition status
        if [ "$2" -eq 0 ]; then
            echo "test firmware_doc_$1 ... ok"
            passed=$((passed + 1))
        else
            echo "test firmware_doc_$1 ... FAILED"
            failed=$((failed + 1))
        fi
    }
    printf '%s\n' "intro" "<!-- firmware-large:large -->" "old table" "<!-- /firmware-large:large -->" \
        "outro" >"$work/doc.md"
    printf '%s\n' "progress line" "<!-- firmware-large:large -->" "| new | table |" \
        "<!-- /firmware-large:large -->" "WARNING: outside" | write "$work/doc.md"
    printf '%s\n' "intro" "<!-- firmware-large:large -->" "| new | table |" \
        "<!-- /firmware-large:large -->" "outro" | cmp -s - "$work/doc.md"
    result write_replaces_only_the_section $?
    printf '%s\n' "<!-- firmware-report:size -->" "x" "<!-- /firmware-report:size -->" |
        write "$work/doc.md" 2>/dev/null && status=1 || status=0
    result write_refuses_a_section_the_doc_lacks $status
    # check: a document with every section of the scripts passes; without one, or with a
    # header of another format, it fails
    local script
    for script in "${scripts[@]}"; do
        sections "$script"
    done | awk -F'\t' '{ if ($1 != last) { if (last != "") print "<!-- /" last " -->"; print "<!-- " $1 " -->"; last = $1 }
                           print ($2 == "" ? "text" : $2) }
                         END { print "<!-- /" last " -->" }' >"$work/complete.md"
    check "$work/complete.md" >/dev/null
    result check_passes_a_complete_document $?
    awk '/^<!-- (\/)?firmware-large:large -->$/ { skip = !skip; next } !skip { print }' \
        "$work/complete.md" >"$work/missing.md"
    check "$work/missing.md" >/dev/null && status=1 || status=0
    result check_fails_on_a_missing_section $status
    sed 's/^| board (QEMU) | CPU | weights | model blob | suite |/| board | CPU | weights | model blob | suite |/' \
        "$work/complete.md" >"$work/old-header.md"
    if cmp -s "$work/complete.md" "$work/old-header.md"; then
        result check_fails_on_an_old_table_header 1
    else
        check "$work/old-header.md" >/dev/null && status=1 || status=0
        result check_fails_on_an_old_table_header $status
    fi
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

case ${1:-} in
    write) write "$2" ;;
    check) shift && check "$@" ;;
    self-test) self_test ;;
    *) echo "usage: $0 write DOC < output | check [DOC] | self-test" >&2 && exit 2 ;;
esac
