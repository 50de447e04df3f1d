#!/usr/bin/env bash
# bench/boot.sh: Linux boot time, fox86 vs QEMU.
#
#   bench/boot.sh [FOX86_BINARY]      (default build/frontends/fox86)
#
# Boots the default test guest (scripts/build-guest.sh) with -kernel/-initrd
# on fox86 and on qemu-system-i386 -accel tcg in the same run and measures
# the host wall time from start to the guest's ready line (FOX86-GUEST-READY
# on the serial console), best of $BENCH_REPEAT runs (default 3). Prints
# both and the ratio fox86/QEMU. A boot that shows no ready line within
# $BENCH_BOOT_TIMEOUT seconds (default 300) or exits first counts as "cannot
# boot"; QEMU's time is reported anyway. Wall times on a shared machine are
# noisy: compare runs made on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
fox86=${1:-build/frontends/fox86}
repeat=${BENCH_REPEAT:-3}
timeout=${BENCH_BOOT_TIMEOUT:-300}
guest=${FOX86_CACHE:-$HOME/.cache/fox86}/guest
qemu=$(command -v qemu-system-i386 || true)

for f in vmlinuz initrd.img cmdline; do
    [ -s "$guest/$f" ] || { echo "boot: guest not built ($guest/$f): run scripts/build-guest.sh"; exit 1; }
done
boot_args=(-m 256 -nographic -kernel "$guest/vmlinuz" -initrd "$guest/initrd.img" -append "$(cat "$guest/cmdline")")

log=$(mktemp)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -f "$log"' EXIT
now() { date +%s.%N; }
# (printf, not print: mawk prints 6 significant digits, too few for epoch seconds)
calc() { awk "BEGIN { printf \"%.6f\\n\", $* }"; }
less_than() { awk "BEGIN { exit !($1 < $2) }"; }

# time_to_ready CMD...: prints the seconds from start to the ready line, or
# nothing if it never came (timeout or the emulator exited)
time_to_ready() {
    local t0 t deadline
    : >"$log"
    t0=$(now)
    "$@" </dev/null >"$log" 2>&1 &
    pid=$!
    deadline=$(calc "$t0 + $timeout")
    while :; do
        if grep -aq FOX86-GUEST-READY "$log"; then t=$(calc "$(now) - $t0"); break; fi
        if ! kill -0 "$pid" 2>/dev/null || less_than "$deadline" "$(now)"; then t=""; break; fi
        sleep 0.05
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
    echo "$t"
}
# best_of NAME CMD...: sets $best to the smallest time of $repeat boots;
# stops at the first failure (then $best is empty)
best=""
best_of() {
    local name=$1 t i
    shift
    best=""
    for i in $(seq "$repeat"); do
        t=$(time_to_ready "$@")
        if [ -z "$t" ]; then
            echo "  $name: no ready line (run $i); last output:"
            tr -d '\r' <"$log" | tail -5 | sed 's/^/    /'
            best=""
            return
        fi
        printf '  %s run %d: %.2f s\n' "$name" "$i" "$t"
        if [ -z "$best" ] || less_than "$t" "$best"; then best=$t; fi
    done
}
show() { if [ -n "$2" ]; then printf '%-7s %.2f s\n' "$1" "$2"; else printf '%-7s %s\n' "$1" "$3"; fi; }

echo "boot: Linux $(cut -d' ' -f1-2 "$guest/versions.txt" | head -1), -kernel/-initrd, to the ready line, best of $repeat"
qemu_t="" fox_t=""
if [ -n "$qemu" ]; then
    best_of qemu "$qemu" -accel tcg -no-reboot "${boot_args[@]}"; qemu_t=$best
else
    echo "  qemu-system-i386 not found"
fi
if [ -x "$fox86" ]; then
    best_of fox86 "$fox86" "${boot_args[@]}"; fox_t=$best
else
    echo "  $fox86 not found (build it, or pass its path)"
fi
show "QEMU:" "$qemu_t" "cannot boot the guest"
show "fox86:" "$fox_t" "cannot boot the guest yet"
if [ -n "$qemu_t" ] && [ -n "$fox_t" ]; then
    printf '%-7s %.2f (fox86 time / QEMU time)\n' "ratio:" "$(calc "$fox_t / $qemu_t")"
fi
