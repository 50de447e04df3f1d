#!/bin/sh
# tests/sdl/test_sdl_window.sh: the SDL window (-display sdl) under Xvfb.
#
#   test_sdl_window.sh FOX86 KBD_ECHO_KERNEL OUTDIR
#
# Checks, first that SeaBIOS's text screen shows in a 720x400 window (needs
# xwd and python3), then with tests/baremetal/kbd_echo.c as the guest (it prints every
# byte of the keyboard controller on port 0xE9 and exits with status 33 on
# the break code of Esc):
#   - without a display (none set, or one that cannot be opened), -display
#     sdl is one "fox86: ..." line and status 1, and the default display
#     falls back to none (the guest runs);
#   - under xvfb-run the window appears (xdotool search --name fox86) and
#     its title gives the speed in MIPS;
#   - keys typed with xdotool reach the guest as the right set-1 bytes
#     (letters, extended keys, Print Screen, Pause, keypad Enter and /,
#     Delete), Ctrl+Alt+G grabs (the title says so, G is not sent) and the
#     mouse then moves the guest's PS/2 mouse;
#   - V makes the guest set the Bochs VBE mode 1920x1080x32 and draw: the
#     window takes that size and shows the picture (dumped with xwd, read
#     by xwd_pixel.py; the pixel check needs xwd (x11-apps) and python3);
#   - Ctrl+Alt+F is not sent to the guest (full screen itself needs a
#     window manager, which Xvfb lacks);
#   - Ctrl+Alt+S writes a 1920x1080 PNG screenshot into the current
#     directory and is not sent to the guest either;
#   - Esc ends the guest and fox86 exits with its status.
# Skips (exit 77) without xvfb-run or xdotool (Debian: xvfb, xdotool).
set -u
fox86=$1 kernel=$2 outdir=$3

if [ "${SDL_TEST_INNER:-}" != 1 ]; then
    for tool in xvfb-run xdotool; do
        if ! command -v $tool >/dev/null 2>&1; then
            echo "SKIP: $tool is not installed (apt-get install xvfb xdotool)"
            exit 77
        fi
    done
    mkdir -p "$outdir"
    # without any display: -display sdl is an error, the default falls back
    env -u DISPLAY -u WAYLAND_DISPLAY timeout 20 "$fox86" -kernel "$kernel" -display sdl \
        >"$outdir/nodisplay.out" 2>"$outdir/nodisplay.err"
    status=$?
    if [ $status -ne 1 ] || [ "$(wc -l <"$outdir/nodisplay.err")" -ne 1 ] \
       || ! grep -q '^fox86: -display sdl: no display available' "$outdir/nodisplay.err"; then
        echo "FAIL: -display sdl without a display: status $status (want 1), stderr:"
        cat "$outdir/nodisplay.err"
        exit 1
    fi
    # a display that cannot be opened: also one line, status 1
    DISPLAY=:4242 timeout 20 "$fox86" -kernel "$kernel" -display sdl \
        >"$outdir/baddisplay.out" 2>"$outdir/baddisplay.err"
    status=$?
    if [ $status -ne 1 ] || [ "$(wc -l <"$outdir/baddisplay.err")" -ne 1 ] \
       || ! grep -q '^fox86: -display sdl: cannot open a window: SDL: ' "$outdir/baddisplay.err"; then
        echo "FAIL: -display sdl with an unreachable DISPLAY: status $status (want 1), stderr:"
        cat "$outdir/baddisplay.err"
        exit 1
    fi
    rm -f "$outdir/fallback.txt"
    DISPLAY=:4242 timeout 5 "$fox86" -kernel "$kernel" -debugcon "file:$outdir/fallback.txt" \
        >"$outdir/fallback.out" 2>"$outdir/fallback.err"
    if ! grep -q '^ready' "$outdir/fallback.txt" 2>/dev/null; then
        echo "FAIL: with an unreachable DISPLAY the default display did not fall back to none:"
        cat "$outdir/fallback.err"
        exit 1
    fi
    echo "ok: no display: -display sdl fails with one line, the default falls back"
    # -noreset: Xvfb otherwise resets when its last client leaves, and a
    # window opened during the reset finds no X server ("x11 not available")
    SDL_TEST_INNER=1 exec xvfb-run -a -s "-noreset -screen 0 2048x1280x24" sh "$0" "$@"
fi

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds
wait_for() {
    limit=$(( $1 * 10 ))
    shift
    i=0
    while ! "$@" >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -ge $limit ] && return 1
        sleep 0.1
    done
    return 0
}

# ---- inside xvfb-run ----
# A text mode: SeaBIOS's screen (no disk: "No bootable device") in a
# 720x400 window with text on it
if command -v python3 >/dev/null 2>&1 && command -v xwd >/dev/null 2>&1; then
    timeout 60 "$fox86" -display sdl -m 32 -serial null >"$outdir/bios.out" 2>"$outdir/bios.err" &
    bios_pid=$!
    if ! wait_for 20 sh -c "xdotool search --name '^fox86' getwindowgeometry %1 | grep -q 'Geometry: 720x400'"; then
        kill $bios_pid; wait $bios_pid
        echo "FAIL: SeaBIOS: no 720x400 window"; exit 1
    fi
    bios_wid=$(xdotool search --name '^fox86' | head -n 1)
    lit=0 i=0
    while [ "$lit" -lt 1000 ] && [ $i -lt 40 ]; do   # until its messages are up
        sleep 0.5
        i=$((i + 1))
        xwd -id "$bios_wid" -silent >"$outdir/bios.xwd" 2>/dev/null &&
            lit=$(python3 "$(dirname "$0")/xwd_pixel.py" "$outdir/bios.xwd" lit | tail -n 1)
    done
    kill $bios_pid; wait $bios_pid
    [ "$lit" -ge 1000 ] || { echo "FAIL: SeaBIOS text screen: $lit lit pixels"; exit 1; }
    echo "ok: text mode: SeaBIOS in a 720x400 window, $lit lit pixels"
    wait_for 10 sh -c "! xdotool search --name '^fox86'" || { echo "FAIL: SeaBIOS window stays"; exit 1; }
fi

transcript=$outdir/kbd_echo.txt
rm -f "$transcript"
# run in $outdir: Ctrl+Alt+S writes its screenshot to the current directory
cd "$outdir" || exit 1
"$fox86" -kernel "$kernel" -display sdl -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -no-reboot -serial null -debugcon "file:$transcript" >"$outdir/fox86.out" 2>"$outdir/fox86.err" &
pid=$!

fail() {
    echo "FAIL: $*"
    echo "transcript:"; sed 's/^/  | /' "$transcript" 2>/dev/null | tr '\n' ' '; echo
    echo "stderr:"; sed 's/^/  ! /' "$outdir/fox86.err"
    kill $pid 2>/dev/null
    wait $pid 2>/dev/null
    exit 1
}

wait_for 20 xdotool search --name '^fox86' || fail "no window named fox86 appeared"
wid=$(xdotool search --name '^fox86' | head -n 1)
wait_for 20 grep -q '^ready' "$transcript" || fail "the guest did not start"
# the guest polls the controller: its speed shows within a second or two
wait_for 5 sh -c "xdotool getwindowname $wid | grep -q -E '^fox86 - [1-9][0-9]*\.[0-9] MIPS'" \
    || fail "the title has no MIPS figure: $(xdotool getwindowname $wid)"
echo "ok: window $wid, title \"$(xdotool getwindowname $wid)\""
xdotool windowfocus --sync "$wid" 2>/dev/null || xdotool windowfocus "$wid"
sleep 0.3

# keys: expected set-1 bytes (the controller translates as after reset)
xdotool key --delay 60 a b Up Print Pause KP_Enter KP_Divide Delete
expect_keys="1e 9e 30 b0 e0 48 e0 c8 e0 2a e0 37 e0 b7 e0 aa e1 1d 45 e1 9d c5 e0 1c e0 9c e0 35 e0 b5 e0 53 e0 d3"
bytes() { grep -v -e '^ready' -e '^m' "$transcript" | tr '\n' ' '; }
wait_for 5 sh -c "grep -v -e '^ready' -e '^m' '$transcript' | tr '\n' ' ' | grep -q '$expect_keys'" \
    || fail "keys: want \"$expect_keys\", guest got \"$(bytes)\""
echo "ok: keys reached the guest: $expect_keys"

# Ctrl+Alt+G grabs: the title says so, and the guest sees no G (0x22)
xdotool key ctrl+alt+g
wait_for 5 sh -c "xdotool getwindowname $wid | grep -q 'releases the pointer'" \
    || fail "Ctrl+Alt+G: the title does not show the grab: $(xdotool getwindowname $wid)"
sleep 0.2
bytes | grep -q -e ' 22 ' -e ' a2 ' && fail "Ctrl+Alt+G: the guest saw the G key"
echo "ok: Ctrl+Alt+G grabbed: \"$(xdotool getwindowname $wid)\""

# the grabbed mouse: motion and a click reach the PS/2 mouse (FA is the
# answer to the kernel's enable; a packet follows)
xdotool mousemove_relative -- 15 10
sleep 0.2
xdotool click 1
wait_for 5 sh -c "grep '^m' '$transcript' | grep -v '^mfa' | grep -q ." \
    || fail "mouse: no packet reached the guest (mouse bytes: $(grep '^m' "$transcript" | tr '\n' ' '))"
echo "ok: mouse packets: $(grep '^m' "$transcript" | tr '\n' ' ')"

# Ctrl+Alt+G again releases
xdotool key ctrl+alt+g
wait_for 5 sh -c "! xdotool getwindowname $wid | grep -q 'releases the pointer'" \
    || fail "second Ctrl+Alt+G did not release the grab"

# V: the guest switches to VBE 1920x1080x32 and draws; the window follows
# the mode's size and shows the picture (left red, right blue, white square)
xdotool key v
wait_for 20 grep -q '^vbe drawn' "$transcript" || fail "the guest did not draw the VBE picture"
wait_for 5 sh -c "xdotool getwindowgeometry $wid | grep -q 'Geometry: 1920x1080'" \
    || fail "the window did not follow the VBE mode: $(xdotool getwindowgeometry $wid | tr '\n' ' ')"
if command -v python3 >/dev/null 2>&1 && command -v xwd >/dev/null 2>&1; then
    sleep 0.3                                # a frame is at most 1/60 s old
    xwd -id "$wid" -silent >"$outdir/vbe.xwd" 2>/dev/null \
        || fail "xwd could not dump the window (Debian: x11-apps)"
    pixels=$(python3 "$(dirname "$0")/xwd_pixel.py" "$outdir/vbe.xwd" 10,10 500,500 1500,900 | tr '\n' ' ')
    [ "$pixels" = "1920x1080 FFFFFF FF0000 0000FF " ] \
        || fail "VBE picture: want \"1920x1080 FFFFFF FF0000 0000FF\", window shows \"$pixels\""
    echo "ok: VBE 1920x1080x32 shown: $pixels"
else
    echo "ok: VBE 1920x1080x32: window resized (python3 or xwd missing: pixels not checked)"
fi

# Ctrl+Alt+F toggles full screen (through the window manager's
# _NET_WM_STATE: Xvfb has none, so only that the hotkey is not sent, the F
# key being 0x21, and that the window lives on are checked)
xdotool key ctrl+alt+f
sleep 0.2
xdotool key ctrl+alt+f
sleep 0.2
bytes | grep -q -e ' 21 ' -e ' a1 ' && fail "Ctrl+Alt+F: the guest saw the F key"
xdotool getwindowname "$wid" >/dev/null 2>&1 || fail "Ctrl+Alt+F: the window went away"
echo "ok: Ctrl+Alt+F not sent to the guest"

# Ctrl+Alt+S: a PNG of the guest screen in fox86's directory (the VBE
# picture: 1920x1080), the S key (0x1F) not sent
rm -f "$outdir"/fox86-*.png
xdotool key ctrl+alt+s
wait_for 10 sh -c "ls '$outdir'/fox86-*.png >/dev/null 2>&1" || fail "Ctrl+Alt+S: no screenshot file"
shot=$(ls "$outdir"/fox86-*.png | head -n 1)
if command -v python3 >/dev/null 2>&1; then
    size=$(python3 -c "import struct,sys; d=open(sys.argv[1],'rb').read(24); print('%dx%d' % struct.unpack('>II', d[16:24]) if d[:8]==b'\x89PNG\r\n\x1a\n' else 'not-png')" "$shot")
    [ "$size" = "1920x1080" ] || fail "Ctrl+Alt+S: $shot is $size, want a 1920x1080 PNG"
fi
grep -q "screenshot saved to fox86-" "$outdir/fox86.err" || fail "Ctrl+Alt+S: no message on stderr"
bytes | grep -q -e ' 1f ' -e ' 9f ' && fail "Ctrl+Alt+S: the guest saw the S key"
echo "ok: Ctrl+Alt+S saved $(basename "$shot") (1920x1080), not sent to the guest"

# Esc: the guest exits (status 33) and the window goes away
xdotool key Escape
i=0
while kill -0 $pid 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 $pid 2>/dev/null && fail "fox86 did not exit after Esc"
wait $pid
status=$?
[ $status -eq 33 ] || fail "exit status $status, want 33"
grep -q '^PASS' "$transcript" || fail "the guest did not finish"
echo "PASS: SDL window, keys, grab, mouse and exit (status 33)"
exit 0
