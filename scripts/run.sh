#!/usr/bin/env bash
# The README's run command: installs what is missing, builds, and boots the
# default guest. Extra arguments go to fox86.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh Release
exec build/frontends/fox86 -kernel build/tests/baremetal/demo.elf -nographic "$@"
