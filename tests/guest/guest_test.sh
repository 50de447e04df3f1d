#!/usr/bin/env bash
# tests/guest/guest_test.sh: boots the default Linux test guest (built by
# scripts/build-guest.sh) on an emulator and checks it through the serial
# console, like a person at a terminal would.
#
#   guest_test.sh [--gate VAR] kernel|disk|cdrom EMULATOR [EXTRA_ARGS...]
#       Boots with -kernel/-initrd/-append (and the disk attached), from the
#       disk (EXTLINUX), or from the CD (ISOLINUX, -cdrom ISO -boot d, the
#       disk attached too; also mounts the CD). EMULATOR is qemu-system-i386 or fox86; both take
#       -m 256 -nographic (serial on stdio). QEMU also gets -accel tcg and
#       -no-reboot. The disk is a private copy of the cached disk.img.
#   guest_test.sh --cmd [--disk FILE] -- COMMAND [ARGS...]
#       Runs any emulator command line as given (serial on stdin/stdout).
#
# Steps (each prints PASS or FAIL): the ready line, uname -a (i686, 6.1),
# /proc/cpuinfo's "model name", no kernel warnings about the emulated
# hardware or firmware (clock calibration, IRQs, BIOS/ACPI tables, ATA),
# the ext2 partition /dev/sda1 mounted read-write, a file written, synced,
# unmounted, caches dropped, remounted and read back, EXTLINUX's files on
# it, poweroff -f, the emulator's exit status 0; then, on the host, the written file found in the disk image.
# Exit 0 all passed, 1 something failed, 77 skipped (guest not built,
# emulator missing, or --gate VAR not set to 1).
#
# Environment: FOX86_CACHE (default ~/.cache/fox86), FOX86_GUEST_BOOT_TIMEOUT
# (seconds to the ready line, default 300), FOX86_GUEST_CMD_TIMEOUT (per
# command, default 60), FOX86_GUEST_KEEP_LOG=1 keeps the console log.
set -eu

guest=${FOX86_CACHE:-$HOME/.cache/fox86}/guest
boot_timeout=${FOX86_GUEST_BOOT_TIMEOUT:-300}
cmd_timeout=${FOX86_GUEST_CMD_TIMEOUT:-60}

skip() { echo "SKIP: $*"; exit 77; }
usage() { sed -n '2,25p' "$0" >&2; exit 2; }

# --- arguments ----------------------------------------------------------------
gate="" mode="" disk="" emu_cmd=() is_qemu=0
while [ $# -gt 0 ]; do
    case $1 in
        --gate) gate=$2; shift 2 ;;
        --cmd) mode=cmd; shift ;;
        --disk) disk=$2; shift 2 ;;
        --) shift; break ;;
        -*) usage ;;
        *) break ;;
    esac
done
if [ -n "$gate" ] && [ "$(printenv "$gate" || true)" != 1 ]; then
    skip "set $gate=1 to run this test"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fox86-guest.XXXXXX")
emu_pid=""
cleanup() {
    if [ -n "$emu_pid" ] && kill -0 "$emu_pid" 2>/dev/null; then
        kill "$emu_pid" 2>/dev/null || true
        sleep 0.5; kill -0 "$emu_pid" 2>/dev/null && kill -9 "$emu_pid" 2>/dev/null || true
    fi
    { exec 3>&-; } 2>/dev/null || true
    if [ "${FOX86_GUEST_KEEP_LOG:-0}" = 1 ]; then echo "console log kept in $tmp/console.log"
    else rm -rf "$tmp"; fi
}
trap cleanup EXIT

if [ "$mode" = cmd ]; then
    [ $# -gt 0 ] || usage
    emu_cmd=("$@")
else
    [ $# -ge 2 ] || usage
    mode=$1 emu=$2; shift 2
    case $mode in kernel|disk|cdrom) ;; *) usage ;; esac
    command -v "$emu" >/dev/null 2>&1 || skip "emulator $emu not found"
    for f in vmlinuz initrd.img disk.img cdrom.iso cmdline; do
        [ -s "$guest/$f" ] || skip "guest not built ($guest/$f missing): run scripts/build-guest.sh"
    done
    # A private copy: the cached image is never written
    disk=$tmp/disk.img
    cp --reflink=auto "$guest/disk.img" "$disk"
    emu_cmd=("$emu" -m 256 -nographic)
    case $(basename "$emu") in
        qemu*) is_qemu=1
               emu_cmd+=(-accel tcg -no-reboot -drive "file=$disk,format=raw,if=ide,index=0") ;;
        *) emu_cmd+=(-hda "$disk") ;;
    esac
    if [ "$mode" = kernel ]; then
        emu_cmd+=(-kernel "$guest/vmlinuz" -initrd "$guest/initrd.img" -append "$(cat "$guest/cmdline")")
    elif [ "$mode" = cdrom ]; then
        emu_cmd+=(-cdrom "$guest/cdrom.iso" -boot d)
    fi
    emu_cmd+=("$@")
fi

# --- the emulator, its serial console on a fifo (in) and a log file (out) ------
log=$tmp/console.log
mkfifo "$tmp/in"
: >"$log"
echo "running: ${emu_cmd[*]}"
"${emu_cmd[@]}" <"$tmp/in" >"$log" 2>&1 &
emu_pid=$!
exec 3>"$tmp/in"

passed=0 failed=0
result() {  # result PASS|FAIL STEP [DETAIL]
    if [ "$1" = PASS ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    printf '%s: %s%s\n' "$1" "$2" "${3:+ ($3)}"
}
alive() { kill -0 "$emu_pid" 2>/dev/null; }
now() { date +%s; }

# wait_for REGEX TIMEOUT: waits until the console log matches REGEX (extended)
wait_for() {
    local deadline=$(( $(now) + $2 ))
    while ! tr -d '\r' <"$log" | grep -aqE "$1"; do
        alive || return 1
        [ "$(now)" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

# run_cmd N COMMAND: types COMMAND between two markers and waits for the end
# marker; leaves the command's output in $out and its status in $rc. The
# markers are printed by a shell function, so the echoed input never
# matches them.
out="" rc=""
run_cmd() {
    printf 'm S %s; %s; m E %s $?\n' "$1" "$2" "$1" >&3
    out="" rc=""
    wait_for "@@E-$1@@ [0-9]+" "$cmd_timeout" || return 1
    out=$(tr -d '\r' <"$log" | sed -n "/@@S-$1@@/,/@@E-$1@@/p" | sed '1d;$d')
    rc=$(tr -d '\r' <"$log" | sed -n "s/.*@@E-$1@@ \([0-9]*\).*/\1/p" | tail -1)
}
finish() {
    echo "$passed passed, $failed failed"
    if [ "$failed" -gt 0 ]; then
        echo "--- last 40 console lines ---"; tr -d '\r' <"$log" | tail -40
        exit 1
    fi
    exit 0
}

# --- the checks ---------------------------------------------------------------
t0=$(now)
if wait_for 'FOX86-GUEST-READY' "$boot_timeout"; then
    result PASS "boot to the ready line" "$(( $(now) - t0 )) s"
else
    alive && why="no ready line in $boot_timeout s" || why="emulator exited"
    result FAIL "boot to the ready line" "$why"
    finish
fi
printf 'm() { echo "@@$1-$2@@ $3"; }\n' >&3

step=0
# check NAME COMMAND EXPECTED_REGEX: the command must succeed and its
# output match the regex
check() {
    step=$((step + 1))
    if ! run_cmd "$step" "$2"; then
        result FAIL "$1" "no answer in $cmd_timeout s"; finish
    elif [ "$rc" != 0 ]; then
        result FAIL "$1" "status $rc: $(echo "$out" | tail -3 | tr '\n' ' ')"
    elif ! echo "$out" | grep -qE "$3"; then
        result FAIL "$1" "output does not match /$3/: $(echo "$out" | tail -3 | tr '\n' ' ')"
    else
        result PASS "$1" "$(echo "$out" | grep -E "$3" | head -1 | cut -c1-90)"
    fi
}

token="fox86-$$-$RANDOM$RANDOM"
check "uname -a: i686, Linux 6.1" "uname -a" 'Linux .* 6\.1\..* i686'
check "/proc/cpuinfo has a model name" "cat /proc/cpuinfo" '^model name[[:space:]]*:'
# Kernel messages that blame the hardware or firmware: clock calibration and
# clocksources, interrupt routing, BIOS/ACPI tables, ATA errors. The
# matching lines are shown when there are any.
hw_warnings='BIOS bug|Firmware Bug|ACPI (BIOS )?(Error|Warning)|TSC calibration failed|Unable to calibrate|TSC unstable|clocksource.*unstable|watchdog.*(skew|unstable)|nobody cared|spurious 8259A|MP table|MPTABLE: no|boot CPU.*not listed|no APIC|APIC.*disabled|timer doesn.t work|ata[0-9.]+: .*(failed|error|timeout|exception)|hard resetting|I/O error|too much work for irq'
# QEMU's TCG runs in real time and fails its TSC calibration on a loaded host
# (it is the reference, not under test): there the lines are only shown.
if [ "$is_qemu" = 1 ]; then
    step=$((step + 1))
    run_cmd "$step" "dmesg | grep -E '$hw_warnings' || echo no-hardware-warnings" || true
    echo "NOTE: kernel warnings on QEMU (not judged): $(echo "$out" | tail -3 | tr '\n' ' ')"
else
    check "no kernel warnings about the hardware or firmware" \
        "dmesg | grep -E '$hw_warnings' || echo no-hardware-warnings" '^no-hardware-warnings$'
fi
check "the IDE disk's partition appears" \
    'i=0; while [ ! -b /dev/sda1 ] && [ $i -lt 30 ]; do sleep 1; i=$((i+1)); done; ls /dev/sda1' '^/dev/sda1$'
check "mount /dev/sda1 (ext2) read-write" \
    "mount -t ext4 -o rw /dev/sda1 /mnt && grep -q ' /mnt ext4 rw' /proc/mounts && cat /mnt/hello.txt" \
    '^fox86 guest test data$'
check "write a file, sync, unmount" \
    "echo $token >/mnt/fox86-test.txt && sync && umount /mnt && echo unmounted" '^unmounted$'
check "remount and read it back" \
    "echo 3 >/proc/sys/vm/drop_caches; mount -t ext4 /dev/sda1 /mnt && cat /mnt/fox86-test.txt && tail -1 /mnt/numbers.txt && umount /mnt" \
    "^$token\$"
check "EXTLINUX's files on /dev/sda1" \
    "mount -t ext4 -o ro /dev/sda1 /mnt && ls /mnt/boot/extlinux && grep -c initrd /mnt/boot/extlinux/extlinux.conf && umount /mnt" \
    'ldlinux\.sys'
if [ "$mode" = cdrom ]; then
    check "mount the CD /dev/sr0 (iso9660)" \
        "mount -t iso9660 -o ro /dev/sr0 /mnt && ls /mnt/isolinux && cat /mnt/README.txt && umount /mnt" \
        '^hello from the fox86 CD$'
fi

# poweroff -f: the kernel powers off through ACPI (PM1a_CNT SLP_TYP/SLP_EN
# for \_S5); the emulator must then exit by itself with status 0.
printf 'poweroff -f\n' >&3
deadline=$(( $(now) + cmd_timeout ))
while alive && [ "$(now)" -lt "$deadline" ]; do sleep 0.2; done
if alive; then
    result FAIL "poweroff -f: the emulator exits" "still running after $cmd_timeout s"
else
    status=0; wait "$emu_pid" || status=$?
    emu_pid=""
    if [ "$status" = 0 ]; then result PASS "poweroff -f: the emulator exits with status 0"
    else result FAIL "poweroff -f: the emulator exits with status 0" "status $status"; fi
fi

# The written file, seen from the host in the disk image (sda1 starts at the
# LBA in the first partition table entry)
if [ -n "$disk" ] && [ -f "$disk" ] && command -v debugfs >/dev/null 2>&1; then
    lba=$(od -An -tu4 -j454 -N4 "$disk" | tr -d ' ')
    count=$(od -An -tu4 -j458 -N4 "$disk" | tr -d ' ')
    dd if="$disk" of="$tmp/p1.img" bs=512 skip="$lba" count="$count" status=none
    seen=$(debugfs -R "cat /fox86-test.txt" "$tmp/p1.img" 2>/dev/null || true)
    if [ "$seen" = "$token" ]; then result PASS "the written file is in the disk image"
    else result FAIL "the written file is in the disk image" "found '${seen:0:40}'"; fi
fi
finish
