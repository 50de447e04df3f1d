#!/usr/bin/env bash
# Configures and builds fox86 into build/ (or $FOX86_BUILD_DIR).
#   scripts/build.sh [Release|Debug|Sanitize]
set -euo pipefail
cd "$(dirname "$0")/.."
type=${1:-Release}
dir=${FOX86_BUILD_DIR:-build}
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
cmake -S . -B "$dir" "${gen[@]}" -DCMAKE_BUILD_TYPE="$type" -DFOX86_WERROR="${FOX86_WERROR:-OFF}" >/dev/null
cmake --build "$dir" -j "$(nproc)"
