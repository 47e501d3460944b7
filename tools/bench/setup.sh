#!/bin/sh
# Idempotent setup for tools/bench/host_peers.py: the runtimes users install from the
# Python package index, in their own venv (target/benchenv), apart from tools/reference's
# Debian torch.
#   torch        the package index's default Linux wheel (`pip install torch`): the CUDA
#                build, whose CPU kernels are the CPU wheel's (oneDNN/MKL, fbgemm for int8).
#                It drags ~2.4 GB of nvidia-* CUDA wheels that a CPU benchmark never uses
#                but `import torch` preloads (installed without them, it fails); the venv
#                ends up ~6 GB. Set BENCH_TORCH_INDEX=https://download.pytorch.org/whl/cpu
#                for the CPU-only wheel where that index is reachable (it was not from the
#                machine the figures of docs/host.md come from).
#   onnxruntime, onnx (+ onnxscript for torch's exporter), ctranslate2, safetensors, numpy.
# Usage (from anywhere): sh tools/bench/setup.sh
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VENV="$ROOT/target/benchenv"
PY=${PYTHON:-python3}

if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
PIP="$VENV/bin/pip"
if ! "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
    if [ -n "${BENCH_TORCH_INDEX:-}" ]; then
        "$PIP" install --index-url "$BENCH_TORCH_INDEX" torch
    else
        "$PIP" install --no-cache-dir torch
    fi
fi
"$PIP" install numpy safetensors onnx onnxruntime ctranslate2 onnxscript
"$VENV/bin/python" - <<'PY'
import ctranslate2, onnx, onnxruntime, torch
print("torch", torch.__version__, "onnxruntime", onnxruntime.__version__, "onnx",
      onnx.__version__, "ctranslate2", ctranslate2.__version__)
PY
du -sh "$VENV"
echo "ready: $VENV/bin/python tools/bench/host_peers.py"
