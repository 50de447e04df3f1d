#!/bin/sh
# bench/hostmap.sh: the host costs of a host-mapped shadow MMU (one 4 GiB
# reservation per guest address space, filled on SIGSEGV), the design
# docs/mmu.md weighs against the software TLB. Builds bench/hostmap_cost.c
# with the host's cc into a temporary directory and runs it.
# Usage: bench/hostmap.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -Wall -Wextra -o "$tmp/hostmap_cost" "$here/hostmap_cost.c"
"$tmp/hostmap_cost"
