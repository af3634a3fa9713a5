#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for wimaxvm: libvirt (headers for the native
# binding, the daemon, the test driver), QEMU and qemu-img, Open vSwitch and traffic tools for
# the system tests; then the npm dependencies (which build @unraid/libvirt) and the build.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential python3 libvirt-dev libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils openvswitch-switch iproute2 iputils-ping iperf3 ethtool)
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

# package.json's allowScripts lets the native builds run under npm 11: @unraid/libvirt and
# better-sqlite3 (no prebuilt binary can be downloaded here, so node-gyp compiles its bundled
# SQLite: about two minutes on two cores, needs python3, make and g++).
native=(node_modules/@unraid/libvirt/build/Release/libvirt.node node_modules/better-sqlite3/build/Release/better_sqlite3.node)
missing_native=0
for f in "${native[@]}"; do [ -f "$f" ] || missing_native=1; done
if ((missing_native)) || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # npm install, not npm ci: npm 11 writes lockfiles with only this platform's optional
  # packages (rollup's), which npm ci then rejects as out of sync.
  npm install --no-audit --no-fund
fi
# A package installed while its scripts were not allowed has no binary: build it now.
for f in "${native[@]}"; do
  if [ ! -f "$f" ]; then
    pkg=${f#node_modules/}
    pkg=${pkg%%/build/*}
    npm rebuild "$pkg" --no-audit --no-fund
  fi
done
npm run build --silent
