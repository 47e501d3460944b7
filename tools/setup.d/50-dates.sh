#!/usr/bin/env bash
# The date model's extras: headless Chromium (Debian's package), which the attention
# heatmap test renders its SVG with. Idempotent. The firmware that runs the model on QEMU
# needs only what tools/setup.d/20-firmware.sh installs. Training it (not part of setup or
# CI) needs tools/reference/setup.sh.
set -euo pipefail
source "$(dirname "$0")/../setup-step.sh"
setup_part dates
if ! command -v chromium >/dev/null; then
    install_chromium() {
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            -o DPkg::Lock::Timeout=600 chromium fonts-dejavu-core ||
            { apt-get update -qq -o DPkg::Lock::Timeout=600 &&
              DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
                -o DPkg::Lock::Timeout=600 chromium fonts-dejavu-core; }
    }
    step "installing chromium (renders the attention heatmap in a test)" install_chromium
fi
chromium --version >/dev/null 2>&1
