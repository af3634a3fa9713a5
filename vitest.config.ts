import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // System tests share one libvirtd; files run in parallel, so names are unique per test.
    pool: 'forks',
    // Most files wait on libvirt, Open vSwitch and child processes rather than compute: on two
    // cores, vitest's default (one worker fewer than the cores) would run them one at a time.
    maxWorkers: 3,
  },
});
