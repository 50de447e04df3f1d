#!/usr/bin/env bash
# bench/idle.sh: what an idle guest costs the host (issue 6: under 5% of one
# core with the guest idle at a prompt). Boots the default Linux guest
# (scripts/build-guest.sh) to its shell on the serial console, waits, then
# samples the emulator's CPU time (user + system, all threads) over a quiet
# interval and prints it as a share of one core.
#
#   bench/idle.sh [BUILD_DIR] [--seconds N]     (default build, 10 s)
#
# Configurations, each booted once (-m 256, -kernel/-initrd/-append):
#   fox86 -nographic
#   fox86 -display sdl, on a private Xvfb display (skipped without Xvfb)
#   qemu-system-i386 -accel tcg -nographic, and -display sdl on Xvfb
#   (skipped without it)
# The guest's shell sits at its prompt; its kernel still takes its timer
# ticks, so the figure is the cost of an idle Linux, not of nothing.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
build=build seconds=10
while [ $# -gt 0 ]; do
    case $1 in
        --seconds) seconds=$2; shift ;;
        -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "idle: unknown option $1"; exit 2 ;;
        *) build=$1 ;;
    esac
    shift
done
fox86=${FOX86:-$build/frontends/fox86}
guest=${FOX86_CACHE:-$HOME/.cache/fox86}/guest
boot_timeout=${BENCH_BOOT_TIMEOUT:-300}
[ -x "$fox86" ] || { echo "idle: no $fox86 (build first)"; exit 1; }
[ -s "$guest/initrd.img" ] || { echo "idle: guest not built: run scripts/build-guest.sh"; exit 77; }

. bench/guest_console.sh
. bench/guest_payload.sh
console_workdir fox86-idle
xvfb_pid=""
stop_xvfb() { [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null; xvfb_pid=""; }
trap 'stop_xvfb; console_cleanup' EXIT

kernel_args=(-m 256 -kernel "$guest/vmlinuz" -initrd "$guest/initrd.img" -append "$(cat "$guest/cmdline")")

# measure NAME COMMAND...: boot, settle, sample, power off
measure() {
    local name=$1 dir c0 c1
    shift
    dir=$work/$name
    mkdir -p "$dir"
    echo "== $name"
    console_boot "$dir" "$@" || return 1
    sleep 3   # the shell prompt and the boot's last timers
    c0=$(emu_cpu)
    sleep "$seconds"
    c1=$(emu_cpu)
    console_poweroff
    printf '  idle: %.2f CPU s over %s s: %.1f%% of one core\n' "$(calc "$c1 - $c0")" "$seconds" \
        "$(calc "100 * ($c1 - $c0) / $seconds")"
}

echo "idle bench: $(git rev-parse --short HEAD 2>/dev/null), $seconds s at the prompt"
echo "load before: $(uptime)"
measure fox86-nographic "$fox86" -nographic "${kernel_args[@]}"
if command -v Xvfb >/dev/null; then
    disp=$(( 90 + $$ % 100 ))
    Xvfb ":$disp" -screen 0 1280x1024x24 -nolisten tcp >/dev/null 2>&1 &
    xvfb_pid=$!
    sleep 1
    DISPLAY=":$disp" measure fox86-sdl "$fox86" -display sdl -serial stdio "${kernel_args[@]}"
    stop_xvfb
else
    echo "== fox86-sdl: skipped (no Xvfb: apt-get install xvfb)"
fi
if command -v qemu-system-i386 >/dev/null; then
    measure qemu-nographic qemu-system-i386 -accel tcg -nographic "${kernel_args[@]}"
    if ! qemu-system-i386 -display help 2>/dev/null | grep -qx sdl; then
        echo "== qemu-sdl: skipped (QEMU's SDL display is in Debian's qemu-system-gui, not installed)"
    elif command -v Xvfb >/dev/null; then
        Xvfb ":$disp" -screen 0 1280x1024x24 -nolisten tcp >/dev/null 2>&1 &
        xvfb_pid=$!
        sleep 1
        DISPLAY=":$disp" measure qemu-sdl qemu-system-i386 -accel tcg -display sdl -serial stdio \
            "${kernel_args[@]}"
        stop_xvfb
    fi
else
    echo "== qemu: skipped (qemu-system-i386 not installed)"
fi
echo "load after:  $(uptime)"
echo "goal: fox86 under 5% of one core while the guest idles"
