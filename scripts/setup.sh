#!/usr/bin/env bash
# Installs every Debian package fox86 needs to build and test, skipping the
# ones already present. Safe to run again. Uses sudo when not root.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config   # toolchain
  gcc-multilib                                   # -m32: bare-metal test kernels, the native sandbox
  libcapstone-dev libelf-dev libsdl2-dev libslirp-dev libpng-dev check
  qemu-system-x86                                # reference machine for differential tests and bench
  seabios                                        # the default BIOS and VGA BIOS
  xvfb xdotool x11-apps                          # the SDL window test (tests/sdl; x11-apps: xwd)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
