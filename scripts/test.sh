#!/usr/bin/env bash
# The README's test command: installs what is missing, builds with -Werror
# and runs every test through CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
FOX86_WERROR=ON scripts/build.sh "${1:-Release}"
scripts/build-guest.sh          # the default Linux guest, for the boot tests (cached)
cd "${FOX86_BUILD_DIR:-build}"
ctest --output-on-failure -j "$(nproc)" --timeout 900
