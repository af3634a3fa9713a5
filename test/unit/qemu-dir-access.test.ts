import { describe, expect, it } from 'vitest';
import {
  canSearch, describeBlocked, findBlockingDirectory, parseQemuConf, pathAndAncestors, resolveAccount, runsGuestsAsQemuUser,
  type Account, type DirStat,
} from '../../src/adapters/qemu-dir-access.js';

const QEMU: Account = { name: 'libvirt-qemu', uid: 64055, gids: [109, 64055] };
const dir = (mode: number, uid = 0, gid = 0): DirStat => ({ mode: 0o040000 | mode, uid, gid });

describe('parseQemuConf', () => {
  it('reads user and group; commented lines are defaults, not settings', () => {
    const text = '#user = "libvirt-qemu"\n#group = "libvirt-qemu"\n  user = "qemu"\ngroup="+107"\n';
    expect(parseQemuConf(text)).toEqual({ user: 'qemu', group: '+107' });
    expect(parseQemuConf('#       user = "+0"     # Super user (uid=0)\n')).toEqual({});
  });
});

describe('resolveAccount', () => {
  const passwd = 'root:x:0:0:root:/root:/bin/bash\nlibvirt-qemu:x:64055:109:Libvirt Qemu,,,:/var/lib/libvirt:/usr/sbin/nologin\n100:x:1000:1000::/home/n:/bin/sh\n';
  const group = 'root:x:0:\nkvm:x:109:\nlibvirt-qemu:x:64055:libvirt-qemu\nvideo:x:44:other\n';

  it('takes the primary group, the groups listing the user, and qemu.conf\'s group', () => {
    expect(resolveAccount('libvirt-qemu', 'libvirt-qemu', passwd, group)).toEqual({ name: 'libvirt-qemu', uid: 64055, gids: [109, 64055] });
    expect(resolveAccount('libvirt-qemu', 'video', passwd, group)?.gids.sort()).toEqual([109, 44, 64055].sort());
  });

  it('reads "+N" as a uid and a bare number as a name first, as libvirt does', () => {
    expect(resolveAccount('+0', undefined, passwd, group)?.uid).toBe(0);
    expect(resolveAccount('100', undefined, passwd, group)?.uid).toBe(1000);
    expect(resolveAccount('+4242', undefined, passwd, group)).toEqual({ name: '+4242', uid: 4242, gids: [] });
  });

  it('is undefined for a user this host does not have', () => {
    expect(resolveAccount('qemu', undefined, passwd, group)).toBeUndefined();
  });
});

describe('canSearch', () => {
  it.each([
    ['others with o+x', dir(0o711), true],
    ['others without o+x', dir(0o750), false],
    ['the owner by u+x only', dir(0o700, 64055), true],
    ['the owner without u+x, even with o+x', dir(0o601, 64055), false],
    ['a member of the group by g+x', dir(0o710, 0, 109), true],
    ['a member of the group without g+x, even with o+x', dir(0o701, 0, 109), false],
  ])('%s', (_what, stat, expected) => {
    expect(canSearch(stat, QEMU)).toBe(expected);
  });

  it('lets root through anything', () => {
    expect(canSearch(dir(0o000), { name: 'root', uid: 0, gids: [0] })).toBe(true);
  });
});

describe('findBlockingDirectory', () => {
  const tree = (stats: Record<string, DirStat>) => (path: string) => stats[path];

  it('lists a path after its ancestors', () => {
    expect(pathAndAncestors('/root/wimaxvm/overlays/')).toEqual(['/', '/root', '/root/wimaxvm', '/root/wimaxvm/overlays']);
  });

  it('names the first directory on the way that the user cannot search', () => {
    const stats = tree({ '/': dir(0o755), '/root': dir(0o700), '/root/p': dir(0o700), '/root/p/overlays': dir(0o755) });
    expect(findBlockingDirectory('/root/p/overlays', QEMU, stats)).toEqual({ dir: '/root', stat: dir(0o700) });
  });

  it('checks the directory itself too', () => {
    const stats = tree({ '/': dir(0o755), '/var': dir(0o755), '/var/o': dir(0o750) });
    expect(findBlockingDirectory('/var/o', QEMU, stats)?.dir).toBe('/var/o');
  });

  it('passes a reachable path', () => {
    const stats = tree({ '/': dir(0o755), '/root': dir(0o701), '/root/p': dir(0o711) });
    expect(findBlockingDirectory('/root/p', QEMU, stats)).toBeUndefined();
  });

  it('stops at the first part that does not exist yet: the controller creates it searchable', () => {
    const stats = tree({ '/': dir(0o755), '/var': dir(0o755) });
    expect(findBlockingDirectory('/var/lib/wimaxvm/overlays', QEMU, stats)).toBeUndefined();
  });
});

describe('describeBlocked', () => {
  it('says which flag, who, which directory and how to fix it, on one line', () => {
    const text = describeBlocked({ flag: '--overlay-dir', path: '/root/p/overlays', reachable: '/var/lib/wimaxvm/overlays' }, QEMU, { dir: '/root', stat: dir(0o700) });
    expect(text).toBe('--overlay-dir /root/p/overlays: libvirt runs guests as libvirt-qemu (uid 64055), which cannot search /root '
      + '(mode 700, owner uid 0), so guests with disks would fail with "Permission denied". '
      + 'Fix: chmod o+x /root, or --overlay-dir under /var/lib/wimaxvm/overlays');
  });

  it('names the permission bit that applies to the user', () => {
    const groupBlocked = describeBlocked({ flag: '--image-dir', path: '/srv/i', reachable: '/var/lib/wimaxvm/images' }, QEMU, { dir: '/srv/i', stat: dir(0o700, 0, 109) });
    expect(groupBlocked).toContain('Fix: chmod g+x /srv/i, or --image-dir under /var/lib/wimaxvm/images');
  });
});

describe('runsGuestsAsQemuUser', () => {
  it.each([
    ['qemu:///system', true],
    ['qemu+unix:///system', true],
    ['qemu:///system?socket=/run/libvirt/libvirt-sock', true],
    ['qemu:///session', false],
    ['qemu+ssh://host/system', false],
    ['qemu+tls://host/system?pkipath=/etc/wimaxvm/libvirt-pki', false],
    ['test:///default', false],
    ['test+unix:///default', false],
  ])('%s → %s', (uri, expected) => {
    expect(runsGuestsAsQemuUser(uri)).toBe(expected);
  });
});
