#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for wimaxvm: libvirt (headers for the native
# binding, the daemon, the test driver), QEMU and qemu-img, Open vSwitch and traffic tools for
# the system tests, zsh to test its completion; then the npm dependencies (which build @unraid/libvirt
# and, through the package's own install script, wimaxvm's libvirt binding) and the build.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential python3 pkg-config libvirt-dev libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils openvswitch-switch iproute2 iputils-ping iperf3 ethtool zsh)
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
native=(node_modules/@unraid/libvirt/build/Release/libvirt.node node_modules/better-sqlite3/build/Release/better_sqlite3.node build/Release/wimaxvm_libvirt.node)

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
# wimaxvm's own binding when its sources are newer than its build (after a pull).
binding=build/Release/wimaxvm_libvirt.node
if [ -f "$binding" ] && [ -n "$(find native binding.gyp -newer "$binding" 2>/dev/null | head -1)" ]; then rm -f "$binding"; fi
for f in "${native[@]}"; do
  if [ ! -f "$f" ]; then
    if [[ $f == node_modules/* ]]; then
      pkg=${f#node_modules/}
      pkg=${pkg%%/build/*}
      npm rebuild "$pkg" --no-audit --no-fund
    else
      npm run install --silent # wimaxvm's own binding (binding.gyp)
    fi
  fi
done
npm run build --silent
