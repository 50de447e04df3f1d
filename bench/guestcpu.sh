#!/usr/bin/env bash
# bench/guestcpu.sh: CPU-bound programs from Debian's i386 packages inside
# the default Linux guest, on fox86 and on qemu-system-i386 -accel tcg (same
# kernel, initramfs, command line and -m 256), and natively on the host
# (issue 5's baseline for the binary translator).
#
#   scripts/build-bench-guest.sh        (once: fetches and stages the .debs)
#   bench/guestcpu.sh [BUILD_DIR]       (default build; fox86 is BUILD_DIR/frontends/fox86,
#                                        or $FOX86 when set)
#
# The workloads (bench/workloads/cpu_run.sh runs them, the same script in
# the guest and on the host):
#   xz       xz -9 (4 MiB dictionary) of a 2 MiB input
#   gzip     gzip -9 of a 16 MiB input
#   openssl  openssl speed -seconds 5 -bytes 8192 sha256 aes-128-cbc
#            (throughput in bytes per second of guest time)
#   lua      lua5.4 bench/workloads/cpu_bench.lua 50 (sieve, strings, sort,
#            Mandelbrot)
# The inputs are made by bench/workloads/cpu_input.lua (generated text
# alternating with the staged i386 binaries), the same bytes on every run.
# Each workload prints a check (compressed size and SHA-256, the Lua sum,
# an openssl digest): every configuration must print the same as the
# reference (native, else the first configuration that ran it).
#
# The staged root ($FOX86_CACHE/bench/root), the inputs and the scripts go
# to /opt/bench in an uncompressed newc cpio appended to a temporary copy
# of the cached initrd.img (Linux unpacks concatenated archives; no gzip
# so that the kernel does not spend fox86's slow boot inflating 30 MB).
# The guest cache is never written. Each configuration boots once and the
# workloads are typed on the serial console between marker lines, as in
# bench/mmu.sh; a workload's host time runs from its start marker to its
# end marker (the check runs after the end marker). cpu_run.sh also prints
# the guest's own time (/proc/uptime).
#
# Prints two tables, host wall time (openssl: MB/s) and the emulator's host
# CPU time over the same interval (natively the program's; openssl: MB/s per
# CPU second), with the slowdowns fox86/QEMU, fox86/native and QEMU/native
# (time ratios; for openssl the inverse throughput ratios), and the host
# load (uptime) before and after. On a shared machine the CPU table is the
# fairer one.
#
# Environment:
#   BENCH_QUICK=1            ~10x less work (inputs, rounds, seconds)
#   BENCH_CONFIGS="..."      subset of: qemu fox86 native (default: all three)
#   FOX86_ARGS="..."         extra fox86 options (e.g. a later -accel tcg,backend=...)
#   BENCH_BOOT_TIMEOUT       seconds to the guest's ready line (default 300)
#   BENCH_WORKLOAD_TIMEOUT   seconds per workload (default 900)
#   BENCH_KEEP=1             keep the console logs (path printed)
#   FOX86                    the fox86 binary to run
# Exit status: 0 when every workload ran with the right check in every
# configuration, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
src=$PWD
build=${1:-build}
fox86=${FOX86:-$build/frontends/fox86}
top=${FOX86_CACHE:-$HOME/.cache/fox86}
guest=$top/guest
staged=$top/bench/root
qemu=$(command -v qemu-system-i386 || true)
boot_timeout=${BENCH_BOOT_TIMEOUT:-300}
workload_timeout=${BENCH_WORKLOAD_TIMEOUT:-900}
read -r -a fox86_extra <<<"${FOX86_ARGS:-}"
mem_mb=256

for f in vmlinuz initrd.img cmdline; do
    [ -s "$guest/$f" ] || { echo "guestcpu bench: guest not built ($guest/$f missing): run scripts/build-guest.sh"; exit 1; }
done
[ -x "$staged/usr/bin/xz" ] || {
    echo "guestcpu bench: programs not staged ($staged): run scripts/build-bench-guest.sh"; exit 1; }

scale=1
[ "${BENCH_QUICK:-0}" = 1 ] && scale=10
xz_kib=$((2048 / scale)) gzip_kib=$((16384 / scale))
workloads=(xz gzip openssl lua)
# Rows of the table: openssl gives two (throughputs)
rows=(xz gzip sha256 aes-128-cbc lua)
declare -A title=(
    [xz]="xz -9 ${xz_kib} KiB" [gzip]="gzip -9 ${gzip_kib} KiB"
    [sha256]="openssl sha256" [aes-128-cbc]="openssl aes-128-cbc"
    [lua]="lua x$((50 / scale))"
)

# shellcheck source=bench/guest_console.sh
. bench/guest_console.sh   # (the working directory is the repository root)
console_workdir fox86-guestcpu

# --- the payload: /opt/bench in the guest, $work/native on the host -------------
# shellcheck source=bench/guest_payload.sh
. bench/guest_payload.sh
payload=$work/cpio/opt/bench
payload_cpu "$work/cpio" "$scale" "$staged" || { echo "guestcpu bench: payload not made"; exit 1; }
mkdir -p "$work/native/tmp"
ln -s "$payload"/* "$work/native/"

(cd "$work/cpio" && find opt | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$work/bench.cpio" || {
    echo "guestcpu bench: cannot pack the payload (cpio)"; exit 1; }
initrd=$work/initrd-bench.img
initrd_with "$initrd" "$work/bench.cpio"
guest_args=(-m "$mem_mb" -nographic -kernel "$guest/vmlinuz" -initrd "$initrd" -append "$(cat "$guest/cmdline")")

configs=()
for c in ${BENCH_CONFIGS:-qemu fox86 native}; do
    case $c in
        qemu) [ -n "$qemu" ] && configs+=(qemu) || echo "note: qemu-system-i386 not found: no QEMU column" ;;
        fox86) [ -x "$fox86" ] && configs+=(fox86) || echo "note: $fox86 not found: no fox86 column" ;;
        native) configs+=(native) ;;
        *) echo "guestcpu bench: unknown configuration '$c' in BENCH_CONFIGS"; exit 1 ;;
    esac
done
declare -A config_title=([qemu]="QEMU tcg" [fox86]="fox86" [native]="native")

# Results keyed "config,row": value (seconds, or bytes/s for openssl),
# guest seconds; "config,workload": outcome (ok or why not), check line
declare -A value guest_s outcome check cpu_s
failures=0

# record CONFIG WORKLOAD HOST_SECONDS CPU_SECONDS OUTPUT: files one run's
# wall time, the emulator's (or program's) CPU time and the check line
# (OUTPUT holds cpu_run.sh's run and check lines); keeps the best run
record() {
    local config=$1 w=$2 t=$3 cpu=$4 out=$5 line gs
    line=$(echo "$out" | grep -aE "^$w " | head -1)
    gs=$(echo "$out" | grep -aE "^$w-time guest_s=" | head -1 | sed 's/.*guest_s=//')
    if [ -z "$line" ]; then
        outcome[$config,$w]="WRONG (no result line)"; failures=$((failures + 1)); return 1
    fi
    check[$config,$w]=$line
    outcome[$config,$w]=ok
    if [ "$w" = openssl ]; then
        local alg v
        for alg in sha256 aes-128-cbc; do
            v=$(echo "$line" | grep -oE " $alg=[0-9]+" | cut -d= -f2)
            [ -n "$v" ] || { outcome[$config,$w]="WRONG (no $alg figure)"; failures=$((failures + 1)); return 1; }
            if [ -z "${value[$config,$alg]:-}" ] || less_than "${value[$config,$alg]}" "$v"; then
                value[$config,$alg]=$v guest_s[$config,$alg]=$gs
            fi
            # Throughput per CPU second: the run lasts a fixed guest (= host
            # wall) time, so a starved emulator gets less done in it
            v=$(calc "$v * $t / $cpu")
            if [ -z "${cpu_s[$config,$alg]:-}" ] || less_than "${cpu_s[$config,$alg]}" "$v"; then
                cpu_s[$config,$alg]=$v
            fi
        done
    elif [ -z "${value[$config,$w]:-}" ] || less_than "$t" "${value[$config,$w]}"; then
        value[$config,$w]=$t guest_s[$config,$w]=$gs
    fi
    if [ "$w" != openssl ] && { [ -z "${cpu_s[$config,$w]:-}" ] || less_than "$cpu" "${cpu_s[$config,$w]}"; }; then
        cpu_s[$config,$w]=$cpu
    fi
}


# run_workload CONFIG WORKLOAD: types it between markers, waits, records it
run_workload() {
    local config=$1 w=$2 id=$2 rc t out cpu0 cpu1
    # The guest idles at its prompt before the start marker and after the
    # end marker, so the emulator's CPU time between the two samples is the
    # workload's; the check runs after the second sample
    cpu0=$(emu_cpu)
    send 'm S %s; sh ./cpu_run.sh /opt/bench run %s %s; m E %s $?\n' "$id" "$w" "$scale" "$id"
    local done_by=$workload_timeout
    if wait_for "^@@E-$id@@ [0-9]+" "$workload_timeout"; then
        cpu1=$(emu_cpu) done_by=300
        send 'sh ./cpu_run.sh /opt/bench check %s; m C %s\n' "$w" "$id"
    fi
    if ! wait_for "^@@C-$id@@" 1; then
        wait_for "^@@C-$id@@" "$done_by"
    fi
    if ! cut -d' ' -f2- "$log" | grep -aqE "^@@C-$id@@"; then
        alive && outcome[$config,$w]="timeout (${done_by} s)" || outcome[$config,$w]="emulator exited"
        failures=$((failures + 1))
        echo "  $w: ${outcome[$config,$w]}"
        send '\003'; sleep 1; send 'm Y %s\n' "$id"
        wait_for "^@@Y-$id@@" 30 || synced=0
        return 1
    fi
    t=$(calc "$(line_time "@@E-$id@@") - $(line_time "@@S-$id@@")")
    rc=$(grep -aE "^[0-9.]+ @@E-$id@@" "$log" | head -1 | awk '{ print $3 }')
    out=$(cut -d' ' -f2- "$log" | sed -n "/^@@S-$id@@/,/^@@C-$id@@/p")
    printf '  %-8s %8.2f s host  %s\n' "$w" "$t" "$(echo "$out" | grep -aE "^$w(-time)? " | tr '\n' ' ')"
    if [ "$rc" != 0 ]; then
        outcome[$config,$w]="WRONG (status $rc)"; failures=$((failures + 1)); return 1
    fi
    record "$config" "$w" "$t" "$(calc "$cpu1 - $cpu0")" "$out"
}

# run_guest CONFIG EMULATOR_COMMAND...: boots, runs the workloads, powers off
run_guest() {
    local config=$1 w synced=0
    shift
    local dir=$work/$config
    mkdir -p "$dir"
    echo "== ${config_title[$config]}: $*" | sed "s|$work/||g"
    if ! console_boot "$dir" "$@"; then
        for w in "${workloads[@]}"; do outcome[$config,$w]="no boot"; done
        failures=$((failures + 1))
    else
        send 'm() { echo "@@$1-$2@@ $3"; }; cd /opt/bench; m R ready\n'
        wait_for '^@@R-ready@@' 60 && synced=1
        [ "$synced" = 1 ] || echo "  shell: no answer on the console"
        for w in "${workloads[@]}"; do
            if [ "$synced" = 0 ]; then
                outcome[$config,$w]="not run (no shell)"; failures=$((failures + 1)); continue
            fi
            run_workload "$config" "$w"
        done
    fi
    console_poweroff
    if [ "$config" = fox86 ]; then
        sed -n '/^fox86 stats:/,$p' "$dir/stderr" | grep -iE 'instructions executed|speed' | sed 's/^ */  /'
    fi
}

# run_native: the same script and programs on the host, best of 3
run_native() {
    local w t0 t out TIMEFORMAT='%U %S'
    echo "== native: $work/native (i386 programs through the staged ld-linux.so.2)" | sed "s|$work/||g"
    for w in "${workloads[@]}"; do
        for _ in 1 2 3; do
            t0=$(now)
            # bash's time keyword: user and system seconds of the program
            { time (cd "$work/native" && TMPDIR=$work/native/tmp sh ./cpu_run.sh "$work/native" run "$w" "$scale" \
                    >"$work/native/run.out" 2>&1); } 2>"$work/native/cpu"
            local rc=$?
            t=$(calc "$(now) - $t0")
            [ "$rc" = 0 ] || { outcome[native,$w]="WRONG (status $rc)"; failures=$((failures + 1)); break; }
            out=$(cat "$work/native/run.out")$'\n'$(cd "$work/native" &&
                TMPDIR=$work/native/tmp sh ./cpu_run.sh "$work/native" check "$w" 2>&1)
            record native "$w" "$t" "$(awk '{ print $1 + $2 }' "$work/native/cpu")" "$out" || break
        done
        if [ "$w" = openssl ]; then printf '  %-8s (best of 3)    %s\n' "$w" "${check[native,$w]:-}"
        else printf '  %-8s %8.2f s (best of 3)  %s\n' "$w" "${value[native,$w]:-0}" "${check[native,$w]:-}"; fi
    done
}

echo "guestcpu bench: Linux $(cut -d' ' -f1-2 "$guest/versions.txt" 2>/dev/null | head -1), -m $mem_mb," \
     "scale 1/$scale; packages: $(awk '{ printf "%s %s, ", $1, $2 }' "$top/bench/versions.txt" | sed 's/, $//')"
echo "load before: $(uptime)"
for c in "${configs[@]}"; do
    case $c in
        qemu) run_guest qemu "$qemu" -accel tcg -no-reboot "${guest_args[@]}" ;;
        fox86) run_guest fox86 "$fox86" --stats "${fox86_extra[@]}" "${guest_args[@]}" ;;
        native) run_native ;;
    esac
done
echo "load after:  $(uptime)"

# --- checks: every configuration must print what the reference printed -----------
for w in "${workloads[@]}"; do
    ref=""
    for c in native "${configs[@]}"; do
        [ "${outcome[$c,$w]:-}" = ok ] && { ref=${check[$c,$w]}; break; }
    done
    for c in "${configs[@]}"; do
        [ "${outcome[$c,$w]:-}" = ok ] || continue
        a=${check[$c,$w]} b=$ref
        # openssl: only the digest is a check; the throughputs differ
        [ "$w" = openssl ] && { a=${a##* digest=}; b=${b##* digest=}; }
        if [ "$a" != "$b" ]; then
            outcome[$c,$w]="WRONG (check differs: ${check[$c,$w]})"; failures=$((failures + 1))
            echo "$c $w: check differs from the reference: '${check[$c,$w]}' vs '$ref'"
        fi
    done
done

# --- the report ----------------------------------------------------------------------
row_workload() { case $1 in sha256|aes-128-cbc) echo openssl ;; *) echo "$1" ;; esac; }
ok() { [ "${outcome[$1,$(row_workload "$2")]:-}" = ok ] && [ -n "${value[$1,$2]:-}" ]; }
measure=value   # the array the table shows: value (wall) or cpu_s
cell() {  # cell CONFIG ROW: seconds, MB/s, or the outcome
    local -n m=$measure
    if ok "$1" "$2" && [ -n "${m[$1,$2]:-}" ]; then
        case $2 in sha256|aes-128-cbc) printf '%.2f MB/s' "$(calc "${m[$1,$2]} / 1e6")" ;;
                   *) printf '%.2f s' "${m[$1,$2]}" ;; esac
    else local o=${outcome[$1,$(row_workload "$2")]:-"-"}; echo "${o%% (*}"; fi
}
slowdown() {  # slowdown A B ROW: how many times slower A is than B
    local -n m=$measure
    if ok "$1" "$3" && ok "$2" "$3" && [ -n "${m[$1,$3]:-}" ] && [ -n "${m[$2,$3]:-}" ]; then
        case $3 in sha256|aes-128-cbc) printf '%.2f' "$(calc "${m[$2,$3]} / ${m[$1,$3]}")" ;;
                   *) printf '%.2f' "$(calc "${m[$1,$3]} / ${m[$2,$3]}")" ;; esac
    else echo "-"; fi
}
echo
for measure in value cpu_s; do
    if [ "$measure" = value ]; then
        echo "host wall time, start to end marker (openssl: throughput, guest-time divisor):"
    else
        echo "host CPU time of the emulator (native: of the program), user + system (openssl: per CPU second):"
    fi
    printf '  %-22s %14s %14s %14s %12s %12s %12s\n' workload "QEMU tcg" fox86 native fox86/QEMU fox86/native QEMU/native
    for r in "${rows[@]}"; do
        printf '  %-22s %14s %14s %14s %12s %12s %12s\n' "${title[$r]}" "$(cell qemu "$r")" "$(cell fox86 "$r")" \
            "$(cell native "$r")" "$(slowdown fox86 qemu "$r")" "$(slowdown fox86 native "$r")" "$(slowdown qemu native "$r")"
    done
done
echo "  (ratios are slowdowns: time ratios, or inverse throughput ratios for openssl; on a loaded"
echo "   machine the CPU times are the fairer comparison)"
echo "guest time of the timed part (/proc/uptime, s):"
for r in xz gzip lua; do
    printf '  %-22s' "${title[$r]}"
    for c in qemu fox86 native; do printf ' %14s' "${guest_s[$c,$r]:--}"; done
    echo
done
# The guest's clock is the openssl divisor: how far it strays from the host's
printf '  %-22s' "guest/host time"
for c in qemu fox86 native; do
    g=0 h=0
    for r in xz gzip lua; do
        ok "$c" "$r" && [ -n "${guest_s[$c,$r]:-}" ] && { g=$(calc "$g + ${guest_s[$c,$r]}"); h=$(calc "$h + ${value[$c,$r]}"); }
    done
    if less_than 0 "$h"; then printf ' %14.3f' "$(calc "$g / $h")"; else printf ' %14s' -; fi
done
echo
echo "checks: $(for w in "${workloads[@]}"; do for c in native qemu fox86; do
    [ -n "${check[$c,$w]:-}" ] || continue
    case $w in openssl) echo -n "openssl digest=${check[$c,$w]##* digest=}; " ;;
               *) echo -n "${check[$c,$w]%% sha256=*}; " ;; esac
    break; done; done)"

if [ "$failures" -gt 0 ]; then
    echo "guestcpu bench: $failures problem(s): see above"
    exit 1
fi
