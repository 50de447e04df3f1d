#!/usr/bin/env bash
# bench/profile.sh: where fox86 spends its host time on one guest workload
# of bench/translator.sh. Boots the payload guest once, runs the workload
# under `perf record` (cpu-clock samples of the emulator process only), and
# prints the top host symbols, then the emulator's --stats at exit (which
# cover the whole run, boot included).
#
#   bench/profile.sh [BUILD_DIR] WORKLOAD [--quick] [--accel ACCEL] [--top N] [--jit]
#                    [-- FOX86_ARGS...]
#
# --jit (native backend): fox86 runs with -d perfmap, and the samples in
# translated code are resolved to the guest blocks they ran (the newest
# block at a host address wins: the code cache reuses addresses after a
# flush): the shares of host code, guest user and guest kernel blocks, and
# the top blocks by guest EIP (for their code: -d out_asm with -D FILE).
#
# WORKLOAD: xz gzip openssl lua forkexec pingpong script. --accel defaults to
# tcg (the default engine). The perf data stays in $PROFILE_DATA (default
# $TMPDIR/fox86-profile.PID.data, named at the end) for `perf report -i`. Exit status 77 when the guest, the staged programs
# or perf are missing.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
build=build workload="" quick=0 accel=tcg top=40 jit=0 extra=()
while [ $# -gt 0 ]; do
    case $1 in
        --quick) quick=1 ;;
        --accel) accel=$2; shift ;;
        --top) top=$2; shift ;;
        --jit) jit=1 ;;
        --) shift; extra=("$@"); break ;;
        -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "profile: unknown option $1"; exit 2 ;;
        *) if [ -z "$workload" ] && [ ! -d "$1" ]; then workload=$1; else build=$1; fi ;;
    esac
    shift
done
[ -n "$workload" ] || { echo "profile: which workload?"; exit 2; }
command -v perf >/dev/null || { echo "profile: perf not installed (apt-get install linux-perf)"; exit 77; }
fox86=${FOX86:-$build/frontends/fox86}
top_dir=${FOX86_CACHE:-$HOME/.cache/fox86}
guest=$top_dir/guest staged=$top_dir/bench/root proc_dir=$build/bench/proc
boot_timeout=${BENCH_BOOT_TIMEOUT:-300}
scale=1; [ "$quick" = 1 ] && scale=10
[ -s "$guest/initrd.img" ] || { echo "profile: guest not built: run scripts/build-guest.sh"; exit 77; }

. bench/guest_console.sh
. bench/guest_payload.sh
console_workdir fox86-profile
mkdir -p "$work/cpio"
case $workload in
    xz|gzip|openssl|lua)
        [ -x "$staged/usr/bin/xz" ] || { echo "profile: run scripts/build-bench-guest.sh"; exit 77; }
        payload_cpu "$work/cpio" "$scale" "$staged" || exit 1
        cmd="cd /opt/bench; sh ./cpu_run.sh /opt/bench run $workload $scale" ;;
    forkexec|pingpong|script)
        cmake --build "$build" --target proc_workloads >/dev/null 2>&1 && [ -x "$proc_dir/proc_tiny" ] ||
            { echo "profile: cannot build the proc workloads"; exit 77; }
        payload_proc "$work/cpio" "$proc_dir"
        case $workload in
            forkexec) cmd="cd /bench; ./proc_forkexec $((2000 / scale))" ;;
            pingpong) cmd="cd /bench; ./proc_pingpong $((20000 / scale))" ;;
            script) cmd="cd /bench; sh ./proc_script.sh $((300 / scale))" ;;
        esac ;;
    *) echo "profile: unknown workload $workload"; exit 2 ;;
esac
(cd "$work/cpio" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$work/p.cpio"
initrd_with "$work/initrd.img" "$work/p.cpio"

mkdir -p "$work/run"
[ "$jit" = 1 ] && extra=(-d perfmap "${extra[@]}")
console_boot "$work/run" "$fox86" -accel "$accel" --stats "${extra[@]}" -m 256 -nographic -kernel "$guest/vmlinuz" \
    -initrd "$work/initrd.img" -append "$(cat "$guest/cmdline")" || exit 1
data=${PROFILE_DATA:-${TMPDIR:-/tmp}/fox86-profile.$$.data}
send 'm() { echo "@@$1@@ $2"; }; m R\n'
wait_for '^@@R@@' 60 || { echo "profile: the guest shell does not answer"; exit 1; }
profiled_pid=$emu_pid   # (console_poweroff forgets emu_pid)
perf record -q -e cpu-clock -F 2000 -g -o "$data" -p "$emu_pid" 2>/dev/null &
perf_pid=$!
sleep 0.5
c0=$(emu_cpu)
send '%s; m E $?\n' "$cmd"
wait_for '^@@E@@' 3600 || { echo "profile: the workload did not finish"; kill "$perf_pid"; exit 1; }
c1=$(emu_cpu)
kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null
grep -a '@@E@@' "$log" | grep -q '@@E@@ 0$' || echo "profile: the workload failed:"
cut -d' ' -f2- "$log" | grep -av '^@@' | tail -3
printf 'workload %s on -accel %s: %.2f CPU seconds\n' "$workload" "$accel" "$(calc "$c1 - $c0")"
perf report -i "$data" --no-children --sort symbol --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' |
    grep -E '^ +[0-9]' | head -"$top"
console_poweroff
if [ "$jit" = 1 ]; then
    echo "--- translated code: samples by guest block (-d perfmap) ---"
    if [ -s "/tmp/perf-$profiled_pid.map" ] && command -v python3 >/dev/null; then
        python3 bench/jitblocks.py "$data" "/tmp/perf-$profiled_pid.map" "$top"
    else
        echo "  no /tmp/perf-$profiled_pid.map (not the native backend?) or no python3"
    fi
fi
echo "perf data: $data"
echo "--- fox86 --stats (whole run) ---"
cat "$work/run/stderr"
