#!/bin/sh
# Idempotent setup for tools/reference/make_golden.py (Debian 12 / bookworm).
#   torch 1.13 + numpy from Debian (python3-torch, python3-numpy), used via /usr/bin/python3;
#   safetensors from PyPI into a venv that sees the system site-packages.
# Usage (from anywhere): sh tools/reference/setup.sh
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VENV="$ROOT/target/refenv"

if ! /usr/bin/python3 -c 'import torch, numpy' 2>/dev/null; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update
    $SUDO apt-get install -y python3-torch python3-numpy python3-venv
fi
if [ ! -x "$VENV/bin/python" ]; then
    /usr/bin/python3 -m venv --system-site-packages "$VENV"
fi
if ! "$VENV/bin/python" -c 'import safetensors.numpy' 2>/dev/null; then
    "$VENV/bin/pip" install safetensors
fi
"$VENV/bin/python" -c 'import torch, numpy, safetensors; print("torch", torch.__version__, "numpy", numpy.__version__, "safetensors", safetensors.__version__)'
echo "ready: $VENV/bin/python tools/reference/make_golden.py"
