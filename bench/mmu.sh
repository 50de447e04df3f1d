#!/usr/bin/env bash
# bench/mmu.sh: process-heavy workloads inside the Linux guest, fox86
# -mmu tlb vs -mmu shadow vs qemu-system-i386 -accel tcg vs native.
#
#   bench/mmu.sh [BUILD_DIR]      (default build; fox86 is BUILD_DIR/frontends/fox86,
#                                  or $FOX86 when set)
#
# The workloads (bench/workloads/proc_*, built by the proc_workloads target):
#   forkexec  proc_forkexec: 2,000 fork + exec of a tiny static program + wait
#   pingpong  proc_pingpong: 20,000 one-byte round trips between two processes
#   script    proc_script.sh under busybox sh: 300 iterations of the tiny
#             program and a two-stage pipeline of a relay program
# They are packed at bench time into a small gzip'd newc cpio (/bench in
# the guest) appended to a temporary copy of the cached initrd.img (Linux
# unpacks concatenated archives); the cache is never written.
#
# Each configuration boots the default guest (scripts/build-guest.sh) once
# with -kernel/-initrd/-append and -m 256, and runs the workloads one after
# the other over the serial console (stdin/stdout, -nographic), between
# start and done markers that a shell function prints. Every console line
# is time-stamped on arrival; a workload's host time runs from its start
# marker to its done marker. Each program also prints its own guest time
# (CLOCK_MONOTONIC in the guest). Then poweroff -f.
#
# Configurations, in this order: QEMU, fox86 -mmu tlb, fox86 -mmu shadow.
# When fox86 has no -mmu option, one fox86 run in its default mode instead
# (said so in the output). fox86 runs with --stats; the MMU lines of its
# exit report (every line naming mmu, shadow, cr3, tlb, page table, evict
# or flush) are printed, and the share of CR3 switches that reused a cached
# shadow when the counters exist (they cover the boot too). Natively, the
# same programs run on the host (the script under the host's sh).
#
# Prints a table of host times, guest times, and the ratios tlb/shadow
# (goal >= 1.5), fox86/QEMU and fox86/native. Wall times on a shared
# machine are noisy: compare runs made on a quiet machine.
#
# Environment:
#   BENCH_QUICK=1            10x fewer iterations (development smoke run)
#   BENCH_CONFIGS="..."      subset of: qemu tlb shadow default native
#   BENCH_BOOT_TIMEOUT       seconds to the guest's ready line (default 300)
#   BENCH_WORKLOAD_TIMEOUT   seconds per workload run (default 600)
#   BENCH_REPEAT             runs of each workload per boot, best kept (default 1)
#   BENCH_KEEP=1             keep the console logs and stats (path printed)
#   FOX86                    the fox86 binary to run
# Exit status: 0 when every workload ran and gave the right answer in every
# configuration, 1 otherwise (guest not built, no boot, timeout, wrong result).
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
fox86=${FOX86:-$build/frontends/fox86}
proc_dir=$build/bench/proc
guest=${FOX86_CACHE:-$HOME/.cache/fox86}/guest
qemu=$(command -v qemu-system-i386 || true)
boot_timeout=${BENCH_BOOT_TIMEOUT:-300}
workload_timeout=${BENCH_WORKLOAD_TIMEOUT:-600}
repeat=${BENCH_REPEAT:-1}
mem_mb=256

for f in vmlinuz initrd.img cmdline; do
    [ -s "$guest/$f" ] || { echo "mmu bench: guest not built ($guest/$f missing): run scripts/build-guest.sh"; exit 1; }
done
if ! cmake --build "$build" --target proc_workloads >/dev/null 2>&1 || [ ! -x "$proc_dir/proc_tiny" ]; then
    echo "mmu bench: cannot build the workloads in $build (cmake --build $build --target proc_workloads; needs gcc -m32)"
    exit 1
fi

# --- the workloads --------------------------------------------------------------
scale=1
[ "${BENCH_QUICK:-0}" = 1 ] && scale=10
forkexec_runs=$((2000 / scale)) pingpong_trips=$((20000 / scale)) script_iterations=$((300 / scale))
workloads=(forkexec pingpong script)
declare -A title=(
    [forkexec]="fork+exec x$forkexec_runs"
    [pingpong]="pipe ping-pong x$pingpong_trips"
    [script]="shell script x$script_iterations"
)
declare -A guest_cmd=(
    [forkexec]="./proc_forkexec $forkexec_runs"
    [pingpong]="./proc_pingpong $pingpong_trips"
    [script]="sh ./proc_script.sh $script_iterations"
)
# The line each workload prints when it got the right answers
declare -A good_line=(
    [forkexec]="^forkexec runs=$forkexec_runs failed=0 guest_us=[0-9]+\$"
    [pingpong]="^pingpong trips=$pingpong_trips bad=0 guest_us=[0-9]+\$"
    [script]="^script iterations=$script_iterations bad=0 guest_us=[0-9]+\$"
)

# shellcheck source=bench/guest_console.sh
. bench/guest_console.sh   # (the working directory is the repository root)
console_workdir fox86-mmubench

# The initrd: the cached one, zero-padded to 4 bytes, then /bench
# shellcheck source=bench/guest_payload.sh
. bench/guest_payload.sh
payload_proc "$work/cpio" "$proc_dir"
(cd "$work/cpio" && find bench | cpio -o -H newc -R 0:0 --quiet | gzip -9) >"$work/bench.cpio.gz" || {
    echo "mmu bench: cannot pack the workloads (cpio, gzip)"; exit 1; }
initrd=$work/initrd-bench.img
initrd_with "$initrd" "$work/bench.cpio.gz"
guest_args=(-m "$mem_mb" -nographic -kernel "$guest/vmlinuz" -initrd "$initrd" -append "$(cat "$guest/cmdline")")

# --- the configurations ----------------------------------------------------------
have_mmu_option=0
if [ -x "$fox86" ] && "$fox86" -mmu tlb -version >/dev/null 2>&1 && "$fox86" -mmu shadow -version >/dev/null 2>&1; then
    have_mmu_option=1
fi
configs=()
for c in ${BENCH_CONFIGS:-qemu tlb shadow default native}; do
    case $c in
        qemu) [ -n "$qemu" ] && configs+=(qemu) || echo "note: qemu-system-i386 not found: no QEMU column" ;;
        tlb|shadow) [ "$have_mmu_option" = 1 ] && configs+=("$c") ;;
        default) [ -x "$fox86" ] && [ "$have_mmu_option" = 0 ] && configs+=(default) ;;
        native) configs+=(native) ;;
        *) echo "mmu bench: unknown configuration '$c' in BENCH_CONFIGS"; exit 1 ;;
    esac
done
if [ ! -x "$fox86" ]; then
    echo "note: $fox86 not found (build it, or pass the build folder): no fox86 columns"
elif [ "$have_mmu_option" = 0 ]; then
    echo "note: this fox86 has no -mmu option: one run in its default mode, no tlb/shadow comparison"
fi
declare -A config_title=([qemu]="QEMU tcg" [tlb]="fox86 tlb" [shadow]="fox86 shadow"
                         [default]="fox86" [native]="native")

# Results, keyed "config,workload": host seconds, guest seconds, outcome
# (ok, or why not)
declare -A host_s guest_s outcome
declare -A stats_file
failures=0

# run_workload CONFIG WORKLOAD RUN: types one run of WORKLOAD between its
# markers and waits for it; keeps the best host time of the runs (and the
# guest time of that run) in host_s/guest_s, the outcome in outcome.
# Returns 1 when the run failed (the remaining runs are skipped); clears
# $synced when the shell no longer answers.
run_workload() {
    local config=$1 w=$2 id=$2-$3 t_start t_end rc result t
    send 'm S %s; %s; m E %s $?\n' "$id" "${guest_cmd[$w]}" "$id"
    if ! wait_for "^@@E-$id@@ [0-9]+" "$workload_timeout"; then
        alive && outcome[$config,$w]="timeout (${workload_timeout} s)" || outcome[$config,$w]="emulator exited"
        failures=$((failures + 1))
        echo "  ${title[$w]}: ${outcome[$config,$w]}"
        # Interrupt it and check the shell answers again
        send '\003'; sleep 1
        send 'm Y %s\n' "$id"
        wait_for "^@@Y-$id@@" 30 || synced=0
        return 1
    fi
    t_start=$(line_time "@@S-$id@@")
    t_end=$(line_time "@@E-$id@@")
    rc=$(grep -aE "^[0-9.]+ @@E-$id@@" "$log" | head -1 | awk '{ print $3 }')
    result=$(cut -d' ' -f2- "$log" | sed -n "/^@@S-$id@@/,/^@@E-$id@@/p" | grep -aE "^$w " | head -1)
    t=$(calc "$t_end - $t_start")
    printf '  %-24s %8.2f s host  %s\n' "${title[$w]}" "$t" "${result:-(no result line)}"
    if [ "$rc" != 0 ] || ! echo "$result" | grep -qE "${good_line[$w]}"; then
        outcome[$config,$w]="WRONG (status $rc: ${result:-no result line})"
        failures=$((failures + 1))
        return 1
    fi
    if [ -z "${host_s[$config,$w]:-}" ] || less_than "$t" "${host_s[$config,$w]}"; then
        outcome[$config,$w]=ok host_s[$config,$w]=$t
        guest_s[$config,$w]=$(calc "${result##*guest_us=} / 1e6")
    fi
}

# run_guest CONFIG EMULATOR_COMMAND...: boots, runs the workloads, powers off
run_guest() {
    local config=$1 w run synced=0
    shift
    local dir=$work/$config
    mkdir -p "$dir"
    stats_file[$config]=$dir/stderr
    echo "== ${config_title[$config]}: $*" | sed "s|$work/||g"
    if ! console_boot "$dir" "$@"; then
        for w in "${workloads[@]}"; do outcome[$config,$w]="no boot"; done
        failures=$((failures + 1))
    else
        send 'm() { echo "@@$1-$2@@ $3"; }; cd /bench; m R ready\n'
        synced=0
        wait_for '^@@R-ready@@' 60 && synced=1
        [ "$synced" = 1 ] || echo "  shell: no answer on the console"
        for w in "${workloads[@]}"; do
            for run in $(seq "$repeat"); do
                if [ "$synced" = 0 ]; then
                    outcome[$config,$w]="not run (no shell)"; failures=$((failures + 1)); break
                fi
                run_workload "$config" "$w" "$run" || break
            done
        done
    fi

    console_poweroff
    [ "$emu_status" = 0 ] || echo "  the emulator exited with status $emu_status"
}

# run_native: the same programs on the host, best of 3 (or BENCH_REPEAT)
run_native() {
    local w i result best t
    echo "== native: $proc_dir (the script under $(readlink -f /bin/sh))"
    for w in "${workloads[@]}"; do
        best=""
        for i in $(seq "$(( repeat > 3 ? repeat : 3 ))"); do
            result=$(cd "$proc_dir" && ${guest_cmd[$w]} 2>&1)
            if ! echo "$result" | grep -qE "${good_line[$w]}"; then
                outcome[native,$w]="WRONG (${result:-no output})"; best=""; failures=$((failures + 1)); break
            fi
            t=$(calc "${result##*guest_us=} / 1e6")
            if [ -z "$best" ] || less_than "$t" "$best"; then best=$t; fi
        done
        if [ -n "$best" ]; then
            outcome[native,$w]=ok host_s[native,$w]=$best guest_s[native,$w]=$best
            printf '  %-24s %8.3f s\n' "${title[$w]}" "$best"
        fi
    done
}

# --stats block lines about the MMU, and the CR3 reuse share
mmu_stats() {
    local file=$1
    [ -s "$file" ] || { echo "  (no --stats report)"; return; }
    sed -n '/^fox86 stats:/,$p' "$file" | grep -iE 'instructions executed|speed' | sed 's/^ */  /'
    local lines
    lines=$(sed -n '/^fox86 stats:/,$p' "$file" | grep -iE 'mmu|shadow|cr3|tlb|page.?table|evict|flush')
    if [ -z "$lines" ]; then
        echo "  (no MMU counters in this fox86's --stats report)"
        return
    fi
    echo "$lines" | sed 's/^ */  /'
    # The first all-digit field of a line is its value (labels say "CR3")
    local reused switches
    reused=$(echo "$lines" | grep -iE 'cr3|switch' | grep -iE 'reus' |
             awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) { print $i; exit } }')
    switches=$(echo "$lines" | grep -iE 'cr3' | grep -iE 'switch|load|write' | grep -viE 'reus' |
               awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) { print $i; exit } }')
    if [ -n "$reused" ] && [ -n "$switches" ] && [ "$switches" -gt 0 ]; then
        printf '  => %.1f%% of CR3 switches reused a cached shadow (goal >= 90%%; boot included)\n' \
            "$(calc "100 * $reused / $switches")"
    fi
}

echo "mmu bench: Linux $(cut -d' ' -f1-2 "$guest/versions.txt" 2>/dev/null | head -1), -m $mem_mb," \
     "workloads: ${title[forkexec]}, ${title[pingpong]}, ${title[script]}; best of $repeat per boot"
for c in "${configs[@]}"; do
    case $c in
        qemu) run_guest qemu "$qemu" -accel tcg -no-reboot "${guest_args[@]}" ;;
        tlb|shadow) run_guest "$c" "$fox86" -mmu "$c" --stats "${guest_args[@]}" ;;
        default) run_guest default "$fox86" --stats "${guest_args[@]}" ;;
        native) run_native ;;
    esac
done

# --- the report -------------------------------------------------------------------
shown=()
for c in qemu tlb shadow default native; do
    for x in "${configs[@]}"; do [ "$x" = "$c" ] && shown+=("$c"); done
done
cell() {  # cell ARRAY KEY: seconds, or the outcome
    local -n arr=$1
    if [ "${outcome[$2]:-}" = ok ] && [ -n "${arr[$2]:-}" ]; then printf '%.3f' "${arr[$2]}"
    elif [ -n "${outcome[$2]:-}" ]; then echo "${outcome[$2]%% (*}"
    else echo "-"; fi
}
ratio() {  # ratio A B WORKLOAD: host time of A / host time of B
    if [ "${outcome[$1,$3]:-}" = ok ] && [ "${outcome[$2,$3]:-}" = ok ]; then
        printf '%.2f' "$(calc "${host_s[$1,$3]} / ${host_s[$2,$3]}")"
    else echo "-"; fi
}
echo
for kind in host guest; do
    [ "$kind" = host ] && echo "host wall time, start to done marker (s):" ||
        echo "guest time, as each workload measured it (s):"
    printf '  %-24s' workload
    for c in "${shown[@]}"; do printf ' %14s' "${config_title[$c]}"; done
    echo
    for w in "${workloads[@]}"; do
        printf '  %-24s' "${title[$w]}"
        for c in "${shown[@]}"; do printf ' %14s' "$(cell "${kind}_s" "$c,$w")"; done
        echo
    done
done
fox=""
for c in shadow default; do
    for x in "${shown[@]}"; do [ "$x" = "$c" ] && fox=$c; done
done
echo "ratios of host times:"
printf '  %-24s %14s %14s %14s\n' workload "tlb/shadow" "fox86/QEMU" "fox86/native"
for w in "${workloads[@]}"; do
    printf '  %-24s %14s %14s %14s\n' "${title[$w]}" "$(ratio tlb shadow "$w")" \
        "$( [ -n "$fox" ] && ratio "$fox" qemu "$w" || echo -)" "$( [ -n "$fox" ] && ratio "$fox" native "$w" || echo -)"
done
if [ "$have_mmu_option" = 1 ]; then
    echo "  (goal: tlb/shadow >= 1.5; fox86 = -mmu shadow)"
else
    echo "  (fox86 = its default mode; this fox86 has no -mmu option)"
fi
for c in tlb shadow default; do
    [ -n "${stats_file[$c]:-}" ] || continue
    echo "${config_title[$c]} --stats (whole run: boot and workloads):"
    mmu_stats "${stats_file[$c]}"
done

if [ "$failures" -gt 0 ]; then
    echo "mmu bench: $failures problem(s): see above"
    exit 1
fi
