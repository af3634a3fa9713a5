// Many callers on one connection at once, handles dropped while their calls are in flight and
// collected by forced garbage collections: no crash, and every result is the right one.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConnection, type Connection } from '../../src/adapters/libvirt/native.js';
import { rejectsWith, testDomainXml, uniqueName } from './fixtures.js';

// A full collection on demand, without starting the test worker with --expose-gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('16 concurrent callers on one test:///default connection', () => {
  let conn: Connection;
  beforeAll(async () => {
    conn = await openConnection('test:///default');
  });
  afterAll(async () => {
    await conn.close();
  });

  it('define, look up, start, read, stop and undefine, with handles dropped and collected', async () => {
    const ROUNDS = 12;
    let collections = 0;
    const caller = async (w: number): Promise<number> => {
      let checked = 0;
      for (let i = 0; i < ROUNDS; i++) {
        const name = uniqueName(`c${w}`);
        const mac = `52:54:00:0c:${w.toString(16).padStart(2, '0')}:${i.toString(16).padStart(2, '0')}`;
        const defined = await conn.defineDomain(testDomainXml(name, { mac, memoryKiB: 65536 + w * 1024 + i }));
        expect(defined.name).toBe(name);
        // A fresh handle each time; the old ones become garbage while others' calls run.
        await (await conn.lookupDomainByName(name)).create();
        const d = await conn.lookupDomainByUuid(defined.uuid);
        const [state, info, xml, names, id] = await Promise.all([d.getState(), d.getInfo(), d.getXmlDesc(), conn.listAllDomains().then((all) => all.map((x) => x.name)), d.getId()]);
        expect(state).toMatchObject({ state: 'running', reason: 'booted' });
        expect(info.maxMemKiB).toBe(65536 + w * 1024 + i);
        expect(xml).toContain(`<name>${name}</name>`);
        expect(xml).toContain(mac);
        expect(names).toContain(name);
        expect((await conn.lookupDomainById(id!)).name).toBe(name);
        if ((w + i) % 7 === 0) {
          gc();
          collections++;
        }
        await (await conn.lookupDomainByName(name)).destroy();
        await defined.undefine();
        await rejectsWith(conn.lookupDomainByName(name), 'VIR_ERR_NO_DOMAIN');
        await rejectsWith(d.getState(), 'VIR_ERR_NO_DOMAIN');
        checked++;
      }
      return checked;
    };
    const done = await Promise.all(Array.from({ length: 16 }, (_, w) => caller(w)));
    expect(done).toEqual(Array(16).fill(ROUNDS));
    expect(collections).toBeGreaterThan(0);
  });

  it('a handle collected while its call is in flight: the call still answers right', async () => {
    const test = await conn.lookupDomainByName('test');
    const uuid = test.uuid;
    // Each promise is all that is left of its handle: nothing in JavaScript keeps the handle.
    const inFlight = (): Promise<string> => conn.lookupDomainByUuid(uuid).then((d) => d.getXmlDesc());
    for (let round = 0; round < 10; round++) {
      const pending = Array.from({ length: 200 }, inFlight);
      gc();
      const xmls = await Promise.all(pending);
      expect(xmls.every((x) => x.includes(`<uuid>${uuid}</uuid>`))).toBe(true);
    }
  });
});
