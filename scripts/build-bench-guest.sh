#!/usr/bin/env bash
# scripts/build-bench-guest.sh: fetches the Debian bookworm i386 programs
# that bench/guestcpu.sh runs in the guest and natively, and stages them
# into one root:
#
#   $FOX86_CACHE/bench/  (FOX86_CACHE defaults to ~/.cache/fox86)
#     debs/          the .debs, each checked against the SHA256 of the index
#     root/          dpkg-deb -x of all of them, trimmed (docs, locales, gconv)
#     versions.txt   package, version, SHA256 per line
#
#   scripts/build-bench-guest.sh     (re-running with everything there does nothing;
#                                     FOX86_BENCH_REBUILD=1 re-stages from the .debs)
#
# The package index is the one scripts/build-guest.sh pinned in
# $FOX86_CACHE/guest/Packages.xz (read only; the guest cache is never
# written), so the libc matches the guest's. The Depends: chains, resolved
# by hand from that index (bookworm main, i386):
#   xz-utils -> liblzma5, libc6          gzip -> libc6
#   openssl  -> libssl3, libc6           lua5.4 -> libreadline8, libc6
#   libreadline8 -> libtinfo6 (readline-common holds only data: left out)
#   libc6 -> libgcc-s1 (gcc-12-base holds only docs: left out)
# lua5.4's interpreter has the Lua core linked in (no liblua5.4-0).
# Nothing runs as root and the host's dpkg/apt state is not touched.
set -eu

mirror=${FOX86_DEBIAN_MIRROR:-http://deb.debian.org/debian}
top=${FOX86_CACHE:-$HOME/.cache/fox86}
index_xz=$top/guest/Packages.xz
cache=$top/bench
packages="libc6 libgcc-s1 xz-utils liblzma5 gzip openssl libssl3 lua5.4 libreadline8 libtinfo6"
script_sum=$(sha256sum "$0" | cut -d' ' -f1)

log() { echo "build-bench-guest: $*"; }
die() { echo "build-bench-guest: error: $*" >&2; exit 1; }

if [ "${FOX86_BENCH_REBUILD:-0}" != 1 ] && [ -s "$cache/versions.txt" ] &&
   [ "$(cat "$cache/.stamp" 2>/dev/null)" = "$script_sum" ]; then
    log "already staged in $cache/root, nothing to do"
    exit 0
fi
[ -s "$index_xz" ] || die "$index_xz missing: run scripts/build-guest.sh first (it pins the package index)"
for t in curl xz dpkg-deb sha256sum; do
    command -v "$t" >/dev/null 2>&1 || die "$t not found (apt-get install curl xz-utils dpkg)"
done

mkdir -p "$cache/debs"
work=$(mktemp -d "$cache/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
index=$work/Packages
re=$(echo "$packages" | sed 's/ /|/g; s/\./\\./g')
xz -dc "$index_xz" | awk -v re="^($re)\$" '/^Package: / { keep = ($2 ~ re) } keep' >"$index"

# field PACKAGE FIELD: FIELD of PACKAGE's stanza in the index
field() {
    awk -v pkg="$1" -v fld="$2:" '
        $1 == "Package:" { inpkg = ($2 == pkg) }
        inpkg && $1 == fld { sub(/^[^:]*: */, ""); print; exit }' "$index"
}

# fetch PACKAGE: downloads the .deb into debs/ once, verifies it, prints its path
fetch() {
    local file sum deb
    file=$(field "$1" Filename)
    sum=$(field "$1" SHA256)
    [ -n "$file" ] && [ -n "$sum" ] || die "package $1 not in $index_xz"
    deb=$cache/debs/$(basename "$file")
    if [ ! -s "$deb" ] || [ "$(sha256sum "$deb" | cut -d' ' -f1)" != "$sum" ]; then
        log "downloading $(basename "$file") ($(field "$1" Size) bytes)" >&2
        curl -sSfL -o "$work/dl.deb" "$mirror/$file" || die "cannot download $mirror/$file"
        [ "$(sha256sum "$work/dl.deb" | cut -d' ' -f1)" = "$sum" ] || die "SHA256 mismatch for $file"
        mv "$work/dl.deb" "$deb"
    fi
    echo "$deb"
}

root=$work/root
mkdir -p "$root"
: >"$work/versions.txt"
for p in $packages; do
    deb=$(fetch "$p")
    dpkg-deb -x "$deb" "$root"
    printf '%s %s %s\n' "$p" "$(field "$p" Version)" "$(field "$p" SHA256)" >>"$work/versions.txt"
done
# Only programs and libraries go into the guest's RAM: no docs, man pages,
# locales, charset converters or audit/debug helpers
rm -rf "$root/usr/share" "$root/usr/lib/i386-linux-gnu/gconv" "$root/usr/lib/i386-linux-gnu/audit" \
       "$root/etc/ld.so.conf.d" "$root/usr/libexec" "$root/sbin" "$root/usr/sbin"
rm -rf "$cache/root"
mv "$root" "$cache/root"
mv "$work/versions.txt" "$cache/versions.txt"
echo "$script_sum" >"$cache/.stamp"
log "staged $(du -sh "$cache/root" | cut -f1) in $cache/root:"
sed 's/^/  /' "$cache/versions.txt" | cut -d' ' -f1-4
