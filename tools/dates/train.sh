#!/usr/bin/env bash
# Trains the date model from scratch and writes what is committed under models/dates/:
# weights.safetensors, dates.pfm (converted from it by `picoformer convert --from torch`;
# after a blob format change, run only that conversion again), config.json, tokenizer.json,
# heldout.tsv and train_log.txt. Deterministic: the same torch build gives the same bytes.
# Needs torch (tools/reference/setup.sh); not part of CI. Extra arguments go to train.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
python=${PYTHON:-target/refenv/bin/python}
[ -x "$python" ] || sh tools/reference/setup.sh
work=target/dates
"$python" tools/dates/train.py --out "$work" "$@"
mkdir -p models/dates
cargo run -q --release --bin picoformer -- convert --from torch \
    --config "$work/config.json" "$work/weights.safetensors" -o models/dates/dates.pfm
cp "$work/weights.safetensors" "$work/config.json" "$work/tokenizer.json" "$work/heldout.tsv" "$work/train_log.txt" models/dates/
cargo run -q --release --bin picoformer -- info models/dates/dates.pfm | tail -6
"$python" tools/dates/attention_reference.py --weights "$work/weights.safetensors" \
    --config "$work/config.json" --out models/dates/attention_reference.json
