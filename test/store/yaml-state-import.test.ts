// The state directory of earlier wimaxvm versions (a YAML file per resource, events.jsonl) is
// imported into the database once, by the first controller that opens it; the files stay.
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { readEvents } from '../../src/adapters/store/sqlite-event-log.js';
import { buildConfig } from '../../src/config.js';
import { createLogger } from '../../src/core/logger.js';
import { FileMode } from '../../src/modes/file-mode.js';

function oldStateDir(): string {
  const stateDir = mkdtempSync(join(tmpdir(), 'wimaxvm-old-state-'));
  const object = (kind: string, namespace: string, name: string, status: Record<string, unknown>) => ({
    apiVersion: 'wimaxvm.io/v1alpha1', kind,
    metadata: { name, namespace, uid: `uid-${name}`, generation: 2, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: kind === 'VirtualMachine' ? { runStrategy: 'Once', memory: '64Mi' } : { mac: '00:11:22:33:44:55', vmName: 'vm30' },
    status,
  });
  mkdirSync(join(stateDir, 'virtualmachines', 'default'), { recursive: true });
  mkdirSync(join(stateDir, 'virtualmachines', 'lab'), { recursive: true });
  mkdirSync(join(stateDir, 'wimaxclients', 'default'), { recursive: true });
  writeFileSync(join(stateDir, 'virtualmachines', 'default', 'vm30.yaml'), stringify(object('VirtualMachine', 'default', 'vm30', { printableStatus: 'Stopped', startedOnce: true, allocations: { mac: '52:54:00:00:00:30', vlan: 7 } })));
  writeFileSync(join(stateDir, 'virtualmachines', 'lab', 'vm31.yaml'), stringify(object('VirtualMachine', 'lab', 'vm31', { printableStatus: 'Running' })));
  writeFileSync(join(stateDir, 'virtualmachines', 'default', 'torn.yaml'), 'metadata: {name: [');
  writeFileSync(join(stateDir, 'virtualmachines', 'default', 'vm32.yaml.tmp-123-4'), ''); // the old writer's litter
  writeFileSync(join(stateDir, 'wimaxclients', 'default', 'st1.yaml'), stringify(object('WimaxClient', 'default', 'st1', { printableStatus: 'Bound', vlan: 7 })));
  const event = (reason: string, count: number, first: string, last: string) =>
    JSON.stringify({ key: 'VirtualMachine/default/vm30', type: 'Normal', reason, message: `${reason} it`, count, firstTimestamp: first, lastTimestamp: last });
  writeFileSync(join(stateDir, 'events.jsonl.1'), event('Created', 1, '2026-01-01T00:00:01Z', '2026-01-01T00:00:01Z') + '\n');
  writeFileSync(join(stateDir, 'events.jsonl'), [
    event('Started', 1, '2026-01-01T00:00:02Z', '2026-01-01T00:00:02Z'),
    event('Started', 2, '2026-01-01T00:00:02Z', '2026-01-01T00:00:09Z'), // a folded repeat, appended again
    '{"key": "VirtualMachine/default/vm30", "typ', // cut by a crash
  ].join('\n') + '\n');
  return stateDir;
}

describe('import of the old YAML state directory', () => {
  it('imports objects and events once, in the first controller that opens it, and leaves the files', async () => {
    const stateDir = oldStateDir();
    const before = readdirSync(stateDir, { recursive: true }).sort();
    const logs: string[] = [];
    const logger = createLogger({ format: 'json', write: (l) => logs.push(l) });
    const config = buildConfig({ dir: mkdtempSync(join(tmpdir(), 'wimaxvm-vms-')), 'state-dir': stateDir, listen: 'off' });

    const first = new FileMode(config, logger);
    expect(first.statuses.get('VirtualMachine/default/vm30')?.status).toMatchObject({ startedOnce: true, allocations: { vlan: 7 } });
    expect(first.statuses.get('VirtualMachine/lab/vm31')?.status.printableStatus).toBe('Running');
    expect(first.statuses.get('WimaxClient/default/st1')?.status.vlan).toBe(7);
    expect(first.statuses.list('VirtualMachine')).toHaveLength(2);
    expect(readEvents(first.state.db, 'VirtualMachine/default/vm30').map((e) => [e.reason, e.count])).toEqual([['Created', 1], ['Started', 2]]);
    expect(logs.filter((l) => l.includes('imported the old YAML state directory (3 object(s), 2 event(s))'))).toHaveLength(1);
    await first.statuses.remove('VirtualMachine/lab/vm31');
    await first.close();

    // The files are still there, but a second start does not import them again.
    expect(readdirSync(stateDir, { recursive: true }).filter((f) => !String(f).startsWith('state.db') && f !== 'controller.lock').sort()).toEqual(before);
    const second = new FileMode(config, logger);
    expect(second.statuses.get('VirtualMachine/lab/vm31')).toBeUndefined();
    expect(readEvents(second.state.db, 'VirtualMachine/default/vm30')).toHaveLength(2);
    expect(logs.filter((l) => l.includes('imported the old YAML'))).toHaveLength(1);
    await second.close();
  });

  it('a state directory without the old layout imports nothing and says nothing', async () => {
    const logs: string[] = [];
    const config = buildConfig({ dir: mkdtempSync(join(tmpdir(), 'wimaxvm-vms-')), 'state-dir': mkdtempSync(join(tmpdir(), 'wimaxvm-new-')), listen: 'off' });
    const mode = new FileMode(config, createLogger({ format: 'json', write: (l) => logs.push(l) }));
    expect(mode.statuses.list('VirtualMachine')).toEqual([]);
    expect(logs.join('\n')).not.toContain('imported');
    await mode.close();
  });
});
