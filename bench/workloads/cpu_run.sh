#!/bin/sh
# bench/workloads/cpu_run.sh: runs one CPU-bound workload of bench/guestcpu.sh
# with Debian's i386 programs, in the guest (busybox sh) or natively.
#
#   cpu_run.sh DIR run WORKLOAD [SCALE]    the timed part; prints
#                                          "WORKLOAD-time guest_s=S" (from /proc/uptime)
#   cpu_run.sh DIR check WORKLOAD          prints the result line:
#     xz      "xz in=BYTES out=BYTES sha256=HEX"  (of the compressed stream)
#     gzip    "gzip in=BYTES out=BYTES sha256=HEX"
#     openssl "openssl sha256=B/S aes-128-cbc=B/S digest=HEX" (bytes per
#             second of guest time; the digest is openssl dgst of the xz input)
#     lua     "lua rounds=N sum=N"
#
# DIR holds root/ (the staged Debian packages, scripts/build-bench-guest.sh),
# xz.in and gzip.in (bench/workloads/cpu_input.lua) and cpu_bench.lua.
# SCALE is 1 (full) or 10 (BENCH_QUICK: 10x less work). The programs run
# through the staged i386 dynamic loader with the staged libraries, so the
# same binaries run in the guest and on any x86 host (no chroot).
#
# Same code everywhere: fox86's virtual CPU is a Pentium Pro (no MMX/SSE),
# so OpenSSL's and glibc's CPU dispatch are told to use their plain i386
# paths on QEMU and the host too (OPENSSL_ia32cap clears every feature bit
# above the P6 ones; GLIBC_TUNABLES drops the SSE string functions).
# Outputs go to $TMPDIR (default /tmp).
dir=${1:?usage: cpu_run.sh DIR run|check WORKLOAD [SCALE]}
mode=${2:?} workload=${3:?} scale=${4:-1}
root=$dir/root
tmp=${TMPDIR:-/tmp}
export OPENSSL_CONF=$root/usr/lib/ssl/openssl.cnf
export OPENSSL_ia32cap="~0xFFFFFFFF07800000:~0xFFFFFFFFFFFFFFFF"
export GLIBC_TUNABLES=glibc.cpu.hwcaps=-SSE2,-SSSE3,-SSE4_1,-SSE4_2,-AVX,-AVX2,-AVX512F,-ERMS,-FSRM
i386() { "$root/lib/ld-linux.so.2" --library-path "$root/lib/i386-linux-gnu:$root/usr/lib/i386-linux-gnu" "$@"; }
uptime_s() { read -r up _ </proc/uptime; echo "$up"; }
size() { wc -c <"$1" | tr -d ' '; }
sha256() { i386 "$root/usr/bin/openssl" dgst -sha256 -r "$1" | cut -d' ' -f1; }

openssl_seconds=$((5 / scale)); [ "$openssl_seconds" -ge 1 ] || openssl_seconds=1
lua_rounds=$((50 / scale))

case $mode in
run)
    t0=$(uptime_s)
    case $workload in
        # -9 with a 4 MiB dictionary: -9's own 64 MiB needs 674 MiB of RAM
        # (more than the guest's 256), and the input is smaller than 4 MiB,
        # so the match finder sees the same data
        xz) i386 "$root/usr/bin/xz" -9 --lzma2=preset=9,dict=4MiB -c <"$dir/xz.in" >"$tmp/xz.out" ;;
        gzip) i386 "$root/bin/gzip" -9 -n -c <"$dir/gzip.in" >"$tmp/gzip.out" ;;
        openssl) i386 "$root/usr/bin/openssl" speed -elapsed -mr -seconds "$openssl_seconds" -bytes 8192 \
                     sha256 aes-128-cbc >"$tmp/openssl.out" 2>&1 ;;
        lua) i386 "$root/usr/bin/lua5.4" "$dir/cpu_bench.lua" "$lua_rounds" >"$tmp/lua.out" ;;
        *) echo "cpu_run.sh: unknown workload $workload" >&2; exit 2 ;;
    esac
    rc=$?
    t1=$(uptime_s)
    echo "$workload-time guest_s=$(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }')"
    exit $rc ;;
check)
    case $workload in
        xz|gzip) echo "$workload in=$(size "$dir/$workload.in") out=$(size "$tmp/$workload.out") sha256=$(sha256 "$tmp/$workload.out")" ;;
        # +F:INDEX:ALGORITHM:BYTES_PER_SECOND lines of -mr output
        openssl) echo "openssl $(awk -F: '/^\+F:/ { printf "%s=%.0f ", $3, $4 }' "$tmp/openssl.out")digest=$(sha256 "$dir/xz.in")" ;;
        lua) cat "$tmp/lua.out" ;;
    esac ;;
*) echo "cpu_run.sh: mode is run or check" >&2; exit 2 ;;
esac
