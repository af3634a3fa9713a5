// The console's pure parts: the Ctrl-] escape, the session (against an in-memory channel: the
// stream's logic, not libvirt's), whether a domain can be attached to, and where VNC listens.
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { consoleRefusal, type VmRef } from '../../src/console/attachable.js';
import { splitAtEscape } from '../../src/console/escape.js';
import { runConsoleSession, type ConsoleChannel } from '../../src/console/session.js';
import { hostOfUri, vncTarget } from '../../src/console/vnc-target.js';
import { buildDomainXml } from '../../src/reconcilers/virtual-machine/domain-xml.js';

describe('splitAtEscape', () => {
  it.each([
    ['no escape', 'ls\r', 'ls\r', false],
    ['escape alone', '\x1d', '', true],
    ['text then escape', 'ab\x1d', 'ab', true],
    ['nothing after the escape is sent', 'ab\x1dcd', 'ab', true],
    ['Ctrl-C is just a byte for the guest', '\x03', '\x03', false],
  ])('%s', (_what, input, forward, escaped) => {
    const split = splitAtEscape(Buffer.from(input, 'latin1'));
    expect(split.forward.toString('latin1')).toBe(forward);
    expect(split.escaped).toBe(escaped);
  });
});

class MemoryChannel implements ConsoleChannel {
  readonly written: string[] = [];
  closed = false;
  failWrites = false;
  private data?: (chunk: Buffer) => void;
  private end?: (err?: Error) => void;
  onData(l: (chunk: Buffer) => void): void { this.data = l; }
  onEnd(l: (err?: Error) => void): void { this.end = l; }
  async write(chunk: Buffer): Promise<void> {
    if (this.failWrites) throw new Error('stream broke');
    this.written.push(chunk.toString());
  }
  async close(): Promise<void> { this.closed = true; }
  guestSays(text: string): void { this.data!(Buffer.from(text)); }
  guestGoes(err?: Error): void { this.end!(err); }
}

/** A terminal stdin: setRawMode records what it was set to. */
function tty(): PassThrough & { isTTY: boolean; isRaw: boolean; modes: boolean[]; setRawMode(raw: boolean): void } {
  const input = new PassThrough() as PassThrough & { isTTY: boolean; isRaw: boolean; modes: boolean[]; setRawMode(raw: boolean): void };
  input.isTTY = true;
  input.isRaw = false;
  input.modes = [];
  input.setRawMode = (raw: boolean) => { input.isRaw = raw; input.modes.push(raw); };
  return input;
}

function session(input = tty() as PassThrough & { isTTY?: boolean }) {
  const channel = new MemoryChannel();
  const output = new PassThrough();
  let shown = '';
  output.on('data', (c: Buffer) => { shown += c.toString(); });
  const signals = new EventEmitter();
  const ended = runConsoleSession(channel, { input, output, signals: signals as unknown as Pick<NodeJS.Process, 'on' | 'off'> });
  return { channel, input, output: () => shown, signals, ended };
}

describe('a console session', () => {
  it('passes input to the guest and the guest to the output; Ctrl-] ends it after what came before it', async () => {
    const s = session();
    s.channel.guestSays('counter 1\r\n');
    s.input.write('echo hi\r');
    s.input.write('x\x1dnever');
    expect(await s.ended).toEqual({ by: 'escape' });
    expect(s.channel.written.join('')).toBe('echo hi\rx');
    expect(s.output()).toBe('counter 1\r\n');
    expect(s.channel.closed).toBe(true);
  });

  it.each([
    ['the escape', (s: ReturnType<typeof session>) => s.input.write('\x1d'), { by: 'escape' }],
    ['the guest going away', (s: ReturnType<typeof session>) => s.channel.guestGoes(), { by: 'guest' }],
    ['a stream error', (s: ReturnType<typeof session>) => s.channel.guestGoes(new Error('lost')), { by: 'error', error: new Error('lost') }],
    ['a failed write', (s: ReturnType<typeof session>) => { s.channel.failWrites = true; s.input.write('a'); }, { by: 'error', error: new Error('stream broke') }],
    ['SIGTERM', (s: ReturnType<typeof session>) => s.signals.emit('SIGTERM', 'SIGTERM'), { by: 'signal', signal: 'SIGTERM' }],
    ['SIGHUP', (s: ReturnType<typeof session>) => s.signals.emit('SIGHUP', 'SIGHUP'), { by: 'signal', signal: 'SIGHUP' }],
  ])('a terminal is raw while attached and restored after %s', async (_what, end, expected) => {
    const s = session();
    const input = s.input as ReturnType<typeof tty>;
    expect(input.isRaw).toBe(true);
    end(s);
    expect(await s.ended).toEqual(expected);
    expect(input.modes).toEqual([true, false]);
    expect(s.signals.listenerCount('SIGTERM')).toBe(0);
    expect(s.channel.closed).toBe(true);
  });

  it('a pipe is never put in raw mode, and its end ends the session after its bytes are sent', async () => {
    const pipe = new PassThrough();
    const s = session(pipe);
    pipe.end('uname\r');
    expect(await s.ended).toEqual({ by: 'input-ended' });
    expect(s.channel.written).toEqual(['uname\r']);
  });

  it('nothing the guest says after the end reaches the output', async () => {
    const s = session();
    s.input.write('\x1d');
    await s.ended;
    s.channel.guestSays('late');
    expect(s.output()).toBe('');
  });
});

const vm: VmRef = { namespace: 'default', name: 'vm30', domainName: 'vm30', uri: 'qemu:///system' };
const ours = buildDomainXml({
  name: 'vm30', uuid: '6695eb01-f6a4-8304-79aa-97f2502e193f', type: 'qemu', memoryKiB: 65536, vcpus: 1, diskPaths: [], mac: '52:54:00:00:00:01',
  nic: { type: 'user' }, owner: { uid: 'u', namespace: 'default', name: 'vm30', generation: 1, specHash: 'h', mac: '52:54:00:00:00:01', controller: 'file://h/d' },
});
const foreign = "<domain type='qemu'><name>vm30</name><memory>65536</memory></domain>";

describe('consoleRefusal', () => {
  it.each([
    ['no domain', undefined, /no libvirt domain vm30 on qemu:\/\/\/system: the VM is not declared/],
    ['a domain that is not wimaxvm\'s', { name: 'vm30', state: 'running' as const, persistentXml: foreign }, /not a wimaxvm VM .*wimaxvm adopt vm30/],
    ['a stopped VM', { name: 'vm30', state: 'shutoff' as const, persistentXml: ours }, /VM vm30 is not running \(domain vm30 is shutoff\)/],
    ['a running VM', { name: 'vm30', state: 'running' as const, persistentXml: ours }, undefined],
    ['a paused VM (its console still works)', { name: 'vm30', state: 'paused' as const, persistentXml: ours }, undefined],
  ])('%s', (_what, domain, expected) => {
    const refusal = consoleRefusal(vm, domain);
    if (expected) expect(refusal).toMatch(expected);
    else expect(refusal).toBeUndefined();
  });

  it('names the namespace of a VM outside default, and checks the metadata is of that VM', () => {
    const other = { namespace: 'lab', name: 'vm30', domainName: 'lab_vm30', uri: 'qemu:///system' };
    expect(consoleRefusal(other, { name: 'lab_vm30', state: 'running', persistentXml: ours })).toMatch(/^VM lab\/vm30: .*\(no wimaxvm metadata for lab\/vm30\)/);
  });
});

const live = (graphics: string) => `<domain type='qemu' id='4'><name>vm30</name><devices>${graphics}</devices></domain>`;

describe('vncTarget', () => {
  it.each([
    ['loopback listen (what wimaxvm defines)', live("<graphics type='vnc' port='5901' autoport='yes' listen='127.0.0.1'><listen type='address' address='127.0.0.1'/></graphics>"), undefined,
      { kind: 'vnc', host: '127.0.0.1', port: 5901, display: 1, url: 'vnc://127.0.0.1:5901', loopback: true }],
    ['any address on a remote URI: the libvirt host', live("<graphics type='vnc' port='5907' listen='0.0.0.0'/>"), 'node7',
      { kind: 'vnc', host: 'node7', port: 5907, display: 7, url: 'vnc://node7:5907', loopback: false }],
    ['IPv6 listen', live("<graphics type='vnc' port='5902'><listen type='address' address='fd00::5'/></graphics>"), undefined,
      { kind: 'vnc', host: 'fd00::5', port: 5902, display: 2, url: 'vnc://[fd00::5]:5902', loopback: false }],
  ])('%s', (_what, xml, host, expected) => {
    expect(vncTarget(xml, host)).toEqual(expected);
  });

  it.each([
    ['no graphics', live("<serial type='pty'/>"), /no VNC graphics device/],
    ['only SPICE', live("<graphics type='spice' port='5930'/>"), /no VNC graphics device/],
    ['a VNC socket', live("<graphics type='vnc' socket='/run/vnc.sock'/>"), /UNIX socket/],
    ['no port yet', live("<graphics type='vnc' port='-1' autoport='yes'/>"), /not given its VNC display a port/],
  ])('none: %s', (_what, xml, why) => {
    const t = vncTarget(xml);
    expect(t.kind).toBe('none');
    expect(t.kind === 'none' && t.why).toMatch(why);
  });

  it.each([
    ['qemu:///system', undefined],
    ['qemu+ssh://root@node7/system', 'node7'],
    ['qemu+tcp://10.0.0.2:16509/system', '10.0.0.2'],
    ['qemu+tls://[fd00::2]/system', 'fd00::2'],
    ['test:///default', undefined],
  ])('hostOfUri(%s)', (uri, host) => {
    expect(hostOfUri(uri)).toBe(host);
  });
});
