#!/bin/bash
# tests/dos/dos_boot.sh: boot a DOS floppy image, answer its prompts through
# the PS/2 keyboard and check the VGA text screen, on fox86 or on QEMU.
#
# usage: dos_boot.sh EMULATOR IMAGE RAM_MB STEP...
#   EMULATOR  path to fox86 or qemu-system-i386 (told apart by its name)
#   STEP      one of:                  wait:TEXT   (the screen shows TEXT)
#                                       waitn:N:TEXT (TEXT appears N times)
#                                       end:TEXT     (the last non-blank line ends with TEXT:
#                                                     a prompt waiting for its answer)
#                                       answer:DONE|PROMPT=KEYS|...  (answer each prompt that
#                                                     ends the last line with its keys, until
#                                                     the last line ends with DONE)
#                                       sleep:SECONDS
#                                       type:WORDS   (sendkey names, space separated)
#                                       command:WORD (type WORD at the prompt, see it echoed,
#                                                     then press Enter; lower-case letters)
# The screen is read through the monitor: fox86's "info text", QEMU's
# "xp" of the text buffer at 0xB8000 (80x25). Exit: 0 pass, 1 fail, 77 skip.
set -u
emu=$1 image=$2 ram=$3
shift 3
steps=("$@")
timeout_s=${DOS_TIMEOUT:-120}

[ -r "$image" ] || { echo "SKIP: $image not present"; exit 77; }
command -v "$emu" >/dev/null 2>&1 || [ -x "$emu" ] || { echo "SKIP: $emu not found"; exit 77; }

case "$(basename "$emu")" in
    qemu*) kind=qemu
           args=(-accel tcg -m "$ram" -drive "file=$image,if=floppy,format=raw,readonly=on"
                 -boot a -display none -serial null -monitor stdio -no-reboot) ;;
    *)     kind=fox86
           args=(-m "$ram" -fda "$image" -snapshot -boot a -display none -serial null
                 -monitor stdio -no-reboot) ;;
esac

coproc EMU { exec "$emu" "${args[@]}" 2>&1; }
emu_pid=$EMU_PID
trap 'kill $emu_pid 2>/dev/null; wait $emu_pid 2>/dev/null' EXIT

send() { printf '%s\n' "$1" >&"${EMU[1]}"; }

# Everything the emulator prints until it has been quiet for a moment.
drain() {
    out=""
    local line
    while IFS= read -r -t 0.5 line <&"${EMU[0]}"; do out+="$line"$'\n'; done
}

# The 80x25 text screen into $screen.
read_screen() {
    if [ $kind = fox86 ]; then
        send "info text"; drain; screen=$out
    else
        send "xp /2000hx 0xb8000"; drain
        screen=$(printf '%s' "$out" | tr -d '\r' | awk '
            function hex(s,   i, v) { v = 0; s = tolower(s); sub(/^0x/, "", s)
                                      for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
                                      return v }
            /^[0-9a-f]+:/ { for (i = 2; i <= NF; i++) { v = hex($i) % 256;
                            line = line sprintf("%c", (v >= 32 && v < 127) ? v : 32);
                            if (++n % 80 == 0) { sub(/ +$/, "", line); print line; line = "" } } }')
    fi
}

wait_end() {   # text
    local text=$1 deadline=$((SECONDS + timeout_s))
    while [ $SECONDS -lt $deadline ]; do
        read_screen
        local last
        last=$(printf '%s\n' "$screen" | tr -d '\r' | grep -v '^(fox86)' | sed 's/ *$//' | grep -v '^$' | tail -n 1)
        case $last in *"$text") return 0 ;; esac
        kill -0 $emu_pid 2>/dev/null || { echo "emulator exited"; return 1; }
        sleep 1
    done
    return 1
}

last_line() {
    printf '%s\n' "$screen" | tr -d '\r' | grep -v '^(fox86)' | sed 's/ *$//' | grep -v '^$' | tail -n 1
}

answer() {   # "DONE|PROMPT=KEYS|PROMPT=KEYS"
    local spec=$1 done_text=${1%%|*} deadline=$((SECONDS + timeout_s)) answered=0
    local give_up=$((SECONDS + 4 * timeout_s))   # a prompt that never takes its key
    IFS='|' read -ra rules <<<"${spec#*|}"
    while [ $SECONDS -lt $deadline ] && [ $SECONDS -lt $give_up ] && [ $answered -lt 30 ]; do
        read_screen
        local last rule hit=0
        last=$(last_line)
        case $last in *"$done_text") echo "PASS: reached '$done_text' after $answered answers"; return 0 ;; esac
        for rule in "${rules[@]}"; do
            case $last in *"${rule%%=*}")
                for key in ${rule#*=}; do send "sendkey $key"; sleep 0.1; done
                answered=$((answered + 1)); hit=1; deadline=$((SECONDS + timeout_s)); break ;;
            esac
        done
        kill -0 $emu_pid 2>/dev/null || { echo "emulator exited"; return 1; }
        [ $hit = 1 ] || sleep 1
        drain
    done
    echo "FAIL: no '$done_text' after ${timeout_s}s:"; printf '%s\n' "$screen"
    return 1
}

wait_text() {   # count text
    local want=$1 text=$2 deadline=$((SECONDS + timeout_s))
    while [ $SECONDS -lt $deadline ]; do
        read_screen
        local got
        got=$(printf '%s' "$screen" | grep -cF -- "$text")
        [ "$got" -ge "$want" ] && return 0
        kill -0 $emu_pid 2>/dev/null || { echo "emulator exited"; return 1; }
        sleep 1
    done
    return 1
}

# A key pressed while DOS is still setting up its prompt can be dropped (seen
# once on QEMU with EMM386 on a loaded host: "ver" arrived as "er"), so the
# command is typed, checked on the screen, and erased and typed again if the
# line does not read back; Enter is pressed only on a line that reads back.
command_line() {   # word
    local word=$1 try c i last
    for try in 1 2 3; do
        for ((i = 0; i < ${#word}; i++)); do send "sendkey ${word:i:1}"; sleep 0.3; done
        local deadline=$((SECONDS + 10))
        while [ $SECONDS -lt $deadline ]; do
            drain; read_screen; last=$(last_line)
            case $last in *">$word")
                send "sendkey ret"; sleep 0.3; drain
                echo "PASS: typed '$word' (attempt $try)"; return 0 ;;
            esac
            kill -0 $emu_pid 2>/dev/null || { echo "emulator exited"; return 1; }
            sleep 1
        done
        echo "typed '$word', the line reads '$last': erasing it"
        c=${last##*>}
        for ((i = 0; i < ${#c}; i++)); do send "sendkey backspace"; sleep 0.1; done
        sleep 2
    done
    echo "FAIL: '$word' never read back on the command line:"; printf '%s\n' "$screen"
    return 1
}

for step in "${steps[@]}"; do
    case $step in
        wait:*)  text=${step#wait:}
                 if wait_text 1 "$text"; then echo "PASS: screen shows '$text'"
                 else echo "FAIL: no '$text' on the screen after ${timeout_s}s:"; printf '%s\n' "$screen"; exit 1; fi ;;
        waitn:*) rest=${step#waitn:}; n=${rest%%:*}; text=${rest#*:}
                 if wait_text "$n" "$text"; then echo "PASS: screen shows '$text' $n times"
                 else echo "FAIL: '$text' not $n times after ${timeout_s}s:"; printf '%s\n' "$screen"; exit 1; fi ;;
        end:*)   text=${step#end:}
                 if wait_end "$text"; then echo "PASS: prompt '$text'"
                 else echo "FAIL: no prompt '$text' after ${timeout_s}s:"; printf '%s\n' "$screen"; exit 1; fi ;;
        answer:*) answer "${step#answer:}" || exit 1 ;;
        sleep:*) sleep "${step#sleep:}"; drain ;;
        command:*) command_line "${step#command:}" || exit 1 ;;
        type:*)  for key in ${step#type:}; do send "sendkey $key"; sleep 0.3; done; drain ;;
        *)       echo "bad step '$step'"; exit 2 ;;
    esac
done
read_screen
printf '%s\n' "--- final screen ---" "$screen"
echo "PASS"
exit 0
