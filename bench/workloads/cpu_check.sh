#!/bin/sh
# bench/workloads/cpu_check.sh: smoke test of bench/guestcpu.sh's workloads,
# run natively (ctest bench_guestcpu_native). No timing, no downloads.
#
#   cpu_check.sh SRC_DIR        (SRC_DIR: the repository)
#
# Uses the programs scripts/build-bench-guest.sh staged in
# ${FOX86_CACHE:-~/.cache/fox86}/bench/root; runs every workload of
# cpu_run.sh at 1/50 size on a 64 KiB input and checks the answers: xz and
# gzip output decompresses to the input, openssl's digest is the host's
# sha256sum, the Lua sum is the known one. Exit 0 all good, 1 a failure,
# 77 skipped (packages not staged, or the host cannot run i386 programs).
set -u
src=${1:?usage: cpu_check.sh SRC_DIR}
staged=${FOX86_CACHE:-$HOME/.cache/fox86}/bench/root
[ -x "$staged/usr/bin/xz" ] || { echo "SKIP: $staged not staged (scripts/build-bench-guest.sh)"; exit 77; }
i386() { "$staged/lib/ld-linux.so.2" --library-path "$staged/lib/i386-linux-gnu:$staged/usr/lib/i386-linux-gnu" "$@"; }
i386 "$staged/usr/bin/lua5.4" -v >/dev/null 2>&1 || { echo "SKIP: this host cannot run i386 programs"; exit 77; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/fox86-cpucheck.XXXXXX")
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/tmp"
ln -s "$staged" "$dir/root"
cp "$src/bench/workloads/cpu_run.sh" "$src/bench/workloads/cpu_bench.lua" "$dir/"
(cd "$staged" && i386 usr/bin/lua5.4 "$src/bench/workloads/cpu_input.lua" 64 usr/bin/xz) >"$dir/gzip.in" || exit 1
cp "$dir/gzip.in" "$dir/xz.in"
[ "$(wc -c <"$dir/xz.in")" -eq 65536 ] || { echo "FAIL: the input is not 64 KiB"; exit 1; }

failed=0
for w in xz gzip openssl lua; do
    out=$(cd "$dir" && TMPDIR=$dir/tmp sh ./cpu_run.sh "$dir" run "$w" 50 2>&1 &&
          TMPDIR=$dir/tmp sh ./cpu_run.sh "$dir" check "$w" 2>&1)
    rc=$?
    line=$(printf '%s\n' "$out" | grep -E "^$w " | head -1)
    good=0
    if [ "$rc" -eq 0 ] && [ -n "$line" ]; then
        case $w in
            xz) i386 "$staged/usr/bin/xz" -dc "$dir/tmp/xz.out" | cmp -s - "$dir/xz.in" && good=1 ;;
            gzip) i386 "$staged/bin/gzip" -dc "$dir/tmp/gzip.out" | cmp -s - "$dir/gzip.in" && good=1 ;;
            openssl) echo "$line" | grep -qE "sha256=[0-9]+ aes-128-cbc=[0-9]+ digest=$(sha256sum "$dir/xz.in" | cut -d' ' -f1)\$" && good=1 ;;
            lua) [ "$line" = "lua rounds=1 sum=24312" ] && good=1 ;;
        esac
    fi
    if [ "$good" = 1 ]; then echo "PASS: $w: $line"; else echo "FAIL: $w: status $rc: $out"; failed=1; fi
done
exit "$failed"
