# bench/guest_payload.sh: what the guest benches put into the guest and how
# they measure an emulator process; shared by guestcpu.sh, mmu.sh and
# translator.sh. Sourced, not run, from the repository root, after
# guest_console.sh (uses calc, $work, $emu_pid).
#
#   payload_cpu TREE SCALE STAGED   TREE/opt/bench: the staged Debian root,
#                                   cpu_run.sh, cpu_bench.lua, gzip.in and
#                                   xz.in (1/SCALE size); 1 with a message
#                                   when the input cannot be generated
#   payload_proc TREE PROC_DIR      TREE/bench: the proc_* programs
#   initrd_with OUT CPIO            OUT: the cached initrd.img, zero-padded to
#                                   4 bytes, then CPIO (Linux unpacks
#                                   concatenated archives); the cache is
#                                   never written
#   emu_cpu                         CPU seconds (user + system, all threads)
#                                   the emulator used so far
#   emu_peak_rss_mb                 its peak resident set (VmHWM), in MiB
#
# Example:
#   payload_cpu "$work/cpio" 1 "$staged" && payload_proc "$work/cpio" build/bench/proc
#   (cd "$work/cpio" && find . | cpio -o -H newc -R 0:0 --quiet) >"$work/b.cpio"
#   initrd_with "$work/initrd.img" "$work/b.cpio"

payload_cpu() {
    local tree=$1 scale=$2 staged=$3 src=$PWD
    local dir=$tree/opt/bench gzip_kib=$((16384 / $2)) xz_kib=$((2048 / $2))
    mkdir -p "$dir"
    cp -a "$staged" "$dir/root"
    cp "$src/bench/workloads/cpu_run.sh" "$src/bench/workloads/cpu_bench.lua" "$dir/"
    # The binary half of the input: the biggest staged programs and libraries
    (cd "$staged" && "$staged/lib/ld-linux.so.2" \
        --library-path "$staged/lib/i386-linux-gnu:$staged/usr/lib/i386-linux-gnu" \
        "$staged/usr/bin/lua5.4" "$src/bench/workloads/cpu_input.lua" "$gzip_kib" \
        usr/lib/i386-linux-gnu/libcrypto.so.3 lib/i386-linux-gnu/libc.so.6 usr/bin/openssl usr/bin/xz) \
        >"$dir/gzip.in" 2>"$tree.input.err" && [ "$(stat -c %s "$dir/gzip.in")" = $((gzip_kib * 1024)) ] || {
        echo "cannot generate the input (does this host run i386 programs?):"
        cat "$tree.input.err"; return 1; }
    head -c $((xz_kib * 1024)) "$dir/gzip.in" >"$dir/xz.in"
}

payload_proc() {
    mkdir -p "$1/bench"
    cp "$2"/proc_* "$1/bench/"
    chmod 755 "$1/bench"/proc_*
}

initrd_with() {
    local guest=${FOX86_CACHE:-$HOME/.cache/fox86}/guest pad
    cp "$guest/initrd.img" "$1"
    pad=$(( (4 - $(stat -c %s "$1") % 4) % 4 ))
    head -c "$pad" /dev/zero >>"$1"
    cat "$2" >>"$1"
}

emu_cpu() {
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$emu_pid/stat" 2>/dev/null || echo 0
}
emu_peak_rss_mb() {
    awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$emu_pid/status" 2>/dev/null
}
