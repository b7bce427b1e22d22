# Functions of scripts/image/build (sourced; uses its variables: ROOT ARCH OUT CACHE WORK SYSROOT TRIPLET KREL ...).

step() { printf '[image %s %4ss] %s\n' "$ARCH" "$(( $(date +%s) - START ))" "$*"; }
die() { printf 'image build (%s): %s\n' "${ARCH:-?}" "$*" >&2; exit 1; }

need_cmds() {
  local missing=()
  for c in "$@"; do command -v "$c" >/dev/null || missing+=("$c"); done
  [ ${#missing[@]} -eq 0 ] || die "missing build tools: ${missing[*]} (run \`make image-deps\`)"
}

# Makes apt know the packages of a foreign architecture (arm64 on an amd64 machine).
ensure_arch() {
  local a=$1
  [ "$a" = "$(dpkg --print-architecture)" ] && return 0
  if ! dpkg --print-foreign-architectures | grep -qx "$a"; then
    dpkg --add-architecture "$a"
  fi
  apt-cache show "libc6:$a" >/dev/null 2>&1 || apt-get update -qq
}

# The library packages (lib*) that the named packages depend on, recursively.
library_packages() {
  local a=$1; shift
  local q=()
  for p in "$@"; do q+=("$p:$a"); done
  apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances \
    --no-pre-depends "${q[@]}" 2>/dev/null | grep -v '^ ' | grep -v '[<>]' | sed 's/:.*//' | grep '^lib' | sort -u
}

# Downloads the named packages of an architecture into a directory, each version once (the cache).
fetch_debs() {
  local a=$1 dir=$2; shift 2
  local q=() want=() missing=()
  for p in "$@"; do q+=("$p:$a"); done
  # apt prints: 'URI' file size hash (from an empty directory: it leaves out files already there); the names carry the version
  local empty; empty=$(mktemp -d)
  mapfile -t want < <(cd "$empty" && apt-get download --print-uris "${q[@]}" 2>/dev/null | awk '{print $2}' | sort -u)
  rmdir "$empty"
  [ ${#want[@]} -gt 0 ] || die "apt-get cannot find the packages: $*"
  local names=()
  for f in "${want[@]}"; do [ -f "$dir/$f" ] || missing+=("$f"); done
  if [ ${#missing[@]} -gt 0 ]; then
    for f in "${missing[@]}"; do names+=("${f%%_*}:$a=$(echo "$f" | cut -d_ -f2 | sed 's/%3a/:/g')"); done
    echo "  downloading ${#missing[@]} packages"
    (cd "$dir" && apt-get download -qq -o APT::Sandbox::User=root "${names[@]}") || die "downloading Debian packages failed"
  fi
  # only the versions wanted now are unpacked
  printf '%s\n' "${want[@]}" >"$dir/.wanted"
}

# Unpacks the wanted packages of a cache directory into one tree (redone only when the set changes).
unpack_debs() {
  local dir=$1 dest=$2
  if [ -f "$dest/.unpacked" ] && cmp -s "$dir/.wanted" "$dest/.unpacked"; then return 0; fi
  rm -rf "$dest"
  mkdir -p "$dest"
  while read -r f; do dpkg-deb -x "$dir/$f" "$dest"; done <"$dir/.wanted"
  cp "$dir/.wanted" "$dest/.unpacked"
}

# Fetches an npm package's tarball once; prints its path.
npm_fetch() {
  local name=$1 version=$2 dir=$3
  local tgz=$dir/$name-$version.tgz
  if [ ! -f "$tgz" ]; then
    (cd "$dir" && npm pack --silent "$name@$version" >/dev/null) || die "npm pack $name@$version failed"
  fi
  echo "$tgz"
}

# Node's C headers for N-API (Debian's nodejs package; N-API is the same for every architecture and Node version).
node_headers() {
  [ -f /usr/include/node/node_api.h ] || die "Node's headers (/usr/include/node/node_api.h) are missing: install Debian's nodejs"
  echo /usr/include/node
}

# Copies an ELF program into the root filesystem with every library it loads (found in the unpacked packages).
install_elf() {
  local src=$1 dest=$2
  install -D -m 0755 "$src" "$RFS$dest"
  ELF_FILES+=("$RFS$dest")
}

copy_libraries() {
  local libdir=$RFS/usr/lib/$TRIPLET
  mkdir -p "$libdir"
  node "$ROOT/scripts/image/needed.mjs" "$SYSROOT" "$TRIPLET" "${ELF_FILES[@]}" | while read -r soname path; do
    install -m 0755 "$path" "$libdir/$soname"
    "${CROSS}strip" --strip-unneeded "$libdir/$soname" 2>/dev/null || true
  done
}

make_rootfs() {
  RFS=$1
  ELF_FILES=()
  mkdir -p "$RFS"/{usr/bin,usr/sbin,usr/lib,etc,dev,proc,sys,run,system,var,tmp,opt}
  ln -s usr/bin "$RFS/bin"; ln -s usr/sbin "$RFS/sbin"; ln -s usr/lib "$RFS/lib"
  if [ "$ARCH" = amd64 ]; then
    mkdir -p "$RFS/usr/lib64"; ln -s usr/lib64 "$RFS/lib64"
    ln -s "../lib/$TRIPLET/ld-linux-x86-64.so.2" "$RFS/usr/lib64/ld-linux-x86-64.so.2"
  else
    ln -s "$TRIPLET/ld-linux-aarch64.so.1" "$RFS/usr/lib/ld-linux-aarch64.so.1"
  fi
  # Node, stripped
  rm -rf "$WORK/node"; mkdir -p "$WORK/node"
  tar -xzf "$node_tgz" -C "$WORK/node" --strip-components=1
  install -D -m 0755 "$WORK/node/bin/node" "$RFS/usr/bin/node"
  "${CROSS}strip" "$RFS/usr/bin/node"
  node "$ROOT/scripts/image/icu-slim.mjs" "$RFS/usr/bin/node" "$WORK/icu"
  ELF_FILES+=("$RFS/usr/bin/node")
  # our code: the bundle reads ../package.json and ../dist/build-info.json beside it, as dist/ does in the tree;
  # dist/bronze.js (what PID 1 starts) runs it with its code cache, made once the root filesystem is complete
  local lib=$RFS/usr/lib/bronze
  install -D -m 0644 "$WORK/bronze.cjs" "$lib/dist/bronze.cjs"
  install -m 0644 "$WORK/bronze-apid.cjs" "$WORK/bronze-trustd.cjs" "$lib/dist/"
  install -m 0644 dist/bin/image-entry.js "$lib/dist/bronze.js"
  install -m 0644 dist/build-info.json "$lib/dist/build-info.json"
  node -e 'const p=require("./package.json");process.stdout.write(JSON.stringify({name:p.name,version:p.version,type:"module",private:true})+"\n")' >"$lib/package.json"
  install -m 0755 "$WORK/bronze.node" "$lib/dist/bronze.node"
  ELF_FILES+=("$lib/dist/bronze.node")
  # netlink, with only this architecture's prebuilt addon
  local nl=$lib/node_modules/netlink
  mkdir -p "$nl/prebuilds/linux-$NODE_ARCH"
  cp node_modules/netlink/package.json "$nl/"
  (cd node_modules/netlink && find dist -name '*.js' -print0 | xargs -0 -I{} install -D -m 0644 {} "$nl/{}")
  install -m 0755 "node_modules/netlink/prebuilds/linux-$NODE_ARCH/node.napi.node" "$nl/prebuilds/linux-$NODE_ARCH/"
  ELF_FILES+=("$nl/prebuilds/linux-$NODE_ARCH/node.napi.node")
  local ngb; ngb=$(node -e 'console.log(require("path").dirname(require.resolve("node-gyp-build/package.json",{paths:[require.resolve("netlink")]})))')
  mkdir -p "$lib/node_modules/node-gyp-build"
  cp "$ngb/package.json" "$ngb"/*.js "$lib/node_modules/node-gyp-build/"
  # the node's services from Debian
  install_elf "$SYSROOT/usr/bin/containerd" /usr/bin/containerd
  install_elf "$SYSROOT/usr/bin/containerd-shim-runc-v2" /usr/bin/containerd-shim-runc-v2
  install_elf "$SYSROOT/usr/sbin/runc" /usr/bin/runc
  install_elf "$SYSROOT/usr/bin/etcd" /usr/bin/etcd
  local udevd=$SYSROOT/lib/systemd/systemd-udevd
  [ -e "$udevd" ] || udevd=$SYSROOT/usr/lib/systemd/systemd-udevd
  install_elf "$(readlink -f "$SYSROOT/bin/udevadm")" /usr/bin/udevadm
  ln -s udevadm "$RFS/usr/bin/systemd-udevd"
  ln -s udevadm "$RFS/usr/bin/udevd"
  mkdir -p "$RFS/usr/lib/udev"
  cp -r "$SYSROOT/lib/udev/rules.d" "$RFS/usr/lib/udev/"
  for f in "$ROOT"/rootfs/*; do cp -r "$f" "$RFS/"; done
  write_os_release >"$RFS/etc/os-release"
  copy_libraries
  for f in "${ELF_FILES[@]}"; do "${CROSS}strip" --strip-unneeded "$f" 2>/dev/null || true; done
  # the programs name their loader by this path: it must resolve inside the root filesystem
  [ -e "$RFS$LOADER" ] || die "the dynamic loader $LOADER does not resolve in the root filesystem"
  check_icu
  code_cache "$lib/dist"
}

# The image's Node with its slimmed ICU data (icu-slim.mjs) must still format, normalise, segment and decode, and fall
# back to root for a locale it no longer has.
check_icu() {
  local want='Thursday, January 1, 1970 at 12:00:00 AM UTC|1,234,567.5|2|3|€|1/1/1970'
  local got
  got=$(rootfs_node BRONZE_ICU_CHECK=1 -e '
    const d = new Date(0);
    console.log([
      new Intl.DateTimeFormat("en-US", { timeZone: "UTC", dateStyle: "full", timeStyle: "long" }).format(d),
      (1234567.5).toLocaleString("en-US"),
      "\u00e9".normalize("NFD").length,
      [...new Intl.Segmenter("en", { granularity: "word" }).segment("hello world")].length,
      new TextDecoder("windows-1252").decode(new Uint8Array([0x80])),
      d.toLocaleDateString("de-DE", { timeZone: "UTC" }),
    ].join("|"));') || die "the image's Node fails with its slimmed ICU data"
  [ "$got" = "$want" ] || die "the image's Node with its slimmed ICU data printed '$got', expected '$want'"
}

# Runs the image's Node on its own root filesystem, with one environment variable (NAME=value) and Node's arguments:
# directly (amd64) or through qemu-user, copied in for the run (arm64).
rootfs_node() {
  local var=$1; shift
  local emu=()
  if [ "$ARCH" = arm64 ]; then
    install -m 0755 "$(command -v qemu-aarch64-static)" "$RFS/tmp/qemu-aarch64-static"
    emu=(/tmp/qemu-aarch64-static)
  fi
  local rc=0
  env -i PATH=/usr/bin HOME=/ "$var" "$(command -v chroot)" "$RFS" "${emu[@]}" /usr/bin/node "$@" || rc=$?
  rm -f "$RFS/tmp/qemu-aarch64-static"
  return $rc
}

# V8's code cache of each role's bundle (bronze.cjs for machined, bronze-<role>.cjs for apid and trustd; see
# src/bin/image-entry.ts), each made after that role's code is loaded, so machined, apid and trustd start without
# compiling it and none holds another's compiled code. A fixed --random-seed makes the bytes reproducible (V8 does not
# count that flag against the cache); the check run, with the node's own flags, fails the build if V8 would reject a
# cache.
code_cache() {
  local dir=$1 entry=/usr/lib/bronze/dist/bronze.js role bundle
  for role in machined apid trustd; do
    bundle=$dir/bronze.cjs
    [ "$role" = machined ] || bundle=$dir/bronze-$role.cjs
    rootfs_node BRONZE_CODE_CACHE=write --random-seed=1 "$entry" "$role" || die "writing the $role code cache of $bundle failed"
    rootfs_node BRONZE_CODE_CACHE=check "$entry" "$role" || die "V8 rejects the $role code cache of $bundle"
    chmod 0644 "$bundle.$role.cache"
  done
}

write_os_release() {
  local v; v=$(node -p 'require("./package.json").version')
  cat <<OS
NAME="Bronze"
ID=bronze
VERSION_ID=$v
VERSION="v$v"
PRETTY_NAME="Bronze (v$v)"
OS
}

# The modules PID 1 loads before it mounts the root (IMAGE_ROOT_MODULES), and the rest, which a child of PID 1 loads
# while machined starts: storage, filesystems, network cards.
IMAGE_ROOT_MODULES=(loop squashfs)
IMAGE_MODULES=(
  overlay isofs iso9660 crc32c_generic crc32c-intel xfs ext4 fat vfat nls_cp437 nls_iso8859_1 nls_ascii efivarfs
  virtio virtio_ring virtio_pci virtio_mmio virtio_blk virtio_scsi virtio_net virtio_console virtio_rng
  nvme ahci sd_mod sr_mod
  e1000 e1000e igb igbvf ixgbe ixgbevf r8169 vmxnet3 ena gve bnxt_en tg3 mlx4_en mlx5_core i40e ice
)

make_initramfs() {
  local dir=$1 outfile=$2
  rm -rf "$dir"
  mkdir -p "$dir"/{dev,proc,sys,run,newroot,etc}
  install -m 0755 "$WORK/init" "$dir/init"
  node "$ROOT/scripts/image/modules.mjs" "$SYSROOT/lib/modules/$KREL" "/lib/modules/$KREL" "${IMAGE_ROOT_MODULES[@]}" >"$dir/etc/bronze-modules-root"
  node "$ROOT/scripts/image/modules.mjs" "$SYSROOT/lib/modules/$KREL" "/lib/modules/$KREL" "${IMAGE_MODULES[@]}" >"$dir/etc/bronze-modules"
  cat "$dir/etc/bronze-modules-root" "$dir/etc/bronze-modules" | grep -v '^#' | sort -u | while read -r m; do install -D -m 0644 "$SYSROOT$m" "$dir$m"; done
  cp "$WORK/rootfs.sqsh" "$dir/rootfs.sqsh"
  find "$dir" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  # two archives, one after the other, which the kernel unpacks in turn: the squashfs alone, not compressed again (it
  # is compressed already, and the kernel's xz took seconds under emulation to get nothing from it), then PID 1, the
  # modules and the rest (25 MB), zstd-compressed in one thread so the bytes do not depend on the machine: the kernel
  # unpacks zstd several times faster than xz, for half a megabyte more than xz's 4.5 MB
  (cd "$dir" && echo rootfs.sqsh | cpio --quiet -o -H newc --reproducible -R 0:0) >"$WORK/initramfs.cpio"
  (cd "$dir" && find . -mindepth 1 ! -path ./rootfs.sqsh | sort | cpio --quiet -o -H newc --reproducible -R 0:0) |
    zstd -19 -T1 -q -c >>"$WORK/initramfs.cpio"
  mv "$WORK/initramfs.cpio" "$outfile"
}

make_iso() {
  local iso=$1 dir=$WORK/iso
  rm -rf "$dir"; mkdir -p "$dir/boot/grub"
  cp "$OUT/vmlinuz-$ARCH" "$dir/boot/vmlinuz"
  cp "$OUT/initramfs-$ARCH.xz" "$dir/boot/initramfs.xz"
  local console=ttyS0 platforms=()
  if [ "$ARCH" = arm64 ]; then
    console=ttyAMA0
    platforms=(-d "$GRUB_ARM64_DIR")
  fi
  # cryptomgr.notests: Talos's kernels are built without the crypto self-tests (CONFIG_CRYPTO_SELFTESTS unset); the
  # Debian kernel the image borrows runs them at boot (about 5 s of the arm64 kernel's start under emulation)
  cat >"$dir/boot/grub/grub.cfg" <<CFG
set default=0
set timeout=3
serial --unit=0 --speed=115200
terminal_input console serial
terminal_output console serial
menuentry "Bronze" {
  linux /boot/vmlinuz talos.platform=metal cryptomgr.notests console=tty0 console=$console,115200
  initrd /boot/initramfs.xz
}
CFG
  find "$dir" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  rm -f "$iso"
  if [ "$ARCH" = amd64 ]; then
    grub-mkrescue -o "$iso" "$dir" -- -volid BRONZE >"$WORK/grub-mkrescue.log" 2>&1 || { cat "$WORK/grub-mkrescue.log" >&2; die "grub-mkrescue failed"; }
  else
    grub-mkrescue "${platforms[@]}" -o "$iso" "$dir" -- -volid BRONZE >"$WORK/grub-mkrescue.log" 2>&1 || { cat "$WORK/grub-mkrescue.log" >&2; die "grub-mkrescue failed"; }
  fi
}

manifest() {
  local outfile=$1; shift
  local entries=() name file
  while [ $# -gt 0 ]; do
    name=$1 file=$2; shift 2
    [ -f "$file" ] || continue
    entries+=("$(printf '"%s":{"bytes":%s,"sha256":"%s"}' "$name" "$(stat -c %s "$file")" "$(sha256sum "$file" | cut -d' ' -f1)")")
  done
  (IFS=,; printf '{%s}\n' "${entries[*]}") >"$outfile"
}
