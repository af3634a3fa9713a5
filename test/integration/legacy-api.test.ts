// The old OMF service's queries, as experiment scripts send them with wget, against a running
// controller over real HTTP: the answers' formats, and what changed in the YAML and in libvirt.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpServer } from '../../src/http/server.js';
import { silentLogger } from '../../src/core/logger.js';
import { eventually, Harness, vmYaml } from '../helpers/harness.js';

const COMMENTED = `# vm7 belongs to the handover experiment
apiVersion: wimaxvm.io/v1alpha1
kind: VirtualMachine
metadata:
  name: vm7   # keep this name
spec:
  runStrategy: Halted
  memory: 64Mi
`;

describe('the legacy /wimaxvm API', () => {
  let h: Harness;
  let base: string;
  const get = async (path: string, init?: RequestInit) => {
    const res = await fetch(base + path, init);
    return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
  };
  const snapshot = () => ({
    files: readdirSync(h.dir).sort().map((f) => `${f}:${readFileSync(join(h.dir, f), 'utf8')}`),
  });

  beforeAll(async () => {
    h = await Harness.create({ files: { 'vm7.yaml': COMMENTED } });
    // An image directory of the test's own: the default one may not exist on a fresh machine,
    // and the missing-image test wants "this image is not there", not "no image directory".
    const images = join(h.dir, '..', 'images');
    mkdirSync(images);
    h.flags = { listen: '127.0.0.1:0', 'image-dir': images };
    const running = await h.start();
    base = `http://127.0.0.1:${running.httpAddress!.port}`;
    await h.waitForStatus('vm7', 'Stopped');
  });
  afterAll(async () => h.dispose());

  it('/wimaxvm describes the service group as the old service did', async () => {
    const r = await get('/wimaxvm');
    expect(r.status).toBe(200);
    expect(r.type).toContain('xml');
    expect(r.body).toContain("<serviceGroup name='wimaxvm' prefix='/wimaxvm'>");
    for (const s of ['addclient', 'create', 'initvms', 'start', 'stop', 'startshaping', 'stopshaping', 'vmlist', 'vmstat']) expect(r.body).toContain(`<service name='${s}'`);
  });

  it('create declares a VM (defined, not running)', async () => {
    const r = await get('/wimaxvm/create?mac=52:52:52:52:52:52&ip=192.168.0.30&vmname=vm30');
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/^Domain vm30 created with vlan tag \d+\n$/);
    expect(readFileSync(join(h.dir, 'virtualmachine-default-vm30.yaml'), 'utf8')).toContain('runStrategy: Halted');
    expect((await h.domain('vm30'))!.state).toBe('shutoff');
    expect((await get('/wimaxvm/create?mac=52:52:52:52:52:53&ip=192.168.0.31&vmname=vm30')).status).toBe(409);
  });

  it('start answers like the old service, with the VLAN', async () => {
    const r = await get('/wimaxvm/start/?vmname=vm30');
    expect(r.status).toBe(200);
    expect(r.body).toBe(`Domain vm30 started  with vlan tag ${h.status('vm30')!.allocations.vlan}\n`);
    expect((await h.domain('vm30'))!.state).toBe('running');
    expect(readFileSync(join(h.dir, 'virtualmachine-default-vm30.yaml'), 'utf8')).toContain('runStrategy: Always');
  });

  it("start edits the user's own file in place, comments kept", async () => {
    const r = await get('/wimaxvm/start/?vmname=vm7');
    expect(r.body).toMatch(/^Domain vm7 started  with vlan tag \d+\n$/);
    const text = readFileSync(join(h.dir, 'vm7.yaml'), 'utf8');
    expect(text).toContain('# vm7 belongs to the handover experiment');
    expect(text).toContain('name: vm7 # keep this name');
    expect(text).toContain('runStrategy: Always');
  });

  it('vmlist and initvms give the old lines', async () => {
    const r = await get('/wimaxvm/vmlist');
    const vlan = h.status('vm30')!.allocations.vlan!;
    expect(r.body).toContain(`vm30 VLANid  ${String(vlan).padEnd(10)}mac address='52:52:52:52:52:52'/\n`);
    expect(r.body.split('\n').filter(Boolean)).toHaveLength(2);
    expect((await get('/wimaxvm/initvms')).body).toBe(r.body);
  });

  it('vmstat gives the domain XML', async () => {
    const r = await get('/wimaxvm/vmstat/?vmname=vm30');
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/<domain type='test' id='\d+'>/);
    expect(r.body).toContain('<name>vm30</name>');
    expect(r.body).toContain("<mac address='52:52:52:52:52:52'/>");
  });

  it('addclient declares the station for the VM', async () => {
    const r = await get('/wimaxvm/addclient?clientmac=00:11:22:33:44:55&vmname=vm30');
    // No Open vSwitch in this run: declared, but it cannot be bound, and the answer says why.
    expect(r.status).toBe(202);
    expect(r.body).toContain('Client 00:11:22:33:44:55 declared for vm30; Pending');
    expect(readFileSync(join(h.dir, 'wimaxclient-default-wxc-001122334455.yaml'), 'utf8')).toContain('vmName: vm30');
    const again = await get('/wimaxvm/addclient?clientmac=00:11:22:33:44:55&vmname=vm7');
    expect(again.body).toContain('declared for vm7');
    expect(readFileSync(join(h.dir, 'wimaxclient-default-wxc-001122334455.yaml'), 'utf8')).toContain('vmName: vm7');
  });

  it('stop answers "destroyed" and stops the guest', async () => {
    const r = await get('/wimaxvm/stop/?vmname=vm30');
    expect(r.body).toBe('Domain vm30 destroyed\n');
    expect((await h.domain('vm30'))!.state).toBe('shutoff');
  });

  it('stopshaping and startshaping switch the ShapingPolicy', async () => {
    expect((await get('/wimaxvm/stopshaping')).body).toBe('Shaping stopped\n');
    const file = join(h.dir, 'shapingpolicy-default-default.yaml');
    expect(readFileSync(file, 'utf8')).toContain('enabled: false');
    expect((await get('/wimaxvm/startshaping')).body).toBe('Shaping started\n');
    expect(readFileSync(file, 'utf8')).toContain('enabled: true');
  });

  it.each([
    ['/wimaxvm/start', 400, /missing parameter vmname/],
    ['/wimaxvm/start?vmname=', 400, /missing parameter vmname/],
    ['/wimaxvm/start?vmname=../../etc/passwd', 400, /invalid vmname/],
    ['/wimaxvm/start?vmname=%3Cdomain%3E', 400, /invalid vmname/],
    ['/wimaxvm/start?vmname=VM30', 400, /invalid vmname/],
    ['/wimaxvm/start?vmname=a&vmname=b', 400, /given 2 times/],
    [`/wimaxvm/start?vmname=${'a'.repeat(300)}`, 400, /invalid vmname/],
    ['/wimaxvm/start?vmname=nosuchvm', 404, /Domain nosuchvm not found/],
    ['/wimaxvm/vmstat?vmname=nosuchvm', 404, /not found/],
    ['/wimaxvm/addclient?clientmac=zz:11:22:33:44:55&vmname=vm30', 400, /invalid clientmac/],
    ['/wimaxvm/addclient?clientmac=01:00:5e:00:00:01&vmname=vm30', 400, /invalid clientmac/],
    ['/wimaxvm/create?mac=52:52:52:52:52:99&ip=300.1.1.1&vmname=vm99', 400, /invalid ip/],
    ['/wimaxvm/create?mac=52:52:52:52:52:99&vmname=vm99', 400, /missing parameter ip/],
    ['/wimaxvm/frobnicate', 404, /unknown service/],
    ['/etc/passwd', 404, /not found/],
  ])('%s → %i, nothing changed', async (path, status, message) => {
    const before = snapshot();
    const r = await get(path);
    expect(r.status).toBe(status);
    expect(r.body).toMatch(message);
    expect(snapshot()).toEqual(before);
  });

  it('refuses writes a browser page could make (cross-site, DNS rebinding), and HEAD writes', async () => {
    const before = snapshot();
    expect((await get('/wimaxvm/stop?vmname=vm7', { headers: { origin: 'http://evil.example' } })).status).toBe(403);
    expect((await get('/wimaxvm/stop?vmname=vm7', { headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
    // fetch will not send another Host header: a plain request, as a rebinding browser would.
    const withHost = (path: string, host: string) => new Promise<number>((resolve, reject) => {
      const req = request(`${base}${path}`, { headers: { host } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end();
    });
    expect(await withHost('/wimaxvm/stop?vmname=vm7', 'evil.example:5012')).toBe(403);
    // Names that only look like loopback addresses, and reads too (issue 15, 7).
    expect(await withHost('/wimaxvm/stop?vmname=vm7', '127.evil.example:5912')).toBe(403);
    expect(await withHost('/wimaxvm/stop?vmname=vm7', '127.0.0.1.nip.io:5012')).toBe(403);
    expect(await withHost('/wimaxvm/vmlist', '127.evil.example:5912')).toBe(403);
    expect(await withHost('/wimaxvm/vmlist', '127.0.0.1:5012')).toBe(200);
    expect(await withHost('/wimaxvm/vmlist', 'localhost:5012')).toBe(200);
    expect((await get('/wimaxvm/stop?vmname=vm7', { method: 'HEAD' })).status).toBe(405);
    expect(snapshot()).toEqual(before);
    expect((await get('/wimaxvm/vmlist', { headers: { origin: 'http://evil.example' } })).status).toBe(200); // reads are harmless
  });

  it('refuses other methods and oversized requests', async () => {
    expect((await get('/wimaxvm/start?vmname=vm30', { method: 'POST' })).status).toBe(405);
    expect((await get(`/wimaxvm/vmlist?x=${'a'.repeat(20_000)}`)).status).toBe(431);
  });

  it('many requests at once: all answered, the state consistent', async () => {
    const reads = await Promise.all(Array.from({ length: 100 }, () => get('/wimaxvm/vmlist')));
    expect(reads.every((r) => r.status === 200 || r.status === 503)).toBe(true);
    expect(reads.filter((r) => r.status === 200).length).toBeGreaterThan(50);
    const writes = await Promise.all(Array.from({ length: 10 }, (_, i) => get(`/wimaxvm/${i % 2 ? 'stop' : 'start'}?vmname=vm7`)));
    expect(writes.every((r) => r.status === 200)).toBe(true);
    // Writes are applied one at a time, in the order they arrive: libvirt ends as the file says.
    const last = /runStrategy: (\w+)/.exec(readFileSync(join(h.dir, 'vm7.yaml'), 'utf8'))![1];
    await eventually(async () => (await h.domain('vm7'))!.state === (last === 'Always' ? 'running' : 'shutoff'), `vm7 as its file says (${last})`);
    expect(readFileSync(join(h.dir, 'vm7.yaml'), 'utf8')).toContain('# vm7 belongs to the handover experiment');
  });

  it('long valid names: a 240-character vmname is created, stored and listed; one libvirt cannot hold is refused clearly (issue 15, 8)', async () => {
    const long = `l${'x'.repeat(238)}9`;
    const r = await get(`/wimaxvm/create?mac=52:52:52:52:53:01&ip=192.168.0.61&vmname=${long}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatch(new RegExp(`^Domain ${long} created with vlan tag \\d+\n$`));
    const file = readdirSync(h.dir).find((f) => f.startsWith(`virtualmachine-default-lxxx`))!;
    expect(file.length).toBeLessThanOrEqual(200);
    expect(readFileSync(join(h.dir, file), 'utf8')).toContain(`name: ${long}`);
    expect((await h.domain(long))!.state).toBe('shutoff');
    expect(h.statusFromDisk(long)?.printableStatus).toBe('Stopped');
    expect((await get('/wimaxvm/vmlist')).body).toContain(`${long} VLANid`);
    expect((await get(`/wimaxvm/start?vmname=${long}`)).status).toBe(200);
    expect((await h.domain(long))!.state).toBe('running');

    const before = snapshot();
    const tooLong = `t${'x'.repeat(247)}`;
    const refused = await get(`/wimaxvm/create?mac=52:52:52:52:53:02&ip=192.168.0.62&vmname=${tooLong}`);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatch(/^invalid vmname: the libvirt domain name tx{39}\.\.\. is 248 characters; .* at most 247 .*choose a shorter name\n$/);
    expect(snapshot()).toEqual(before);
  });

  it('start and stop of a Failed VM answer at once with the failure, not after the whole wait (issue 15, 10)', async () => {
    h.write('broken-disk.yaml', vmYaml({ name: 'vm-nodisk', runStrategy: 'Halted', extra: '  disks:\n    - image: no-such-image-recon.qcow2' }));
    await h.waitForStatus('vm-nodisk', 'Failed');
    const start = await get('/wimaxvm/start?vmname=vm-nodisk');
    expect(start.status).toBe(409);
    expect(start.body).toMatch(/^Domain vm-nodisk cannot start: it is Failed: disk image "no-such-image-recon.qcow2" not found/);
    const stop = await get('/wimaxvm/stop?vmname=vm-nodisk');
    expect(stop.status).toBe(409);
    expect(stop.body).toMatch(/^Domain vm-nodisk cannot stop: it is Failed/);
  });

  it('stop counts a saved VM as stopped; start restores it (powerState Running) and answers as before', async () => {
    h.write('saved.yaml', vmYaml({ name: 'vm-saved' }));
    await h.waitForStatus('vm-saved', 'Running');
    h.write('saved.yaml', vmYaml({ name: 'vm-saved', extra: '  powerState: Saved' }));
    await h.waitForStatus('vm-saved', 'Saved');
    const stop = await get('/wimaxvm/stop?vmname=vm-saved');
    expect([stop.status, stop.body]).toEqual([200, 'Domain vm-saved destroyed\n']);
    expect(await h.observer.hasManagedSave('vm-saved')).toBe(true);
    const start = await get('/wimaxvm/start?vmname=vm-saved');
    expect(start.status).toBe(200);
    expect(start.body).toMatch(/^Domain vm-saved started {2}with vlan tag/);
    expect(readFileSync(join(h.dir, 'saved.yaml'), 'utf8')).toMatch(/powerState: Running/);
    expect((await h.domain('vm-saved'))!.state).toBe('running');
  });

  it('/healthz and /readyz', async () => {
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).body).toBe('ok\n');
  });
});

describe('API tokens', () => {
  it('refuses to listen beyond loopback without a token', () => {
    expect(() => new HttpServer({ host: '0.0.0.0', port: 0, legacy: {} as never, ready: () => ({ ready: true }), logger: silentLogger }))
      .toThrow(/without a token/);
  });

  it('writes need the bearer token; reads do not', async () => {
    const h = await Harness.create({ files: {} });
    const tokenFile = join(h.dir, '..', 'token');
    (await import('node:fs')).writeFileSync(tokenFile, 's3cret\n');
    h.flags = { listen: '127.0.0.1:0', 'api-token-file': tokenFile };
    const running = await h.start();
    const base = `http://127.0.0.1:${running.httpAddress!.port}`;
    try {
      expect((await fetch(`${base}/wimaxvm/vmlist`)).status).toBe(200);
      expect((await fetch(`${base}/wimaxvm/stopshaping`)).status).toBe(401);
      expect((await fetch(`${base}/wimaxvm/stopshaping`, { headers: { authorization: 'Bearer wrong!' } })).status).toBe(401);
      expect((await fetch(`${base}/wimaxvm/stopshaping`, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
    } finally {
      await h.dispose();
    }
  });
});
