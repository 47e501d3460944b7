#!/usr/bin/env bash
# The documentation's own checks (nothing is built): the README's quickstart figures
# checker on made-up documents (tools/quickstart-figures.sh; .ci/run compares the figures
# with the run it measured), and every relative link of README.md and docs/*.md pointing
# at a file that exists. Prints "N passed, N failed" lines for tools/test.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
status=0
bash tools/quickstart-figures.sh self-test || status=1
# docs/hardening.md's fuzzing table (written by tools/fuzz.sh --write) covers every target.
if bash tools/fuzz.sh --check docs/hardening.md; then echo "1 passed, 0 failed"; else
    echo "0 passed, 1 failed"
    status=1
fi
# docs/blob.md's host CRC speed table is the one tools/host-crc.sh writes for its figures.
if bash tools/host-crc.sh check docs/blob.md; then echo "1 passed, 0 failed"; else
    echo "0 passed, 1 failed"
    status=1
fi

# [text](target) links that are not URLs, anchors stripped, relative to the linking file
broken=$(for file in README.md docs/*.md; do
    grep -o '\]([^)#[:space:]]*[)#]' "$file" | sed -E 's/^\]\((.*).$/\1/' | grep -v '^[a-z]*:' |
        while read -r target; do
            [ -n "$target" ] && [ ! -e "$(dirname "$file")/$target" ] && echo "$file -> $target"
        done
done | sort -u || true)
if [ -z "$broken" ]; then
    echo "test docs_relative_links_resolve ... ok"
    echo "1 passed, 0 failed"
else
    sed 's/^/broken link: /' <<<"$broken"
    echo "test docs_relative_links_resolve ... FAILED"
    echo "0 passed, 1 failed"
    status=1
fi
exit "$status"
