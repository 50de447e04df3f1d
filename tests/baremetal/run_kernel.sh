#!/bin/sh
# tests/baremetal/run_kernel.sh: run one bare-metal test kernel and judge it.
#
#   run_kernel.sh qemu  KERNEL OUTDIR
#   run_kernel.sh fox86 KERNEL OUTDIR FOX86 [FOX86_ARGS...]
#
# FOX86_ARGS (e.g. -mmu shadow) go to fox86 only, after the common command
# line; the run then keeps its files in a folder named after them, so the
# same kernel may run with several settings in parallel.
#
# Both modes use the same command line:
#   -kernel KERNEL -nographic -device isa-debug-exit,iobase=0xf4,iosize=0x04
#   -no-reboot -debugcon file:TRANSCRIPT
# A kernel passes when the emulator exits with status 33 (the kernel wrote
# 0x10 to the isa-debug-exit port: (0x10 << 1) | 1). In fox86 mode the
# transcript (port 0xE9 output) must also equal QEMU's for the same kernel;
# the diff is printed when it does not. QEMU missing: skip (exit 77) in qemu
# mode; in fox86 mode the comparison is skipped with a note. Every run has a
# timeout so a hang fails instead of blocking (then SIGKILL 5 s later: a QEMU
# vCPU spinning inside a page walk ignores SIGTERM).
set -u
mode=$1 kernel=$2 outdir=$3 fox86=${4:-}
shift $(( $# < 4 ? $# : 4 ))  # what is left: FOX86_ARGS
name=$(basename "$kernel" .elf)
timeout_s=${BAREMETAL_TIMEOUT:-30}
pass_status=33
outdir=$outdir/$mode-mode     # each ctest its own files: they may run in parallel
[ $# -gt 0 ] && outdir=$outdir$(printf '_%s' "$@" | tr -c 'A-Za-z0-9_.\n-' '_')
mkdir -p "$outdir"

# run_emulator LABEL PROGRAM [ARGS...]: sets $status, writes $outdir/$name.LABEL.txt
run_emulator() {
    label=$1 program=$2
    shift 2
    transcript="$outdir/$name.$label.txt"
    rm -f "$transcript"
    timeout -k 5 "$timeout_s" "$program" -kernel "$kernel" -nographic \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot \
        -debugcon "file:$transcript" "$@" </dev/null >"$outdir/$name.$label.stdout" 2>"$outdir/$name.$label.stderr"
    status=$?
    [ -f "$transcript" ] || : >"$transcript"
}

report_status() {  # LABEL
    if [ "$status" -eq 124 ]; then
        echo "$name on $1: timed out after ${timeout_s}s"
    else
        echo "$name on $1: exit status $status (pass is $pass_status)"
    fi
    sed 's/^/  | /' "$outdir/$name.$1.txt" | tail -n 40
    if [ -s "$outdir/$name.$1.stderr" ]; then
        echo "  stderr:"
        sed 's/^/  ! /' "$outdir/$name.$1.stderr" | tail -n 20
    fi
}

qemu=$(command -v qemu-system-i386 || true)
case "$mode" in
qemu)
    if [ -z "$qemu" ]; then
        echo "SKIP: qemu-system-i386 is not installed"
        exit 77
    fi
    run_emulator qemu "$qemu"
    if [ "$status" -ne "$pass_status" ]; then
        report_status qemu
        exit 1
    fi
    echo "$name on qemu: PASS"
    ;;
fox86)
    run_emulator fox86 "$fox86" "$@"
    fox_status=$status
    if [ "$fox_status" -ne "$pass_status" ]; then
        report_status fox86
        exit 1
    fi
    if [ -z "$qemu" ]; then
        echo "$name on fox86: PASS (qemu-system-i386 not installed: transcript not compared)"
        exit 0
    fi
    run_emulator qemu "$qemu"
    if [ "$status" -ne "$pass_status" ]; then
        report_status qemu
        echo "$name: QEMU does not pass this kernel, so the transcripts cannot be compared"
        exit 1
    fi
    if ! diff -u "$outdir/$name.qemu.txt" "$outdir/$name.fox86.txt" >"$outdir/$name.diff"; then
        echo "$name: fox86 and QEMU transcripts differ (--- qemu, +++ fox86):"
        cat "$outdir/$name.diff"
        exit 1
    fi
    echo "$name on fox86: PASS (transcript identical to QEMU's)"
    ;;
*)
    echo "usage: run_kernel.sh qemu|fox86 KERNEL OUTDIR [FOX86 [FOX86_ARGS...]]" >&2
    exit 2
    ;;
esac
exit 0
