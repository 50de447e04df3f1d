#!/usr/bin/env bash
# bench/cpu.sh: interpreter speed on CPU-bound workloads, fox86 vs QEMU vs native.
#
#   bench/cpu.sh [BUILD_DIR] [--callgrind]
#
# Each workload (bench/workloads) runs as a multiboot kernel on fox86 and on
# qemu-system-i386 -accel tcg, and as a 32-bit Linux program natively, in the
# same run. Prints the guest instruction count (fox86 --stats), fox86's MIPS,
# and the time ratios; the checksums must agree or the row is marked WRONG.
# Wall times on a shared machine are noisy: take the best of $BENCH_REPEAT
# runs (default 3). With --callgrind, also counts host instructions per guest
# instruction under valgrind (repeatable; slow).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
callgrind=0
[ "${2:-}" = "--callgrind" ] && callgrind=1
repeat=${BENCH_REPEAT:-3}
fox86=$build/frontends/fox86
qemu=$(command -v qemu-system-i386 || true)
kernel_args=(-display none -serial none -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04)

now() { date +%s.%N; }
calc() { awk "BEGIN { print $* }"; }   # float arithmetic without bc
outfile=$(mktemp)
trap 'rm -f "$outfile"' EXIT
# best_time CMD...: prints the smallest wall time (s) of $repeat runs; the
# last run's output is left in $outfile (this runs in a subshell)
best_time() {
    local best="" t0 t1 t
    for _ in $(seq "$repeat"); do
        t0=$(now)
        "$@" >"$outfile" 2>&1 || true
        t1=$(now)
        t=$(calc "$t1 - $t0")
        if [ -z "$best" ] || [ "$(calc "($t < $best)")" = 1 ]; then best=$t; fi
    done
    echo "$best"
}

printf '%-8s %14s %9s %9s %9s %9s %12s %12s\n' workload guest-insns fox86-s qemu-s native-s MIPS fox86/qemu fox86/native
for wl in intmix fpmix; do
    elf=$build/bench/$wl.elf native=$build/bench/$wl-native
    [ -f "$elf" ] || { echo "$wl: $elf not built (ninja -C $build bench_workloads)"; continue; }
    t_fox=$(best_time "$fox86" -kernel "$elf" "${kernel_args[@]}" -debugcon stdio --stats)
    fox_out=$(cat "$outfile")
    insns=$(echo "$fox_out" | sed -n 's/.*instructions[^0-9]*\([0-9][0-9]*\).*/\1/p' | head -1)
    sum_fox=$(echo "$fox_out" | sed -n 's/.*checksum \([0-9a-f]*\).*/\1/p' | head -1)
    t_qemu=nan sum_qemu=""
    if [ -n "$qemu" ]; then
        t_qemu=$(best_time "$qemu" -accel tcg -kernel "$elf" "${kernel_args[@]}" -debugcon stdio)
        sum_qemu=$(cat "$outfile" | sed -n 's/.*checksum \([0-9a-f]*\).*/\1/p' | head -1)
    fi
    t_nat=$(best_time "$native")
    sum_nat=$(cat "$outfile" | sed -n 's/.*checksum \([0-9a-f]*\).*/\1/p' | head -1)
    mips=$(calc "${insns:-0} / $t_fox / 1000000")
    r_qemu=$( [ "$t_qemu" = nan ] && echo nan || calc "$t_fox / $t_qemu")
    r_nat=$(calc "$t_fox / $t_nat")
    status=""
    [ "$sum_fox" = "$sum_nat" ] || status="WRONG(fox86 $sum_fox native $sum_nat)"
    [ -z "$qemu" ] || [ "$sum_qemu" = "$sum_nat" ] || status="$status qemu-differs($sum_qemu)"
    printf '%-8s %14s %9.2f %9s %9.3f %9.1f %12s %12.1f %s\n' "$wl" "${insns:-?}" "$t_fox" \
        "$( [ "$t_qemu" = nan ] && echo - || printf '%.2f' "$t_qemu")" "$t_nat" "$mips" \
        "$( [ "$r_qemu" = nan ] && echo - || printf '%.2f' "$r_qemu")" "$r_nat" "$status"
    if [ "$callgrind" = 1 ] && command -v valgrind >/dev/null; then
        cg=$(mktemp)
        valgrind --tool=callgrind --callgrind-out-file="$cg" "$fox86" -kernel "$elf" "${kernel_args[@]}" \
            -debugcon null --stats >/dev/null 2>"$cg.err" || true
        host=$(sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$cg.err" | head -1)
        [ -n "$host" ] && [ -n "$insns" ] && printf '  callgrind: %s host instructions, %.1f per guest instruction\n' \
            "$host" "$(calc "$host / $insns")"
        rm -f "$cg" "$cg.err"
    fi
done
echo "(fox86/qemu < 1 means fox86 is faster; MIPS = guest instructions per second / 1e6)"
