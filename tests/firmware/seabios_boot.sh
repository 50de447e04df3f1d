#!/bin/bash
# tests/firmware/seabios_boot.sh: SeaBIOS on fox86, read from the serial
# console (with -nographic SeaBIOS mirrors its screen there): the banner,
# SeaBIOS's own message when nothing can boot, and -boot order with a disk
# and a CD both present (the default guest's images; that part skips when
# the guest is not built).
#
#   seabios_boot.sh FOX86
set -u
fox86=$1
guest=${FOX86_CACHE:-$HOME/.cache/fox86}/guest
failed=0 work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# expect NAME TEXT SECONDS ARGS...: TEXT appears on the console in time
expect() {
    local name=$1 text=$2 secs=$3 pid found=0
    shift 3
    "$fox86" -nographic "$@" </dev/null >"$work/out" 2>&1 &
    pid=$!
    for _ in $(seq $((secs * 10))); do
        if tr -d '\r' <"$work/out" | grep -aqF -- "$text"; then found=1; break; fi
        kill -0 $pid 2>/dev/null || break
        sleep 0.1
    done
    kill $pid 2>/dev/null
    wait $pid 2>/dev/null
    if [ $found = 1 ]; then
        echo "PASS: $name"
    else
        echo "FAIL: $name: no '$text' in:"; tr -d '\r' <"$work/out" | tail -8 | sed 's/^/  /'
        failed=$((failed + 1))
    fi
}

expect "SeaBIOS banner" "SeaBIOS (version" 20 -m 32
expect "no bootable device message" "No bootable device." 60 -m 32
if [ -s "$guest/disk.img" ] && [ -s "$guest/cdrom.iso" ]; then
    expect "-boot c boots the disk" "Booting from Hard Disk" 30 -m 64 -snapshot -hda "$guest/disk.img" -cdrom "$guest/cdrom.iso" -boot c
    expect "-boot d boots the CD" "ISOLINUX" 30 -m 64 -snapshot -hda "$guest/disk.img" -cdrom "$guest/cdrom.iso" -boot d
    expect "-boot order=dc boots the CD" "Booting from DVD/CD" 30 -m 64 -snapshot -hda "$guest/disk.img" -cdrom "$guest/cdrom.iso" -boot order=dc
else
    echo "SKIP: -boot order checks (guest not built: scripts/build-guest.sh)"
fi
[ $failed -eq 0 ] && echo "PASS" || echo "FAILED: $failed"
exit $((failed != 0))
