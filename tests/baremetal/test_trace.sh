#!/bin/sh
# tests/baremetal/test_trace.sh: -d in_asm, -d int and -dfilter on a
# bare-metal kernel that takes exceptions (exceptions.elf).
#
#   test_trace.sh FOX86 KERNEL WORKDIR
#
# Checks: in_asm shows every executed instruction (one line each, from the
# entry point, with its symbol, bytes and Capstone's disassembly): the
# line count lies between --stats' instructions and instructions plus
# exceptions (a faulting instruction is shown but does not retire); -d int
# shows the divide error and the #GP with its error code; with -dfilter
# only EIPs inside the range are shown, and all the range's executions.
set -u
fox86=$1 kernel=$2 work=$3
mkdir -p "$work"
failed=0
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
ok() { echo "ok   $*"; }

# stat NAME FILE: the number after NAME in fox86 --stats output
stat() { awk -v k="$1" 'index($0, "  " k " ") == 1 { print $NF; exit }' "$2"; }

"$fox86" -kernel "$kernel" -nographic -debugcon stdio -d in_asm,int -D "$work/all.log" --stats \
    </dev/null >"$work/all.out" 2>&1 || fail "traced run: exit status $?"
insns=$(stat "instructions executed" "$work/all.out")
excs=$(stat "exceptions taken" "$work/all.out")
lines=$(grep -c '^[0-9a-f]\{4\}:[0-9a-f]\{8\}' "$work/all.log")
if [ -n "$insns" ] && [ -n "$excs" ] && [ "$lines" -ge "$insns" ] && [ "$lines" -le $((insns + excs)) ]; then
    ok "in_asm: $lines lines for $insns instructions and $excs exceptions"
else
    fail "in_asm: $lines lines for ${insns:-?} instructions and ${excs:-?} exceptions"
fi
first=$(grep -m1 '^[0-9a-f]\{4\}:' "$work/all.log")
case $first in
    "0008:00100010 <_start>  fa "*cli) ok "first line: $first" ;;
    *) fail "first line: $first" ;;
esac
grep -q '^int: v=00 e=none cpl=0 at 0008:[0-9a-f]* -> ' "$work/all.log" \
    && ok "int: divide error" || fail "int: no divide error line"
grep -q '^int: v=0d e=[0-9a-f]\{4\} ' "$work/all.log" \
    && ok "int: #GP with its error code" || fail "int: no #GP line"

# the entry's first 16 bytes only: every line inside, and as many as the
# full trace had there
lo=00100010 hi=0010001f
"$fox86" -kernel "$kernel" -nographic -debugcon stdio -d in_asm -dfilter "0x$lo..0x$hi" \
    -D "$work/filtered.log" </dev/null >"$work/filtered.out" 2>&1 || fail "filtered run: exit status $?"
# (string comparisons of 8 hex digits: "x" keeps awk from reading numbers)
inside() { awk -v lo="x$lo" -v hi="x$hi" -F'[: ]' '/^[0-9a-f][0-9a-f][0-9a-f][0-9a-f]:/ {
               n++; if ("x" $2 < lo || "x" $2 > hi) bad++ } END { print n + 0, bad + 0 }' "$1"; }
set -- $(inside "$work/filtered.log")
shown=$1 outside=$2
set -- $(awk -v lo="x$lo" -v hi="x$hi" -F'[: ]' '/^[0-9a-f][0-9a-f][0-9a-f][0-9a-f]:/ &&
             "x" $2 >= lo && "x" $2 <= hi { n++ } END { print n + 0 }' "$work/all.log")
expected=$1
if [ "$shown" -gt 0 ] && [ "$outside" -eq 0 ] && [ "$shown" -eq "$expected" ]; then
    ok "-dfilter: $shown lines, all in $lo..$hi (the full trace had $expected there)"
else
    fail "-dfilter: $shown lines, $outside outside $lo..$hi, the full trace had $expected there"
fi

if [ "$failed" -ne 0 ]; then
    echo "$failed check(s) failed"
    exit 1
fi
echo "tracing behaves"
