#!/usr/bin/env bash
# bench/translator.sh: issue 5's proof in one run. The same guest workloads
# on every fox86 engine, on qemu-system-i386 -accel tcg (same kernel,
# initramfs, command line, -m 256) and natively on the host; one table of
# times with every ratio, and the memory figures.
#
#   bench/translator.sh [BUILD_DIR] [--only boot,cpu,proc,kernel] [--repeat N] [--quick]
#                       [--engines "interp portable native"] [--no-qemu] [--no-host]
#
# Workload sets (--only; default boot,cpu,proc):
#   boot    the stock guest (cached initrd) to its ready line
#   cpu     bench/guestcpu.sh's Debian i386 programs in the guest: xz -9,
#           gzip -9, openssl speed (sha256, aes-128-cbc), a Lua script
#   proc    bench/mmu.sh's process-heavy programs: fork+exec, pipe
#           ping-pong, a busybox shell script
#   kernel  bench/cpu.sh's multiboot kernel intmix (no Linux: a few seconds;
#           --quick: intmix-quick, 1/20 of it)
# cpu and proc share one boot per configuration, with both payloads in an
# uncompressed cpio appended to a copy of the cached initrd. Each workload
# runs --repeat times (default 1; boot: that many boots) and the best is kept.
#
# Engines ($FOX86_ENGINES or --engines): interp = -accel interp, anything
# else X = -accel tcg,backend=X. An engine this fox86 rejects is reported
# "not available" and skipped. Columns: each engine, QEMU, host (the same
# i386 programs run natively; no "boot" row).
#
# Times: CPU time (user + system, all threads) of the emulator process
# between the start and end markers of a workload, sampled from
# /proc/PID/stat while the guest idles at its prompt; natively the
# program's (bash's time). Boot: the emulator's CPU time when the ready
# line arrives. The hosts are shared and noisy, so the CPU table is the one
# to quote; the wall-clock table follows. openssl: MB/s per CPU second
# (bytes per guest second scaled by wall/CPU). Ratios are time ratios
# (openssl: inverse throughput ratios): below 1 means the first is faster.
# Goal: native/QEMU <= 0.5 on the CPU-bound rows, and on boot < 1.
#
# Memory: the emulator's peak resident set (VmHWM) over the cpu+proc boot
# (-m 256; goal < 512 MiB), and for translating engines the translation
# cache use that --stats reports at exit, with the -tb-size budget, from the
# same run and from an extra boot with -tb-size 1 (which must flush and
# stay within 1 MiB).
#
# --quick: 1/10 of the work (inputs, iterations, seconds), boot only once,
# no -tb-size 1 boot. Environment: BENCH_BOOT_TIMEOUT (default 300 s),
# BENCH_WORKLOAD_TIMEOUT (default 900 s), BENCH_KEEP=1 (keep the logs),
# FOX86 (the binary), FOX86_CACHE. Exit status: 0 when every selected
# workload ran with the right result everywhere it could, 1 otherwise, 77
# when nothing can run (no QEMU, no guest or programs for the chosen sets).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
build=build only=boot,cpu,proc repeat=1 quick=0 want_qemu=1 want_host=1
engines=${FOX86_ENGINES:-interp portable native}
while [ $# -gt 0 ]; do
    case $1 in
        --only) only=$2; shift ;;
        --repeat) repeat=$2; shift ;;
        --quick) quick=1 ;;
        --engines) engines=$2; shift ;;
        --no-qemu) want_qemu=0 ;;
        --no-host) want_host=0 ;;
        -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "translator bench: unknown option $1"; exit 2 ;;
        *) build=$1 ;;
    esac
    shift
done
fox86=${FOX86:-$build/frontends/fox86}
top=${FOX86_CACHE:-$HOME/.cache/fox86}
guest=$top/guest staged=$top/bench/root proc_dir=$build/bench/proc
qemu=$(command -v qemu-system-i386 || true)
boot_timeout=${BENCH_BOOT_TIMEOUT:-300}
workload_timeout=${BENCH_WORKLOAD_TIMEOUT:-900}
mem_mb=256 rss_goal_mb=512
scale=1
[ "$quick" = 1 ] && scale=10
has_set() { case ",$only," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

. bench/guest_console.sh   # (the working directory is the repository root)
. bench/guest_payload.sh

[ -n "$qemu" ] || { [ "$want_qemu" = 0 ] || { echo "translator bench: qemu-system-i386 not found"; exit 77; }; }
[ -x "$fox86" ] || { echo "translator bench: $fox86 not found (build it)"; exit 1; }
if has_set boot || has_set cpu || has_set proc; then
    for f in vmlinuz initrd.img cmdline; do
        [ -s "$guest/$f" ] || { echo "translator bench: guest not built ($guest/$f): run scripts/build-guest.sh"; exit 77; }
    done
fi
if has_set cpu && [ ! -x "$staged/usr/bin/xz" ]; then
    echo "translator bench: programs not staged ($staged): run scripts/build-bench-guest.sh"; exit 77
fi
if has_set proc && ! { cmake --build "$build" --target proc_workloads >/dev/null 2>&1 && [ -x "$proc_dir/proc_tiny" ]; }; then
    echo "translator bench: cannot build the proc workloads in $build (needs gcc -m32)"; exit 77
fi
if has_set kernel && ! { cmake --build "$build" --target bench_workloads >/dev/null 2>&1 &&
                         [ -f "$build/bench/intmix-quick.elf" ]; }; then
    echo "translator bench: cannot build the multiboot workloads in $build (needs gcc -m32)"; exit 77
fi

# --- configurations -------------------------------------------------------------------
declare -A accel title
columns=()
for e in $engines; do
    case $e in interp) accel[$e]=interp ;; *) accel[$e]=tcg,backend=$e ;; esac
    if "$fox86" -accel "${accel[$e]}" -version >/dev/null 2>&1; then
        columns+=("$e") title[$e]="fox86 $e"
    else
        echo "note: fox86 engine '$e' (-accel ${accel[$e]}) not available: skipped"
    fi
done
fox_engines=("${columns[@]}")
[ "$want_qemu" = 1 ] && columns+=(qemu) title[qemu]="QEMU tcg"
[ "$want_host" = 1 ] && columns+=(host) title[host]="host"

# --- rows -------------------------------------------------------------------------------
xz_kib=$((2048 / scale)) gzip_kib=$((16384 / scale))
forkexec_runs=$((2000 / scale)) pingpong_trips=$((20000 / scale)) script_iterations=$((300 / scale))
cpu_workloads=(xz gzip openssl lua) proc_workloads=(forkexec pingpong script)
rows=()
has_set boot && rows+=(boot)
has_set cpu && rows+=(xz gzip sha256 aes-128-cbc lua)
has_set proc && rows+=(forkexec pingpong script)
has_set kernel && rows+=(intmix)
declare -A row_title=(
    [boot]="boot to ready" [xz]="xz -9 ${xz_kib} KiB" [gzip]="gzip -9 ${gzip_kib} KiB"
    [sha256]="openssl sha256" [aes-128-cbc]="openssl aes-128-cbc" [lua]="lua x$((50 / scale))"
    [forkexec]="fork+exec x$forkexec_runs" [pingpong]="pipe ping-pong x$pingpong_trips"
    [script]="shell script x$script_iterations" [intmix]="intmix$( [ "$quick" = 1 ] && echo " 1/20") (multiboot)"
)
declare -A proc_cmd=(
    [forkexec]="./proc_forkexec $forkexec_runs"
    [pingpong]="./proc_pingpong $pingpong_trips"
    [script]="sh ./proc_script.sh $script_iterations"
)
declare -A good_line=(
    [forkexec]="^forkexec runs=$forkexec_runs failed=0 guest_us=[0-9]+\$"
    [pingpong]="^pingpong trips=$pingpong_trips bad=0 guest_us=[0-9]+\$"
    [script]="^script iterations=$script_iterations bad=0 guest_us=[0-9]+\$"
)
is_tput() { case $1 in sha256|aes-128-cbc) return 0 ;; *) return 1 ;; esac; }

# Results keyed "config,row": wall and cpu (seconds, or bytes/s for openssl),
# outcome (ok or why not); check keyed "config,workload"
declare -A wall cpu outcome check rss tc_used tc_flush tc_small
failures=0
# keep CONFIG ROW WALL CPU: files one good run, keeping the best
keep() {
    outcome[$1,$2]=ok
    if is_tput "$2"; then
        { [ -z "${wall[$1,$2]:-}" ] || less_than "${wall[$1,$2]}" "$3"; } && wall[$1,$2]=$3
        { [ -z "${cpu[$1,$2]:-}" ] || less_than "${cpu[$1,$2]}" "$4"; } && cpu[$1,$2]=$4
    else
        { [ -z "${wall[$1,$2]:-}" ] || less_than "$3" "${wall[$1,$2]}"; } && wall[$1,$2]=$3
        { [ -z "${cpu[$1,$2]:-}" ] || less_than "$4" "${cpu[$1,$2]}"; } && cpu[$1,$2]=$4
    fi
    return 0   # a run slower than the best kept is still a success
}
# fail CONFIG ROW_OR_WORKLOAD WHY (openssl stands for its two rows)
fail() {
    if [ "$2" = openssl ]; then outcome[$1,sha256]=$3 outcome[$1,aes-128-cbc]=$3; else outcome[$1,$2]=$3; fi
    failures=$((failures + 1)); echo "  ${row_title[$2]:-$2}: $3"
}

console_workdir fox86-translator
stock_args=(-m "$mem_mb" -nographic -kernel "$guest/vmlinuz" -initrd "$guest/initrd.img" -append "$(cat "$guest/cmdline" 2>/dev/null)")

# The payload initrd for cpu and proc
if has_set cpu || has_set proc; then
    mkdir -p "$work/cpio"
    if has_set cpu; then payload_cpu "$work/cpio" "$scale" "$staged" || exit 1; fi
    has_set proc && payload_proc "$work/cpio" "$proc_dir"
    (cd "$work/cpio" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) \
        >"$work/bench.cpio" || { echo "translator bench: cannot pack the payload (cpio)"; exit 1; }
    initrd_with "$work/initrd-bench.img" "$work/bench.cpio"
    payload_args=(-m "$mem_mb" -nographic -kernel "$guest/vmlinuz" -initrd "$work/initrd-bench.img"
                  -append "$(cat "$guest/cmdline")")
    mkdir -p "$work/host/tmp"
    has_set cpu && ln -s "$work/cpio/opt/bench"/* "$work/host/"
fi

emulator() {  # emulator CONFIG: the command line prefix of that configuration
    case $1 in
        qemu) echo "$qemu -accel tcg -no-reboot" ;;
        *) echo "$fox86 -accel ${accel[$1]} --stats" ;;
    esac
}

# tcache_line FILE: "USED of BUDGET MiB, N flushes" from a --stats report
tcache_line() {
    local used budget flushes
    read -r used budget < <(sed -n 's/^ *cache memory *\([0-9.]*\) MiB used of \([0-9.]*\) MiB.*/\1 \2/p' "$1" | tail -1)
    flushes=$(sed -n 's/^ *cache flushes *\([0-9]*\) (budget).*/\1/p' "$1" | tail -1)
    [ -n "${used:-}" ] || return 1
    printf '%s of %s MiB, %s budget flushes' "$used" "$budget" "${flushes:-?}"
    less_than "$budget" "$used" && printf ' OVER BUDGET'
    return 0
}

# boot_once CONFIG DIR [EXTRA_ARGS...]: one stock boot to the ready line
boot_once() {
    local config=$1 dir=$2 t0 c_ready t
    shift 2
    mkdir -p "$dir"
    # shellcheck disable=SC2046
    t0=$(now)
    console_boot "$dir" $(emulator "$config") "$@" "${stock_args[@]}" >"$dir/boot.out" || {
        cat "$dir/boot.out"; console_poweroff; return 1; }
    c_ready=$(emu_cpu)
    t=$(calc "$(line_time 'FOX86-GUEST-READY') - $t0")
    console_poweroff
    printf '  boot: %.2f s wall, %.2f s CPU to the ready line\n' "$t" "$c_ready"
    # only a stock boot counts for the "boot" row (not the -tb-size 1 one)
    [ $# -gt 0 ] || keep "$config" boot "$t" "$c_ready"
}

# run_boot CONFIG: best of $repeat stock boots (+ one with -tb-size 1)
run_boot() {
    local config=$1 i
    for i in $(seq "$repeat"); do
        boot_once "$config" "$work/$config-boot$i" || { fail "$config" boot "no boot"; return; }
    done
    if [ "$config" != qemu ] && [ "$quick" = 0 ] && [ "$config" != interp ]; then
        echo "  boot with -tb-size 1:"
        if boot_once "$config" "$work/$config-tb1" -tb-size 1 >"$work/$config-tb1.out"; then
            tc_small[$config]=$(tcache_line "$work/$config-tb1/stderr" || echo "no cache line in --stats")
            echo "    cache: ${tc_small[$config]}"
        else
            sed 's/^/  /' "$work/$config-tb1.out"
            tail -3 "$work/$config-tb1/stderr" 2>/dev/null | sed 's/^/    stderr: /'
            tc_small[$config]="no boot"; failures=$((failures + 1))
        fi
    fi
}

# guest_cpu_workload CONFIG W: one run of a cpu workload (as guestcpu.sh)
guest_cpu_workload() {
    local config=$1 w=$2 id=$2-$3 c0 c1 t rc out line alg v
    c0=$(emu_cpu)
    send 'm S %s; sh ./cpu_run.sh /opt/bench run %s %s; m E %s $?\n' "$id" "$w" "$scale" "$id"
    if ! wait_for "^@@E-$id@@ [0-9]+" "$workload_timeout"; then
        alive && fail "$config" "$w" "timeout" || fail "$config" "$w" "emulator exited"
        send '\003'; sleep 1; send 'm Y %s\n' "$id"; wait_for "^@@Y-$id@@" 30 || synced=0
        return 1
    fi
    c1=$(emu_cpu)
    send 'sh ./cpu_run.sh /opt/bench check %s; m C %s\n' "$w" "$id"
    # the check hashes the output in the guest: minutes on a slow engine
    wait_for "^@@C-$id@@" "$workload_timeout" || { fail "$config" "$w" "no check"; synced=0; return 1; }
    t=$(calc "$(line_time "@@E-$id@@") - $(line_time "@@S-$id@@")")
    rc=$(grep -aE "^[0-9.]+ @@E-$id@@" "$log" | head -1 | awk '{ print $3 }')
    out=$(cut -d' ' -f2- "$log" | sed -n "/^@@S-$id@@/,/^@@C-$id@@/p")
    line=$(echo "$out" | grep -aE "^$w " | head -1)
    printf '  %-8s %8.2f s wall %8.2f s CPU  %s\n' "$w" "$t" "$(calc "$c1 - $c0")" "$line"
    record_cpu "$config" "$w" "$t" "$(calc "$c1 - $c0")" "$rc" "$line"
}
# record_cpu CONFIG W WALL CPU STATUS CHECK_LINE
record_cpu() {
    local config=$1 w=$2 t=$3 c=$4 rc=$5 line=$6 alg v
    [ "$rc" = 0 ] && [ -n "$line" ] || { fail "$config" "$w" "WRONG (status $rc)"; return 1; }
    check[$config,$w]=$line
    if [ "$w" = openssl ]; then
        for alg in sha256 aes-128-cbc; do
            v=$(echo "$line" | grep -oE " $alg=[0-9]+" | cut -d= -f2)
            [ -n "$v" ] || { fail "$config" "$alg" "WRONG (no figure)"; continue; }
            # per CPU second: the run lasts a fixed wall time
            keep "$config" "$alg" "$v" "$(calc "$v * $t / ($c > 0 ? $c : 1)")"
        done
    else
        keep "$config" "$w" "$t" "$c"
    fi
}

# guest_proc_workload CONFIG W RUN: one run of a proc workload (as mmu.sh)
guest_proc_workload() {
    local config=$1 w=$2 id=$2-$3 c0 c1 t rc result
    c0=$(emu_cpu)
    send 'm S %s; cd /bench; %s; m E %s $?; cd /opt/bench\n' "$id" "${proc_cmd[$w]}" "$id"
    if ! wait_for "^@@E-$id@@ [0-9]+" "$workload_timeout"; then
        alive && fail "$config" "$w" "timeout" || fail "$config" "$w" "emulator exited"
        send '\003'; sleep 1; send 'cd /opt/bench; m Y %s\n' "$id"; wait_for "^@@Y-$id@@" 30 || synced=0
        return 1
    fi
    c1=$(emu_cpu)
    t=$(calc "$(line_time "@@E-$id@@") - $(line_time "@@S-$id@@")")
    rc=$(grep -aE "^[0-9.]+ @@E-$id@@" "$log" | head -1 | awk '{ print $3 }')
    result=$(cut -d' ' -f2- "$log" | sed -n "/^@@S-$id@@/,/^@@E-$id@@/p" | grep -aE "^$w " | head -1)
    printf '  %-8s %8.2f s wall %8.2f s CPU  %s\n' "$w" "$t" "$(calc "$c1 - $c0")" "$result"
    if [ "$rc" != 0 ] || ! echo "$result" | grep -qE "${good_line[$w]}"; then
        fail "$config" "$w" "WRONG (status $rc)"; return 1
    fi
    keep "$config" "$w" "$t" "$(calc "$c1 - $c0")"
}

# run_workloads CONFIG: one boot with the payload, the cpu and proc sets
run_workloads() {
    local config=$1 w i synced=0
    local dir=$work/$config-work
    mkdir -p "$dir"
    # shellcheck disable=SC2046
    if ! console_boot "$dir" $(emulator "$config") "${payload_args[@]}"; then
        for w in "${rows[@]}"; do [ "$w" = boot ] || [ "$w" = intmix ] || outcome[$config,$w]="no boot"; done
        failures=$((failures + 1)); console_poweroff; return
    fi
    send 'm() { echo "@@$1-$2@@ $3"; }; cd /opt/bench; m R ready\n'
    wait_for '^@@R-ready@@' 60 && synced=1
    [ "$synced" = 1 ] || echo "  shell: no answer on the console"
    if has_set cpu; then
        for w in "${cpu_workloads[@]}"; do
            for i in $(seq "$repeat"); do
                [ "$synced" = 1 ] || { fail "$config" "$w" "not run (no shell)"; break; }
                guest_cpu_workload "$config" "$w" "$i" || break
            done
        done
    fi
    if has_set proc; then
        for w in "${proc_workloads[@]}"; do
            for i in $(seq "$repeat"); do
                [ "$synced" = 1 ] || { fail "$config" "$w" "not run (no shell)"; break; }
                guest_proc_workload "$config" "$w" "$i" || break
            done
        done
    fi
    rss[$config]=$(emu_peak_rss_mb)
    console_poweroff
    echo "  peak RSS ${rss[$config]:-?} MiB (-m $mem_mb)"
    if [ "$config" != qemu ] && [ "$config" != interp ]; then
        tc_used[$config]=$(tcache_line "$dir/stderr" || echo "no cache line in --stats")
        echo "  cache: ${tc_used[$config]}"
    fi
}

# run_kernel CONFIG: the intmix multiboot kernel, best of $repeat
run_kernel() {
    local config=$1 wl=intmix i t0 t c out sum TIMEFORMAT='%U %S'
    [ "$quick" = 1 ] && wl=intmix-quick
    local elf=$build/bench/$wl.elf
    local args=(-kernel "$elf" -display none -serial none -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04
                -debugcon "file:$work/$config-kernel.out")
    for i in $(seq "$repeat"); do
        t0=$(now)
        if [ "$config" = host ]; then
            { time "$build/bench/$wl-native" >"$work/$config-kernel.out" 2>&1; } 2>"$work/$config-kernel.cpu"
        else
            # shellcheck disable=SC2046
            { time $(emulator "$config") "${args[@]}" >/dev/null 2>&1; } 2>"$work/$config-kernel.cpu"
        fi
        t=$(calc "$(now) - $t0")
        c=$(awk '{ print $1 + $2 }' "$work/$config-kernel.cpu")
        sum=$(sed -n 's/.*checksum \([0-9a-f]*\).*/\1/p' "$work/$config-kernel.out" | head -1)
        printf '  intmix   %8.2f s wall %8.2f s CPU  checksum %s\n' "$t" "$c" "${sum:-none}"
        [ -n "$sum" ] || { fail "$config" intmix "WRONG (no checksum)"; return; }
        check[$config,intmix]=$sum
        keep "$config" intmix "$t" "$c"
    done
}

# run_host: the same programs natively, best of max(3, repeat)
run_host() {
    local w i out rc t0 t c TIMEFORMAT='%U %S' n=$(( repeat > 3 ? repeat : 3 ))
    [ "$quick" = 1 ] && n=1
    if has_set cpu; then
        for w in "${cpu_workloads[@]}"; do
            for i in $(seq "$n"); do
                t0=$(now)
                { time (cd "$work/host" && TMPDIR=$work/host/tmp sh ./cpu_run.sh "$work/host" run "$w" "$scale" \
                        >/dev/null 2>&1); } 2>"$work/host/cpu"
                rc=$?
                t=$(calc "$(now) - $t0")
                c=$(awk '{ print $1 + $2 }' "$work/host/cpu")
                out=$(cd "$work/host" && TMPDIR=$work/host/tmp sh ./cpu_run.sh "$work/host" check "$w" 2>&1 | head -1)
                [ "$i" = 1 ] && printf '  %-8s %8.2f s wall %8.2f s CPU  %s\n' "$w" "$t" "$c" "$out"
                record_cpu host "$w" "$t" "$c" "$rc" "$out" || break
            done
        done
    fi
    if has_set proc; then
        for w in "${proc_workloads[@]}"; do
            for i in $(seq "$n"); do
                t0=$(now)
                { time (cd "$proc_dir" && ${proc_cmd[$w]} >"$work/host/proc.out" 2>&1); } 2>"$work/host/cpu"
                t=$(calc "$(now) - $t0")
                c=$(awk '{ print $1 + $2 }' "$work/host/cpu")
                out=$(head -1 "$work/host/proc.out")
                [ "$i" = 1 ] && printf '  %-8s %8.2f s wall %8.2f s CPU  %s\n' "$w" "$t" "$c" "$out"
                echo "$out" | grep -qE "${good_line[$w]}" || { fail host "$w" "WRONG"; break; }
                keep host "$w" "$t" "$c"
            done
        done
    fi
    has_set kernel && run_kernel host
}

echo "translator bench: $(git describe --always --dirty 2>/dev/null), sets $only, scale 1/$scale, best of $repeat," \
     "-m $mem_mb; Linux $(cut -d' ' -f1-2 "$guest/versions.txt" 2>/dev/null | head -1)"
echo "load before: $(uptime)"
for c in "${columns[@]}"; do
    echo "== ${title[$c]}: $( [ "$c" = host ] && echo "i386 programs natively" || emulator "$c")"
    if [ "$c" = host ]; then run_host; continue; fi
    has_set boot && run_boot "$c"
    { has_set cpu || has_set proc; } && run_workloads "$c"
    has_set kernel && run_kernel "$c"
done
echo "load after:  $(uptime)"

# --- checks: every configuration prints what the reference printed ---------------------
for w in "${cpu_workloads[@]}" intmix; do
    ref=""
    for c in host "${columns[@]}"; do [ -n "${check[$c,$w]:-}" ] && { ref=${check[$c,$w]}; break; }; done
    for c in "${columns[@]}"; do
        [ -n "${check[$c,$w]:-}" ] || continue
        a=${check[$c,$w]} b=$ref
        [ "$w" = openssl ] && { a=${a##* digest=}; b=${b##* digest=}; }
        if [ "$a" != "$b" ]; then
            echo "${title[$c]} $w: check differs from the reference: '${check[$c,$w]}' vs '$ref'"
            if [ "$w" = openssl ]; then outcome[$c,sha256]=WRONG outcome[$c,aes-128-cbc]=WRONG
            else outcome[$c,$w]=WRONG; fi
            failures=$((failures + 1))
        fi
    done
done

# --- the report --------------------------------------------------------------------------
ok() { [ "${outcome[$1,$2]:-}" = ok ]; }
cell() {  # cell ARRAY CONFIG ROW
    local -n m=$1
    if ok "$2" "$3"; then
        if is_tput "$3"; then printf '%.2f MB/s' "$(calc "${m[$2,$3]} / 1e6")"; else printf '%.2f s' "${m[$2,$3]}"; fi
    else local o=${outcome[$2,$3]:-"-"}; echo "${o%% (*}"; fi
}
ratio() {  # ratio ARRAY A B ROW: time of A / time of B (inverse for throughput)
    local -n m=$1
    if ok "$2" "$4" && ok "$3" "$4"; then
        if is_tput "$4"; then printf '%.2f' "$(calc "${m[$3,$4]} / ${m[$2,$4]}")"
        else printf '%.2f' "$(calc "${m[$2,$4]} / ${m[$3,$4]}")"; fi
    else echo "-"; fi
}
# The ratio columns: each engine against QEMU and the host, portable/interp
pairs=()
for e in "${fox_engines[@]}"; do
    [ "$want_qemu" = 1 ] && pairs+=("$e/qemu")
    [ "$want_host" = 1 ] && pairs+=("$e/host")
done
for p in portable/interp native/interp native/portable; do
    a=${p%/*} b=${p#*/}
    [ -n "${title[$a]:-}" ] && [ -n "${title[$b]:-}" ] && pairs+=("$p")
done
[ "$want_qemu" = 1 ] && [ "$want_host" = 1 ] && pairs+=(qemu/host)
echo
for m in cpu wall; do
    if [ "$m" = cpu ]; then echo "host CPU time, user + system (openssl: MB/s per CPU second):"
    else echo "host wall time (openssl: MB/s of guest time):"; fi
    printf '  %-22s' workload
    for c in "${columns[@]}"; do printf ' %14s' "${title[$c]}"; done
    echo
    for r in "${rows[@]}"; do
        printf '  %-22s' "${row_title[$r]}"
        for c in "${columns[@]}"; do printf ' %14s' "$(cell "$m" "$c" "$r")"; done
        echo
    done
    echo "  ratios (time ratios; openssl: inverse throughput; < 1: the first is faster):"
    printf '  %-22s' workload
    for p in "${pairs[@]}"; do printf ' %15s' "$p"; done
    echo
    for r in "${rows[@]}"; do
        printf '  %-22s' "${row_title[$r]}"
        for p in "${pairs[@]}"; do printf ' %15s' "$(ratio "$m" "${p%/*}" "${p#*/}" "$r")"; done
        echo
    done
done
echo "  goals: native/qemu <= 0.50 on xz, gzip, openssl, lua (2x QEMU's throughput); boot native/qemu < 1"
if has_set cpu || has_set proc || [ -n "${tc_small[*]:-}" ]; then
    echo
    echo "memory (cpu+proc boot, -m $mem_mb; goal: peak RSS < $rss_goal_mb MiB):"
    for c in "${columns[@]}"; do
        [ "$c" = host ] && continue
        r=${rss[$c]:-}
        verdict=""
        [ -n "$r" ] && { less_than "$r" "$rss_goal_mb" && verdict="ok" || { verdict="OVER"; failures=$((failures + 1)); }; }
        printf '  %-16s peak RSS %8s MiB %-4s' "${title[$c]}" "${r:--}" "$verdict"
        [ -n "${tc_used[$c]:-}" ] && printf '  tcache at exit: %s' "${tc_used[$c]}"
        echo
        [ -n "${tc_small[$c]:-}" ] && printf '  %-16s -tb-size 1 boot: tcache at exit %s\n' "" "${tc_small[$c]}"
    done
fi
for c in "${fox_engines[@]}"; do
    f=$work/$c-work/stderr
    [ -s "$f" ] || continue
    echo "${title[$c]} --stats (cpu+proc boot, whole run):"
    sed -n '/^fox86 stats:/,$p' "$f" | grep -E 'instructions executed|speed|blocks|lookups|chained|SMC|flushes|cache memory|translation|callouts' |
        sed 's/^ */  /'
done
case " ${tc_small[*]:-} ${tc_used[*]:-} " in *"OVER BUDGET"*) failures=$((failures + 1)) ;; esac
if [ "$failures" -gt 0 ]; then
    echo "translator bench: $failures problem(s): see above"
    exit 1
fi
