#!/bin/sh
# tests/baremetal/test_cli.sh: bad input to fox86 must give exit status 1 and
# exactly one line on stderr, starting with "fox86: " (and nothing on stdout);
# --help and --version exit 0.
#
#   test_cli.sh FOX86 GOOD_KERNEL NON_MULTIBOOT_ELF WORKDIR
set -u
fox86=$1 good=$2 nomb=$3 work=$4
mkdir -p "$work"
failed=0

# expect_error NAME ARGS...: run fox86 with ARGS and judge it
expect_error() {
    name=$1
    shift
    "$fox86" "$@" </dev/null >"$work/out" 2>"$work/err"
    status=$?
    lines=$(wc -l <"$work/err")
    if [ "$status" -ne 1 ] || [ "$lines" -ne 1 ] || ! head -n 1 "$work/err" | grep -q '^fox86: ' \
       || [ -s "$work/out" ]; then
        echo "FAIL $name: status $status, $lines stderr line(s):"
        sed 's/^/  ! /' "$work/err"
        sed 's/^/  > /' "$work/out"
        failed=$((failed + 1))
    else
        echo "ok   $name: $(cat "$work/err")"
    fi
}

expect_success() {
    name=$1
    shift
    if "$fox86" "$@" </dev/null >"$work/out" 2>"$work/err" && [ -s "$work/out" ]; then
        echo "ok   $name"
    else
        echo "FAIL $name: status $?"
        failed=$((failed + 1))
    fi
}

: >"$work/empty.elf"
head -c 300 "$good" >"$work/head300.elf"
head -c 5000 "$good" >"$work/truncated.elf"
head -c 3000000 /dev/zero >"$work/big.module"
head -c 1024 /dev/zero >"$work/bzImage"
printf 'HdrS' | dd of="$work/bzImage" bs=1 seek=514 conv=notrunc 2>/dev/null

expect_error "unknown option"          -bogus-option
expect_error "unknown long option"     --frobnicate
expect_error "missing argument"        -kernel
expect_error "-initrd without -kernel"  -m 64 -initrd "$good"
expect_error "missing file"            -kernel "$work/does-not-exist.elf"
expect_error "unreadable path"         -kernel "$work"
expect_error "empty file"              -kernel "$work/empty.elf"
expect_error "truncated ELF"           -kernel "$work/truncated.elf"
expect_error "truncated before header" -kernel "$work/head300.elf"
expect_error "non-multiboot ELF"       -kernel "$nomb"
expect_error "Linux bzImage"           -kernel "$work/bzImage"
expect_error "bad -m"                  -m lots -kernel "$good"
expect_error "-m too small"            -m 1 -kernel "$good"
expect_error "bad -mmu"                -mmu fast -kernel "$good"
expect_error "bad --savevm-check"      --savevm-check often -kernel "$good"
expect_error "module outside RAM"      -m 2 -kernel "$good" -initrd "$work/big.module"
if command -v objcopy >/dev/null 2>&1 \
   && objcopy --change-addresses 0x20000000 "$good" "$work/high.elf" 2>/dev/null; then
    expect_error "segment outside RAM"  -m 64 -kernel "$work/high.elf"
fi
expect_error "unknown -device"         -device e1000 -kernel "$good"
expect_error "bad isa-debug-exit prop" -device isa-debug-exit,iobase=zz -kernel "$good"
expect_error "bad -serial"             -serial tcp:1234 -kernel "$good"
expect_error "bad -d item"             -d nonsense -kernel "$good"
expect_error "bad -accel"              -accel kvm -kernel "$good"
expect_error "bad -machine"            -M q35 -kernel "$good"
expect_error "missing module"          -kernel "$good" -initrd "$work/no-such-module"
expect_error "unwritable -D"           -D /nonexistent-dir/log -d int -kernel "$good"
expect_error "unwritable debugcon"     -debugcon file:/nonexistent-dir/x -kernel "$good"
expect_error "stray argument (a missing -hda)" disk.img
head -c 1000 /dev/zero >"$work/odd.img"
head -c 4096 /dev/zero >"$work/small.img"
expect_error "missing -hda"            -hda "$work/no-such-disk.img"
expect_error "directory as -hda"       -hda "$work"
expect_error "empty -hda"              -hda "$work/empty.elf"
expect_error "bad -drive format"       -drive "file=$work/small.img,format=qcow2"
expect_error "bad -drive property"     -drive "file=$work/small.img,cache=none,speed=9"
expect_error "odd-sized -cdrom"        -cdrom "$work/odd.img"
expect_error "odd-sized -fda"          -fda "$work/small.img"
expect_error "bad -boot"               -boot z
expect_error "missing -bios"           -bios "$work/no-such-bios.bin"
expect_error "bad -bios size"          -bios "$work/odd.img"
expect_error "missing -option-rom"     -option-rom "$work/no-such.rom"
expect_error "bad -option-rom"         -option-rom "$work/small.img"
expect_error "tcp serial: bad port"    -serial tcp:127.0.0.1:0,server -kernel "$good"
expect_error "tcp serial: bad host"    -serial tcp:nowhere:4555,server,nowait -kernel "$good"
expect_error "tcp serial: client mode" -serial tcp:127.0.0.1:4555 -kernel "$good"
expect_error "bad -rtc"                -rtc base=yesterday
expect_error "-monitor on serial's stdio" -monitor stdio
expect_error "two -hda"                -hda "$work/small.img" -hda "$work/small.img"
expect_success "--help"                --help
expect_success "--version"             --version
expect_success "-d help"               -d help

if [ "$failed" -ne 0 ]; then
    echo "$failed case(s) failed"
    exit 1
fi
echo "all command-line error cases behave"
