// The addon builds and loads; the names it gives come from libvirt's headers, not from text.
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../../src/package-root.js';
import { describe, expect, it } from 'vitest';
import { ErrorCode, stateInfo } from '../../src/adapters/libvirt/native.js';

/** Members of one `typedef enum {...} name;` of an installed libvirt header, with values. */
function headerEnum(header: string, name: string): Map<string, number> {
  const text = readFileSync(`/usr/include/libvirt/${header}`, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const body = new RegExp(`typedef\\s+enum\\s*\\{([^}]*)\\}\\s*${name}\\s*;`).exec(text)?.[1];
  if (!body) throw new Error(`${name} not in ${header}`);
  const out = new Map<string, number>();
  let next = 0;
  for (const m of body.matchAll(/(VIR_\w+)\s*(?:=\s*(\d+))?\s*,?/g)) {
    const value = m[2] !== undefined ? Number(m[2]) : next;
    out.set(m[1]!, value);
    next = value + 1;
  }
  return out;
}

describe('the addon', () => {
  it('names error codes as virterror.h does', () => {
    const codes = headerEnum('virterror.h', 'virErrorNumber');
    expect(ErrorCode.NO_DOMAIN).toBe(codes.get('VIR_ERR_NO_DOMAIN'));
    expect(ErrorCode.NO_DOMAIN).toBe(42);
    for (const name of ['NO_NETWORK', 'OPERATION_INVALID', 'SYSTEM_ERROR', 'NO_CONNECT', 'INVALID_CONN', 'RPC', 'NO_DOMAIN_METADATA', 'HOOK_SCRIPT_FAILED'] as const) {
      expect(ErrorCode[name], name).toBe(codes.get(`VIR_ERR_${name}`));
    }
  });

  it('names states and reasons as libvirt-domain.h does', () => {
    const shutoff = headerEnum('libvirt-domain.h', 'virDomainShutoffReason');
    expect(stateInfo(5, shutoff.get('VIR_DOMAIN_SHUTOFF_DESTROYED')!)).toEqual({ state: 'shutoff', reason: 'destroyed', stateCode: 5, reasonCode: 2 });
    expect(stateInfo(5, shutoff.get('VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT')!).reason).toBe('from-snapshot');
    expect(stateInfo(3, headerEnum('libvirt-domain.h', 'virDomainPausedReason').get('VIR_DOMAIN_PAUSED_STARTING_UP')!).reason).toBe('starting-up');
    expect(stateInfo(7, 0)).toEqual({ state: 'pmsuspended', reason: 'unknown', stateCode: 7, reasonCode: 0 });
  });
});

/** Runs a script with the addon as `addon` in a fresh node. */
function nodeWithAddon(script: string): string[] {
  const load = `const addon = require(${JSON.stringify(join(PACKAGE_ROOT, 'build', 'Release', 'wimaxvm_libvirt.node'))});`;
  return ['-e', `${load}\n(async () => { ${script} })().catch((e) => { console.error(e); process.exit(3); });`];
}

describe('the process around the addon', () => {
  it('exits by itself after calls, a closed connection, and event listening switched off', async () => {
    const script = `
      const conn = await addon.openConnection('test:///default', false, 5, 3);
      await conn.hostname();
      conn.setEventSink(() => {});
      await conn.enableDomainEvents();
      await conn.disableDomainEvents();
      await conn.close();
      console.log('done');`;
    // Hung at exit before: the pool's condition variable was destroyed under its waiting threads.
    const { stdout } = await promisify(execFile)(process.execPath, nodeWithAddon(script), { timeout: 30_000 });
    expect(stdout).toBe('done\n');
  });

  it('stays up while domain events are listened to (as for a socket being read)', async () => {
    const child = spawn(process.execPath, nodeWithAddon(`
      const conn = await addon.openConnection('test:///default', false, 5, 3);
      conn.setEventSink(() => {});
      await conn.enableDomainEvents();
      console.log('listening');`), { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await new Promise((resolve) => child.stdout.once('data', resolve));
    // Nothing else keeps it up: a macrotask later it would have exited already.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(child.exitCode).toBeNull();
    child.kill('SIGKILL');
    await exited;
  });
});
