#!/bin/sh
# bench/workloads/proc_check.sh: smoke test of the process workloads of
# bench/mmu.sh, run natively (ctest bench_workloads_native).
#
#   proc_check.sh DIR        (DIR holds the built proc_* programs)
#
# Runs each workload with small counts and checks its result line. Exit 0
# all good, 1 a failure, 77 skipped (programs not built, or the host cannot
# run 32-bit i386 programs).
set -u
dir=${1:?usage: proc_check.sh DIR}
[ -x "$dir/proc_tiny" ] || { echo "SKIP: $dir/proc_tiny not built (gcc -m32 missing?)"; exit 77; }
cd "$dir" || exit 1
./proc_tiny 2>/dev/null
rc=$?
# 126/127 from the shell, or a signal: the kernel would not run it
[ "$rc" -eq 0 ] || { echo "SKIP: this host cannot run 32-bit i386 programs (status $rc)"; exit 77; }

failed=0
# check NAME REGEX COMMAND...: the command exits 0 and prints a matching line
check() {
    name=$1 re=$2
    shift 2
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -eq 0 ] && printf '%s\n' "$out" | grep -qE "$re"; then
        echo "PASS: $name: $out"
    else
        echo "FAIL: $name: status $rc, output: $out"
        failed=1
    fi
}
check "proc_clock prints microseconds" '^[0-9]+$' ./proc_clock
check "proc_relay copies stdin" '^hello relay$' sh -c 'echo "hello relay" | ./proc_relay'
check "proc_forkexec 50 runs" '^forkexec runs=50 failed=0 guest_us=[0-9]+$' ./proc_forkexec 50
check "proc_pingpong 500 trips" '^pingpong trips=500 bad=0 guest_us=[0-9]+$' ./proc_pingpong 500
check "proc_script.sh 10 iterations" '^script iterations=10 bad=0 guest_us=[0-9]+$' sh ./proc_script.sh 10
# A failing exec must be seen as a failure
if ./proc_forkexec 2 ./proc-no-such-program 2>&1 | grep -q 'failed=2'; then
    echo "PASS: proc_forkexec counts failed execs"
else
    echo "FAIL: proc_forkexec counts failed execs"
    failed=1
fi
exit "$failed"
