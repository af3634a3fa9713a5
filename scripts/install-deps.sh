#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for wimaxvm: libvirt (headers for the native
# binding, the daemon, the test driver), QEMU and qemu-img, Open vSwitch and traffic tools for
# the system tests, zsh to test its completion, genisoimage for cloud-init seed images (and its
# isoinfo for their tests), what the tiny real guest is built from (see
# test/helpers/real-guest/), Chromium for the web console's browser tests (test/ui/, driven by
# playwright-core); then the npm dependencies (better-sqlite3's build and, through the package's
# own install script, wimaxvm's libvirt binding) and the build.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential python3 pkg-config libvirt-dev libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils openvswitch-switch iproute2 iputils-ping iperf3 ethtool zsh
  busybox-static syslinux mtools dosfstools xz-utils dnsmasq-base chromium genisoimage)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The real guest's kernel: Debian's linux-image-cloud-amd64 (6.1, for VMs: LZ4-compressed and
# fewer drivers, it boots twice as fast as linux-image-amd64 under software emulation), as a
# .deb downloaded (not installed) for test/helpers/real-guest/ to unpack, into the cache it
# builds in (the same default there). Once per machine. Stale or missing apt lists (a fresh
# machine) get one apt-get update.
if [ -n "${WIMAXVM_REAL_GUEST_CACHE:-}" ]; then guest_cache=$WIMAXVM_REAL_GUEST_CACHE
elif [ "$(id -u)" -eq 0 ]; then guest_cache=/var/cache/wimaxvm/real-guest
else guest_cache=${XDG_CACHE_HOME:-$HOME/.cache}/wimaxvm/real-guest; fi
fetch_guest_kernel() { # into $1; fails when apt does not know or cannot fetch the package
  local pkg
  pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n1)
  [ -n "$pkg" ] || return 1
  echo "downloading the real guest's kernel: $pkg"
  (cd "$1" && apt-get download -qq "$pkg")
}
if ! compgen -G "$guest_cache/kernel/linux-image-*-cloud-amd64_*.deb" >/dev/null; then
  mkdir -p "$guest_cache/kernel"
  tmp=$(mktemp -d "$guest_cache/kernel/.download-XXXXXX")
  chmod 777 "$tmp" # apt-get download, run as root, writes as the _apt user
  if ! fetch_guest_kernel "$tmp"; then
    if [ "$(id -u)" -eq 0 ]; then apt-get update -qq; else sudo apt-get update -qq; fi
    fetch_guest_kernel "$tmp" || { echo "cannot download linux-image-cloud-amd64's kernel package for the real guest" >&2; exit 1; }
  fi
  mv "$tmp"/linux-image-*-cloud-amd64_*.deb "$guest_cache/kernel/"
  rm -rf "$tmp"
fi

# The native builds: better-sqlite3 (package.json's allowScripts lets it build under npm 11; no
# prebuilt binary can be downloaded here, so node-gyp compiles its bundled SQLite: about two
# minutes on two cores, needs python3, make and g++) and wimaxvm's own libvirt binding and
# inotify addon (binding.gyp, built by the package's install script against libvirt-dev).
own=(build/Release/wimaxvm_libvirt.node build/Release/wimaxvm_inotify.node)
native=(node_modules/better-sqlite3/build/Release/better_sqlite3.node "${own[@]}")

# Does node_modules hold what package-lock.json says? npm records what it installed in
# node_modules/.package-lock.json: every package the lock names must be there in the same
# version, except optional ones for other platforms (esbuild's, rollup's).
installed_matches_lock() {
  node -e '
    const fs = require("fs");
    const read = (f) => JSON.parse(fs.readFileSync(f, "utf8")).packages;
    let want, have;
    try { want = read("package-lock.json"); have = read("node_modules/.package-lock.json"); } catch { process.exit(1); }
    for (const [path, p] of Object.entries(want)) {
      if (!path || p.link) continue;
      const h = have[path];
      if (!h ? !p.optional : h.version !== p.version) process.exit(1);
    }'
}

# npm ci, not npm install: it installs exactly the lock and never rewrites it (npm install may,
# so a tracked file would change under you). It refuses a lock out of step with package.json:
# after changing dependencies, run npm install yourself and commit the new lock.
if ! installed_matches_lock; then
  if [ -L node_modules ]; then
    # npm ci empties node_modules first: never through a link into another checkout.
    echo "node_modules links to $(readlink -f node_modules), which does not match package-lock.json: run npm ci there" >&2
    exit 1
  fi
  npm ci --no-audit --no-fund
fi
# A package installed while its scripts were not allowed has no binary: build it now; so is
# wimaxvm's own addons when their sources are newer than their build (after a pull).
for binding in "${own[@]}"; do
  if [ -f "$binding" ] && [ -n "$(find native binding.gyp -newer "$binding" 2>/dev/null | head -1)" ]; then rm -f "$binding"; fi
done
for f in "${native[@]}"; do
  if [ ! -f "$f" ]; then
    if [[ $f == node_modules/* ]]; then
      pkg=${f#node_modules/}
      pkg=${pkg%%/build/*}
      npm rebuild "$pkg" --no-audit --no-fund
    else
      npm run install --silent # wimaxvm's own addons (binding.gyp builds both)
    fi
  fi
done
npm run build --silent
