#!/usr/bin/env bash
# The README's run command: installs what is missing, builds, builds the
# default guest from Debian packages (cached in ~/.cache/fox86) and boots it
# on the serial console: SeaBIOS, then Debian's i386 kernel and a busybox
# shell. "poweroff -f" in the guest (or Ctrl-C) ends it. Extra arguments go
# to fox86 (e.g. -hda ~/.cache/fox86/guest/disk.img).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh Release
scripts/build-guest.sh
guest=${FOX86_CACHE:-$HOME/.cache/fox86}/guest
exec build/frontends/fox86 -m 256 -nographic -kernel "$guest/vmlinuz" -initrd "$guest/initrd.img" \
    -append "$(cat "$guest/cmdline")" "$@"
