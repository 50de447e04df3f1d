# bench/guest_console.sh: the serial-console driver shared by the guest
# benches (mmu.sh, guestcpu.sh); sourced, not run.
#
# An emulator runs with its serial console on two fifos: what the bench
# types goes to fd 3, and every line the guest prints is stored in $log
# with its host arrival time (epoch seconds with microseconds) in front.
# Globals: log (the console log), emu_pid, stamp_pid, boot_timeout, work.
#
#   console_workdir NAME                  a temporary $work, removed at exit
#                                         (kept with BENCH_KEEP=1), and
#                                         the emulator killed if still up
#   console_boot DIR EMULATOR_COMMAND...  start it; 0 at the ready line,
#                                         else 1 after saying why
#   send 'm S %s; cmd; m E %s $?\n' ...   type on the console
#   wait_for REGEX SECONDS                until a line matches
#   line_time REGEX                       when the first such line came
#   console_poweroff                      poweroff -f, wait (or kill);
#                                         the exit status in emu_status

now() { echo "$EPOCHREALTIME"; }
# (awk's printf: mawk prints too few digits for epoch seconds)
calc() { awk "BEGIN { printf \"%.6f\", $* }"; }
less_than() { awk "BEGIN { exit !($1 < $2) }"; }

# stamp: copies lines from stdin, each prefixed with its arrival time and
# without its carriage return
stamp() {
    local line
    while IFS= read -r line || [ -n "$line" ]; do
        printf '%s %s\n' "$EPOCHREALTIME" "${line%$'\r'}"
    done
}

log="" emu_pid="" stamp_pid="" emu_status=0 work=""

console_cleanup() {
    { exec 3>&-; } 2>/dev/null || true
    for p in $emu_pid $stamp_pid; do
        kill "$p" 2>/dev/null && { sleep 0.3; kill -0 "$p" 2>/dev/null && kill -9 "$p" 2>/dev/null; }
    done
    if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "logs kept in $work"; else rm -rf "$work"; fi
}
console_workdir() {
    work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    trap console_cleanup EXIT
    trap 'exit 130' INT TERM
    # typing into an emulator that has exited must not kill the bench
    trap '' PIPE
}
send() { printf "$@" >&3 2>/dev/null || true; }
alive() { kill -0 "$emu_pid" 2>/dev/null; }
wait_for() {
    local deadline
    deadline=$(calc "$(now) + $2")
    while ! cut -d' ' -f2- "$log" | grep -aqE "$1"; do
        alive || { sleep 0.3; cut -d' ' -f2- "$log" | grep -aqE "$1"; return; }
        less_than "$(now)" "$deadline" || return 1
        sleep 0.1
    done
}
line_time() { grep -aE "^[0-9.]+ $1" "$log" | head -1 | cut -d' ' -f1; }

# console_boot DIR EMULATOR_COMMAND...: fifos, log and stderr in DIR
console_boot() {
    local dir=$1 t0 why
    shift
    log=$dir/console.log
    mkfifo "$dir/in" "$dir/out"
    : >"$log"
    stamp <"$dir/out" >"$log" &
    stamp_pid=$!
    "$@" <"$dir/in" >"$dir/out" 2>"$dir/stderr" &
    emu_pid=$!
    exec 3>"$dir/in"
    t0=$(now)
    if ! wait_for 'FOX86-GUEST-READY' "$boot_timeout"; then
        alive && why="no ready line in $boot_timeout s" || why="emulator exited"
        echo "  boot: FAILED ($why); last console lines:"
        cut -d' ' -f2- "$log" | tail -5 | sed 's/^/    /'
        return 1
    fi
    printf '  boot: %.1f s to the ready line\n' "$(calc "$(line_time 'FOX86-GUEST-READY') - $t0")"
}

console_poweroff() {
    local deadline
    send 'poweroff -f\n'
    exec 3>&-
    deadline=$(calc "$(now) + 60")
    while alive && less_than "$(now)" "$deadline"; do sleep 0.2; done
    if alive; then
        echo "  poweroff: the emulator still runs after 60 s; killed"
        kill "$emu_pid" 2>/dev/null; sleep 0.5; kill -9 "$emu_pid" 2>/dev/null
    fi
    emu_status=0
    wait "$emu_pid" 2>/dev/null || emu_status=$?
    wait "$stamp_pid" 2>/dev/null
    emu_pid="" stamp_pid=""
}
