import { describe, expect, it } from 'vitest';
import { reachableFromOtherHosts } from '../../src/hosts/kube/reachable-uri.js';

describe('reachableFromOtherHosts: a libvirt URI another node opens reaches this daemon', () => {
  it.each([
    ['qemu:///system', false], ['qemu:///session', false], ['test:///default', false], ['', false], ['not a uri', false],
    ['qemu+tls://node-a.example/system', true], ['qemu+ssh://root@node-a/system', true], ['qemu://node-a/system', true],
    ['qemu+tcp://10.0.0.1:16509/system', true], ['test+unix:///default?socket=/run/x.sock', true], ['qemu+unix:///system?socket=/srv/a/sock', true],
  ])('%s → %s', (uri, reachable) => {
    expect(reachableFromOtherHosts(uri)).toBe(reachable);
  });
});
