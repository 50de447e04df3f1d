#!/bin/bash
# tests/guest/deterministic.sh: fox86's deterministic mode gives the same
# run twice, bit for bit: the default guest's kernel boots with busybox
# "poweroff -f" as init (no input needed; ACPI S5 ends fox86) under
# --deterministic, twice; the serial output (kernel log with its timestamps)
# and the instruction count must be identical. Skips (77) when the guest is not built.
# Options given after FOX86 are added to the second run only: with
# --savevm-check N it must still be identical (the guest cannot notice
# snapshots).
#
#   deterministic.sh FOX86 [OPTIONS FOR RUN 2...]
set -u
fox86=$1
shift
run2_args=("$@")
guest=${FOX86_CACHE:-$HOME/.cache/fox86}/guest
[ -s "$guest/vmlinuz" ] && [ -s "$guest/initrd.img" ] || { echo "SKIP: guest not built (scripts/build-guest.sh)"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for run in 1 2; do
    extra=()
    [ $run = 2 ] && extra=("${run2_args[@]}")
    timeout 600 "$fox86" "${extra[@]}" --deterministic -m 256 -nographic -kernel "$guest/vmlinuz" \
        -initrd "$guest/initrd.img" -append "console=ttyS0,115200 panic=-1 rdinit=/bin/busybox -- poweroff -f" \
        --stats </dev/null >"$work/run$run" 2>&1
    status=$?
    if [ $status -ne 0 ] || ! grep -qE "reboot: (System halted|Power down)" "$work/run$run"; then
        echo "FAIL: run $run exited with $status without halting:"; tail -20 "$work/run$run"; exit 1
    fi
    # Host time and speed differ between runs by nature. With options for
    # run 2 (--savevm-check), the host-side counters differ too (the check
    # splits slices and empties the TLB and shadows at each load): then only
    # the guest's output and the guest-visible counts are compared.
    if [ ${#run2_args[@]} -eq 0 ]; then
        grep -v -e "host time" -e "speed  " -e "time in translation" "$work/run$run" >"$work/cmp$run"
    else
        sed '/^fox86 stats:/,$d' "$work/run$run" >"$work/cmp$run"
        grep -e "instructions executed" -e "exceptions taken" -e "virtual time" \
            "$work/run$run" >>"$work/cmp$run"
    fi
done
if cmp -s "$work/cmp1" "$work/cmp2"; then
    echo "PASS: two deterministic runs are identical ($(wc -l <"$work/cmp1") lines, $(grep "instructions executed" "$work/cmp1" | tr -s ' ' | cut -d' ' -f4) instructions)"
    exit 0
fi
echo "FAIL: the runs differ:"; diff "$work/cmp1" "$work/cmp2" | head -20
exit 1
