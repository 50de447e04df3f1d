#!/usr/bin/env bash
# scripts/build-guest.sh: builds fox86's default test guest, a small i386
# Linux (Debian bookworm's 686 kernel + a busybox initramfs), into a cache
# outside the repository:
#
#   $FOX86_CACHE/guest/  (FOX86_CACHE defaults to ~/.cache/fox86)
#     vmlinuz      the kernel (bzImage)
#     initrd.img   busybox + the disk/CD/NIC modules, /init prints FOX86-GUEST-READY
#     disk.img     64 MiB MBR disk (SYSLINUX's mbr.bin), one active ext2
#                  partition: EXTLINUX booting the same kernel/initrd, and
#                  test data
#     cdrom.iso    ISO 9660, El Torito no-emulation ISOLINUX, same kernel/initrd
#     cmdline      the default kernel command line
#     versions.txt the Debian package versions and SHA256s used
#
# The .debs come from deb.debian.org (bookworm main, i386) with curl; each
# is checked against the SHA256 in the Packages index and kept in debs/.
# The host's dpkg/apt configuration is never changed. Nothing is mounted on
# the host: the disk is populated with mke2fs -d, and EXTLINUX, which only
# installs into a mounted filesystem, is installed by the guest itself,
# booted once on fox86 (so fox86 must be built first: scripts/build.sh;
# FOX86_BIN names another binary). Re-running with everything built
# does nothing; FOX86_GUEST_REBUILD=1 rebuilds from the cached .debs, and
# deleting the cache directory starts over (new package versions).
# See docs/guest.md.
set -eu

mirror=${FOX86_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
cache=${FOX86_CACHE:-$HOME/.cache/fox86}/guest
# Fixed timestamp for every file we put in an image (2023-06-10, bookworm's release)
epoch=1686355200
export SOURCE_DATE_EPOCH=$epoch
script_sum=$(sha256sum "$0" | cut -d' ' -f1)

# The kernel command line for all three boot paths. ttyS0 comes last so it
# is /dev/console: init's output (the ready line) and the shell go to the
# serial port; kernel messages go to both the VGA console and the serial port.
# panic=-1 reboots at once on a panic (QEMU -no-reboot then exits).
# no_timer_check skips the IO-APIC timer self-test, which panics ("IO-APIC +
# timer doesn't work!") when a loaded host starves QEMU's TCG of time.
cmdline="console=tty0 console=ttyS0,115200 panic=-1 no_timer_check"

# Modules loaded by /init (plus their dependencies): PIIX IDE disk and CD,
# ext2/ext4, FAT (floppies, USB-style images), ISO 9660, and the NE2000 PCI NIC.
modules="ata_piix sd_mod sr_mod ext4 crc32c_generic vfat nls_cp437 nls_ascii isofs ne2k_pci"
# Copied but not loaded: the ISA NE2000 driver needs its io= and irq= given
# (/etc/modules.extra lists ne.ko and its dependencies in load order; the
# tests insmod them with "io=0x300 irq=9" on the last one).
extra_modules="ne"

log() { echo "build-guest: $*"; }
die() { echo "build-guest: error: $*" >&2; exit 1; }

outputs="vmlinuz initrd.img disk.img cdrom.iso cmdline versions.txt"
all_built() {
    local f
    for f in $outputs; do [ -s "$cache/$f" ] || return 1; done
    [ "$(cat "$cache/.stamp" 2>/dev/null)" = "$script_sum" ]
}
print_paths() {
    local f
    for f in $outputs; do
        printf '  %-12s %s (%s)\n' "$f" "$cache/$f" "$(du -h --apparent-size "$cache/$f" | cut -f1)"
    done
}

if [ "${FOX86_GUEST_REBUILD:-0}" != 1 ] && all_built; then
    log "guest already built, nothing to do:"
    print_paths
    exit 0
fi
t_start=$(date +%s)

# --- host tools (installed only when missing) --------------------------------
need_pkgs=""
need() {  # need COMMAND PACKAGE
    command -v "$1" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin command -v "$1" >/dev/null 2>&1 || need_pkgs="$need_pkgs $2"
}
need curl curl; need xz xz-utils; need cpio cpio; need gzip gzip
need dpkg-deb dpkg; need xorriso xorriso; need mke2fs e2fsprogs
need sfdisk fdisk
if [ -n "$need_pkgs" ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    log "installing host tools:$need_pkgs"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    # shellcheck disable=SC2086
    $sudo apt-get install -y -qq --no-install-recommends $need_pkgs >/dev/null
fi
export PATH=$PATH:/usr/sbin:/sbin

mkdir -p "$cache/debs"
work=$(mktemp -d "$cache/.work.XXXXXX")
trap '[ -n "${FOX86_GUEST_KEEP_WORK:-}" ] || rm -rf "$work"' EXIT

# --- the package index --------------------------------------------------------
# Packages.xz is kept in the cache so the pinned versions stay the same
# until the cache is deleted (bookworm's point releases replace the kernel
# package); only the stanzas we use are unpacked, into $index.
if [ ! -s "$cache/Packages.xz" ]; then
    log "fetching $mirror/dists/$suite/main/binary-i386/Packages.xz"
    curl -sSfL -o "$work/Packages.xz" "$mirror/dists/$suite/main/binary-i386/Packages.xz"
    mv "$work/Packages.xz" "$cache/Packages.xz"
fi
index=$work/Packages
xz -dc "$cache/Packages.xz" | awk '
    /^Package: / { keep = ($2 ~ /^(linux-image-686|linux-image-6\.1\.[0-9]+-[0-9]+-686|busybox-static|syslinux-common|isolinux|extlinux|libc6)$/) }
    keep' >"$index"

# field PACKAGE FIELD: prints FIELD of PACKAGE's stanza in the index
field() {
    awk -v pkg="$1" -v fld="$2:" '
        $1 == "Package:" { inpkg = ($2 == pkg) }
        inpkg && $1 == fld { sub(/^[^:]*: */, ""); print; exit }' "$index"
}

# The 686 (non-PAE) kernel the linux-image-686 metapackage points at
kpkg=$(field linux-image-686 Depends | grep -o 'linux-image-6\.1\.[^ ,]*-686' | head -1)
[ -n "$kpkg" ] || die "cannot find linux-image-686's kernel in Packages.xz"
# isolinux.bin comes from isolinux; ldlinux.c32 and mbr.bin from syslinux-common;
# the extlinux installer (i386) and the libc it needs run inside the guest.
packages="$kpkg busybox-static syslinux-common isolinux extlinux libc6"

# fetch PACKAGE: downloads the .deb into debs/ (once), verifies its SHA256,
# prints its path
fetch() {
    local file sum deb
    file=$(field "$1" Filename)
    sum=$(field "$1" SHA256)
    if [ -z "$file" ] || [ -z "$sum" ]; then die "package $1 not in Packages.xz"; fi
    deb=$cache/debs/$(basename "$file")
    if [ ! -s "$deb" ] || [ "$(sha256sum "$deb" | cut -d' ' -f1)" != "$sum" ]; then
        log "downloading $(basename "$file") ($(field "$1" Size) bytes)" >&2
        curl -sSfL -o "$work/dl.deb" "$mirror/$file"
        [ "$(sha256sum "$work/dl.deb" | cut -d' ' -f1)" = "$sum" ] || die "SHA256 mismatch for $file"
        mv "$work/dl.deb" "$deb"
    fi
    echo "$deb"
}

: >"$work/versions.txt"
for p in $packages; do
    deb=$(fetch "$p")
    mkdir -p "$work/root/$p"
    dpkg-deb -x "$deb" "$work/root/$p"
    printf '%s %s %s\n' "$p" "$(field "$p" Version)" "$(field "$p" SHA256)" >>"$work/versions.txt"
done
k=$work/root/$kpkg
kver=$(ls "$k/lib/modules")
bb=$work/root/busybox-static/bin/busybox
sl=$work/root/syslinux-common/usr/lib/syslinux
log "kernel $kver, busybox $(field busybox-static Version)"

# --- a) the kernel --------------------------------------------------------------
cp "$k/boot/vmlinuz-$kver" "$work/vmlinuz"

# --- b) the initramfs -----------------------------------------------------------
ir=$work/initramfs
mkdir -p "$ir/bin" "$ir/sbin" "$ir/usr/bin" "$ir/usr/sbin" "$ir/etc" "$ir/proc" "$ir/sys" \
         "$ir/dev" "$ir/tmp" "$ir/mnt" "$ir/root" "$ir/lib/modules/$kver"
cp "$bb" "$ir/bin/busybox"
# Applet links, relative, from the busybox binary's own list (--list-full
# gives e.g. usr/bin/awk). The binary is i386 but runs on an x86-64 host;
# if it cannot, fall back to a fixed list of the applets /init and the tests use.
if applets=$("$bb" --list-full 2>/dev/null) && [ -n "$applets" ]; then :; else
    applets=$(printf 'bin/%s\n' sh ash cat cp dd df dmesg echo grep ls mkdir mknod mount \
        umount rm sed sleep sync uname ln mv touch stty setsid cttyhack insmod lsmod \
        modprobe poweroff reboot halt ps kill head tail wc cut tr find vi ip ifconfig \
        hexdump md5sum sha256sum fdisk blkid free top date env true false test seq)
fi
for a in $applets; do
    case $a in bin/busybox) continue ;; esac
    dir=$(dirname "$a")
    mkdir -p "$ir/$dir"
    case $dir in bin|sbin) rel=../bin/busybox ;; *) rel=../../bin/busybox ;; esac
    ln -sf "$rel" "$ir/$a"
done

# Module load order: depth-first over each module's "depends=" (.modinfo),
# dependencies first. Modules built into the kernel are skipped.
kmods=$k/lib/modules/$kver
declare -A modpath=() loaded=()
while IFS= read -r f; do
    n=$(basename "$f" .ko); modpath[${n//-/_}]=${f#"$kmods"/}
done < <(find "$kmods/kernel" -name '*.ko')
order=""
add_module() {
    local n=${1//-/_} d deps
    [ -z "${loaded[$n]:-}" ] || return 0
    loaded[$n]=1
    if [ -z "${modpath[$n]:-}" ]; then
        grep -q "/$1.ko\$\|/$n.ko\$" "$kmods/modules.builtin" && return 0
        die "module $1 not found in $kver"
    fi
    deps=$(tr '\0' '\n' <"$kmods/${modpath[$n]}" | sed -n 's/^depends=//p' | head -1)
    for d in ${deps//,/ }; do add_module "$d"; done
    order="$order ${modpath[$n]}"
}
# install_modules LIST NAME: the modules of LIST with their dependencies,
# copied into the initramfs and listed in load order in /etc/NAME.
install_modules() {
    local m
    order=""
    for m in $1; do add_module "$m"; done
    : >"$ir/etc/$2"
    for m in $order; do
        mkdir -p "$ir/lib/modules/$kver/$(dirname "$m")"
        cp "$kmods/$m" "$ir/lib/modules/$kver/$m"
        echo "$m" >>"$ir/etc/$2"
    done
    log "$2:$(for m in $order; do printf ' %s' "$(basename "$m" .ko)"; done)"
}
install_modules "$modules" modules.order
install_modules "$extra_modules" modules.extra

# busybox udhcpc runs this script with the lease in its environment:
# configure the interface, the default route and the resolver. Debian's
# busybox looks for it in /etc/udhcpc.
mkdir -p "$ir/etc/udhcpc"
cat >"$ir/etc/udhcpc/default.script" <<'EOF'
#!/bin/sh
case "$1" in
deconfig)
    ifconfig "$interface" 0.0.0.0 up ;;
bound|renew)
    ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up
    for r in $router; do route add default gw "$r" dev "$interface"; break; done
    : >/etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done ;;
esac
exit 0
EOF
chmod 755 "$ir/etc/udhcpc/default.script"

cat >"$ir/init" <<'EOF'
#!/bin/sh
# fox86 test guest init: mount the kernel filesystems, load the disk/CD/NIC
# modules, print the ready line on the console (ttyS0), start a shell.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
kver=$(uname -r)
while read -r m; do
    insmod "/lib/modules/$kver/$m" || echo "init: insmod $m failed"
done </etc/modules.order
# Kernel messages would interleave with the shell's output on ttyS0: keep
# only emergencies on the console from here on ("dmesg" shows the rest),
# unless the command line says "debug".
grep -qw debug /proc/cmdline || echo 1 >/proc/sys/kernel/printk
hostname fox86-guest
echo "FOX86-GUEST-READY $kver"
# A one-shot job (build-guest.sh's EXTLINUX installer) comes as /autorun in
# an extra initramfs archive: run it, then power off.
if [ -x /autorun ]; then /autorun; sync; poweroff -f; fi
# cttyhack opens the real terminal behind /dev/console so job control works;
# respawn the shell if it exits.
while true; do setsid cttyhack sh -l; sleep 1; done
EOF
chmod 755 "$ir/init"
printf 'export PS1="guest# "\n' >"$ir/etc/profile"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$ir/etc/passwd"
printf 'root:x:0:\n' >"$ir/etc/group"

# newc cpio, fixed timestamps and owners, sorted: the same input gives the same bytes
find "$ir" -exec touch -h -d "@$epoch" {} +
(cd "$ir" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible) \
    | gzip -9 -n >"$work/initrd.img"

# --- syslinux/isolinux configuration --------------------------------------------
bootcfg() {  # bootcfg KERNEL INITRD
    cat <<EOF
SERIAL 0 115200
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  KERNEL $1
  INITRD $2
  APPEND $cmdline
EOF
}

# --- c) the disk image ----------------------------------------------------------
# 64 MiB: sda1 from 1 MiB to the end, ext2, active, holding /boot (kernel,
# initrd, EXTLINUX) and test data (the tests mount it read-write). mbr.bin
# boots the active partition; EXTLINUX's boot sector and ldlinux.sys are
# installed by Debian's extlinux running in the guest on fox86: the
# initramfs plus an extra archive with extlinux, its libc and an /autorun
# that mounts /dev/sda1 and runs it. --deterministic and a fixed RTC make
# that run, and so the image, the same every time.
disk=$work/disk.img
p1_start=2048 p1_size=$((63 * 2048))
truncate -s 64M "$disk"
printf 'label: dos\nlabel-id: 0xf0886001\n%s,%s,83,*\n' "$p1_start" "$p1_size" | sfdisk -q "$disk"
dd if="$sl/mbr/mbr.bin" of="$disk" bs=440 count=1 conv=notrunc status=none
data=$work/data
mkdir -p "$data/boot/extlinux"
cp "$work/vmlinuz" "$work/initrd.img" "$data/boot/"
bootcfg /boot/vmlinuz /boot/initrd.img >"$data/boot/extlinux/extlinux.conf"
echo "fox86 guest test data" >"$data/hello.txt"
seq 1 10000 >"$data/numbers.txt"
find "$data" -exec touch -d "@$epoch" {} +
ext=$work/p1-ext2.img
E2FSPROGS_FAKE_TIME=$epoch mke2fs -q -F -t ext2 -L FOX86DATA -U f0860002-0000-4000-8000-000000000002 \
    -E hash_seed=f0860002-0000-4000-8000-000000000003 -m 0 -d "$data" "$ext" $((p1_size / 2))k >/dev/null
# mke2fs -d copies the source files' ctime, which touch cannot set: fix it up
(cd "$data" && find . -mindepth 1 | sed 's|^\.||'; echo /) | while read -r f; do
    echo "set_inode_field $f ctime @$epoch"
done | E2FSPROGS_FAKE_TIME=$epoch debugfs -w -f - "$ext" >/dev/null 2>&1
dd if="$ext" of="$disk" bs=512 seek="$p1_start" conv=notrunc,sparse status=none
rm -f "$ext"

# The installer run. fox86 comes from this checkout's build unless FOX86_BIN says.
fox86=${FOX86_BIN:-$(cd "$(dirname "$0")/.." && pwd)/build/frontends/fox86}
[ -x "$fox86" ] || die "fox86 is not built ($fox86): run scripts/build.sh first (or set FOX86_BIN)"
inst=$work/installer
mkdir -p "$inst/usr/bin" "$inst/lib/i386-linux-gnu"
cp "$work/root/extlinux/usr/bin/extlinux" "$inst/usr/bin/"
cp -L "$work/root/libc6/lib/i386-linux-gnu/libc.so.6" "$work/root/libc6/lib/i386-linux-gnu/ld-linux.so.2" \
    "$inst/lib/i386-linux-gnu/"
ln -s i386-linux-gnu/ld-linux.so.2 "$inst/lib/ld-linux.so.2"
cat >"$inst/autorun" <<'EOF'
#!/bin/sh
# Install EXTLINUX on /dev/sda1 (build-guest.sh); print the result marker.
i=0; while [ ! -b /dev/sda1 ] && [ $i -lt 30 ]; do sleep 1; i=$((i+1)); done
if mount -t ext4 /dev/sda1 /mnt &&
   LD_LIBRARY_PATH=/lib/i386-linux-gnu extlinux --install /mnt/boot/extlinux &&
   ls /mnt/boot/extlinux/ldlinux.sys /mnt/boot/extlinux/ldlinux.c32 && umount /mnt; then
    echo "FOX86-EXTLINUX-INSTALLED"
else
    echo "FOX86-EXTLINUX-FAILED"
fi
EOF
chmod 755 "$inst/autorun"
find "$inst" -exec touch -h -d "@$epoch" {} +
cp "$work/initrd.img" "$work/installer.img"
(cd "$inst" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible) \
    | gzip -9 -n >>"$work/installer.img"
log "installing EXTLINUX on the disk image, in the guest on fox86 (about a minute)"
if ! timeout "${FOX86_GUEST_INSTALL_TIMEOUT:-900}" "$fox86" -m 128 -nographic --deterministic \
        -rtc base=2023-06-10T00:00:00 -kernel "$work/vmlinuz" -initrd "$work/installer.img" \
        -append "$cmdline" -hda "$disk" </dev/null >"$work/install.log" 2>&1 ||
   ! grep -q FOX86-EXTLINUX-INSTALLED "$work/install.log"; then
    tail -n 20 "$work/install.log" >&2
    die "the EXTLINUX install run on fox86 failed (log above)"
fi
# Check from the host: sda1 now has a boot sector (signature 55 AA) and
# /boot/extlinux/ldlinux.sys.
[ "$(od -An -tx1 -j $((p1_start * 512 + 510)) -N2 "$disk" | tr -d ' ')" = 55aa ] ||
    die "no boot sector on sda1 after the EXTLINUX install run"
dd if="$disk" of="$work/p1.img" bs=512 skip="$p1_start" count="$p1_size" status=none
debugfs -R "stat /boot/extlinux/ldlinux.sys" "$work/p1.img" 2>/dev/null | grep -q "^Inode:" ||
    die "no /boot/extlinux/ldlinux.sys on sda1 after the EXTLINUX install run"
rm -f "$work/p1.img"

# --- d) the CD-ROM image --------------------------------------------------------
iso=$work/iso
mkdir -p "$iso/isolinux" "$iso/boot"
cp "$work/root/isolinux/usr/lib/ISOLINUX/isolinux.bin" "$sl/modules/bios/ldlinux.c32" "$iso/isolinux/"
cp "$work/vmlinuz" "$work/initrd.img" "$iso/boot/"
bootcfg /boot/vmlinuz /boot/initrd.img >"$iso/isolinux/isolinux.cfg"
echo "hello from the fox86 CD" >"$iso/README.txt"
find "$iso" -exec touch -d "@$epoch" {} +
xorriso -as mkisofs -quiet -o "$work/cdrom.iso" -V FOX86_GUEST -R -J \
    -b isolinux/isolinux.bin -c isolinux/boot.cat \
    -no-emul-boot -boot-load-size 4 -boot-info-table "$iso" 2>/dev/null

# --- install into the cache -----------------------------------------------------
echo "$cmdline" >"$work/cmdline"
for f in $outputs; do mv -f "$work/$f" "$cache/$f"; done
echo "$script_sum" >"$cache/.stamp"
log "built in $(( $(date +%s) - t_start )) s:"
print_paths
