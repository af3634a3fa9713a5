// Can libvirt's qemu user reach the overlay and image directories? With qemu:///system,
// libvirtd runs each guest as the user qemu.conf names (Debian: libvirt-qemu), and a disk below a
// directory that user cannot search fails every start with "Cannot access storage file ... as
// uid:N: Permission denied". Checked once at start, so that it is said once, with the fix.
import { readFile, realpath, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** Who the guests run as: libvirt takes the user's own groups and qemu.conf's group. */
export interface Account {
  name: string;
  uid: number;
  gids: number[];
}

/** The parts of a stat result the check reads. */
export interface DirStat {
  mode: number;
  uid: number;
  gid: number;
}

export interface Blocked {
  /** The directory whose missing search (x) permission blocks the way. */
  dir: string;
  stat: DirStat;
}

/** `user = "..."` and `group = "..."` of qemu.conf; commented lines are libvirt's defaults. */
export function parseQemuConf(text: string): { user?: string; group?: string } {
  const out: { user?: string; group?: string } = {};
  for (const m of text.matchAll(/^[ \t]*(user|group)[ \t]*=[ \t]*"([^"]*)"/gm)) out[m[1] as 'user' | 'group'] = m[2]!;
  return out;
}

/**
 * The account from /etc/passwd and /etc/group text, as libvirt reads qemu.conf: "+N" is uid N,
 * otherwise a name (or, failing that, a number). Undefined when there is no such user.
 */
export function resolveAccount(user: string, group: string | undefined, passwd: string, groups: string): Account | undefined {
  const users = passwd.split('\n').map((l) => l.split(':')).filter((f) => f.length >= 4);
  const numeric = /^\+?(\d+)$/.exec(user);
  const entry = (user.startsWith('+') ? undefined : users.find((f) => f[0] === user))
    ?? (numeric ? users.find((f) => f[2] === numeric[1]) : undefined);
  if (!entry) return numeric ? { name: user, uid: Number(numeric[1]), gids: [] } : undefined;
  const groupRows = groups.split('\n').map((l) => l.split(':')).filter((f) => f.length >= 4);
  const gids = new Set([Number(entry[3])]);
  for (const g of groupRows) if (g[3]!.split(',').includes(entry[0]!)) gids.add(Number(g[2]));
  if (group !== undefined) {
    const named = /^\+?(\d+)$/.test(group) ? Number(group.replace('+', '')) : groupRows.find((g) => g[0] === group)?.[2];
    if (named !== undefined) gids.add(Number(named));
  }
  return { name: entry[0]!, uid: Number(entry[2]), gids: [...gids] };
}

/** Whether `account` may search (enter) a directory with this owner and mode. */
export function canSearch(dir: DirStat, account: Account): boolean {
  if (account.uid === 0) return true;
  if (dir.uid === account.uid) return (dir.mode & 0o100) !== 0;
  if (account.gids.includes(dir.gid)) return (dir.mode & 0o010) !== 0;
  return (dir.mode & 0o001) !== 0;
}

/** `/`, `/a`, `/a/b` for `/a/b`. */
export function pathAndAncestors(dir: string): string[] {
  const chain: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    chain.unshift(d);
    if (dirname(d) === d) return chain;
  }
}

/**
 * The first directory on the way to `dir` (itself included) that `account` cannot search.
 * Parts that do not exist yet are not looked at: the controller creates them, searchable.
 */
export function findBlockingDirectory(dir: string, account: Account, statOf: (path: string) => DirStat | undefined): Blocked | undefined {
  for (const path of pathAndAncestors(dir)) {
    const s = statOf(path);
    if (!s) return undefined;
    if (!canSearch(s, account)) return { dir: path, stat: s };
  }
  return undefined;
}

/** Only a local qemu:///system runs guests as another user on this host's files. */
export function runsGuestsAsQemuUser(uri: string): boolean {
  return /^qemu(\+unix)?:\/\/\/system(\?|$)/.test(uri);
}

/** A directory the guests must reach: the flag that sets it, and a place that works. */
export interface GuestDir {
  flag: '--overlay-dir' | '--image-dir';
  path: string;
  /** A directory the qemu user can reach on a stock Debian host. */
  reachable: string;
}

export function describeBlocked(dir: GuestDir, account: Account, blocked: Blocked): string {
  const mode = (blocked.stat.mode & 0o777).toString(8).padStart(3, '0');
  const bit = blocked.stat.uid === account.uid ? 'u+x' : account.gids.includes(blocked.stat.gid) ? 'g+x' : 'o+x';
  return `${dir.flag} ${dir.path}: libvirt runs guests as ${account.name} (uid ${account.uid}), which cannot search `
    + `${blocked.dir} (mode ${mode}, owner uid ${blocked.stat.uid}), so guests with disks would fail with "Permission denied". `
    + `Fix: chmod ${bit} ${blocked.dir}, or ${dir.flag} under ${dir.reachable}`;
}

export class DirAccessError extends Error {
  override readonly name = 'DirAccessError';
}

export interface QemuAccessFiles {
  qemuConf: string;
  passwd: string;
  group: string;
}

const SYSTEM_FILES: QemuAccessFiles = { qemuConf: '/etc/libvirt/qemu.conf', passwd: '/etc/passwd', group: '/etc/group' };

/** Reads who libvirt runs guests as; undefined where that user is unknown here (nothing to check). */
export async function readQemuAccount(files: QemuAccessFiles = SYSTEM_FILES): Promise<Account | undefined> {
  const conf = parseQemuConf(await readFile(files.qemuConf, 'utf8').catch(() => ''));
  const [passwd, group] = await Promise.all([readFile(files.passwd, 'utf8'), readFile(files.group, 'utf8').catch(() => '')]);
  return resolveAccount(conf.user ?? 'libvirt-qemu', conf.group ?? 'libvirt-qemu', passwd, group);
}

async function statsOnTheWay(dir: string): Promise<Map<string, DirStat>> {
  const stats = new Map<string, DirStat>();
  for (const path of pathAndAncestors(dir)) {
    const s = await stat(path).catch(() => undefined);
    if (!s) break;
    stats.set(path, { mode: s.mode, uid: s.uid, gid: s.gid });
  }
  return stats;
}

/**
 * Throws a DirAccessError naming the directory in the way if `account` cannot reach one of
 * `dirs` (by their path and, behind symlinks, by their real path).
 */
export async function assertReachable(account: Account, dirs: GuestDir[]): Promise<void> {
  for (const dir of dirs) {
    const real = await realpath(dir.path).catch(() => dir.path);
    for (const p of new Set([resolve(dir.path), real])) {
      const stats = await statsOnTheWay(p);
      const blocked = findBlockingDirectory(p, account, (q) => stats.get(q));
      if (blocked) throw new DirAccessError(describeBlocked(dir, account, blocked));
    }
  }
}

/** The start-time check: only for a local qemu:///system, whose qemu user is known here. */
export async function assertQemuCanReach(uri: string, dirs: GuestDir[], files?: QemuAccessFiles): Promise<void> {
  if (!runsGuestsAsQemuUser(uri)) return;
  const account = await readQemuAccount(files);
  if (account) await assertReachable(account, dirs);
}
