# The controller's image for manifests/. Not built on the project's own machines (they run no
# Docker engine); the same steps as scripts/install-deps.sh.
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libvirt-dev libvirt-clients qemu-utils openvswitch-switch python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/wimaxvm
COPY package.json package-lock.json tsconfig.json binding.gyp ./
COPY native ./native
COPY src ./src
COPY bench ./bench
COPY bin ./bin
COPY scripts/bundle-cli.mjs ./scripts/
COPY crds ./crds
COPY examples ./examples
RUN npm ci --no-audit --no-fund && npm run build && npm prune --omit=dev
# libvirt calls run on the binding's own thread pool (two threads per CPU, 4 to 16); glibc's per-thread
# malloc arenas otherwise hold ~100 MB more at 10,000 VMs (measured on the old binding).
ENV MALLOC_ARENA_MAX=2
# A writable home for the libvirt client (its cache, ssh known_hosts) under a read-only root: /tmp is an emptyDir.
ENV HOME=/tmp
USER 65532:65532
ENTRYPOINT ["node", "/opt/wimaxvm/bin/wimaxvm.js"]
CMD ["run", "--source=kube"]
