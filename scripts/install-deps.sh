#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for wimaxvm: libvirt (headers for the native
# binding, the daemon, the test driver), QEMU and qemu-img, Open vSwitch and traffic tools for
# the system tests; then the npm dependencies (which build @unraid/libvirt) and the build.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libvirt-dev libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils openvswitch-switch iproute2 iputils-ping iperf3 ethtool)
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

# package.json's allowScripts lets @unraid/libvirt's native build run under npm 11.
if [ ! -f node_modules/@unraid/libvirt/build/Release/libvirt.node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # npm install, not npm ci: npm 11 writes lockfiles with only this platform's optional
  # packages (rollup's), which npm ci then rejects as out of sync.
  npm install --no-audit --no-fund
fi
npm run build --silent
