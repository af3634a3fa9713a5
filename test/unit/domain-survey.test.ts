// The serving rules of a resync's listing (src/adapters/libvirt/domain-survey.ts), where timing
// decides: a change told while the listing is still being read, a reconnect meanwhile, and age.
import { describe, expect, it } from 'vitest';
import { DomainSurvey, SURVEY_SERVES_MS } from '../../src/adapters/libvirt/domain-survey.js';
import type { SurveyedDomain } from '../../src/adapters/libvirt/native.js';

const domain = (name: string): SurveyedDomain => ({ name, uuid: `uuid-${name}`, state: 'running', reason: 'booted', stateCode: 1, reasonCode: 1, persistentXml: `<domain><name>${name}</name></domain>`, liveXml: `<domain type='test' id='7'><name>${name}</name></domain>` });

/** A listing whose answer the test gives when it chooses. */
function pendingRead(): { read: () => Promise<SurveyedDomain[]>; answer: (d: SurveyedDomain[]) => void } {
  let answer!: (d: SurveyedDomain[]) => void;
  const p = new Promise<SurveyedDomain[]>((r) => (answer = r));
  return { read: () => p, answer };
}

describe('a resync listing serves each domain once, while nothing may have changed it', () => {
  it('serves a snapshot once, with the id from the live XML', async () => {
    const s = new DomainSurvey();
    await s.take(async () => [domain('a')], true);
    expect(s.serve('a')).toMatchObject({ name: 'a', id: 7, state: 'running', persistentXml: expect.stringContaining('<name>a</name>') });
    expect(s.serve('a')).toBeUndefined();
  });

  it('a domain changed while the listing was being read is not served (its read may predate the change); the others are', async () => {
    const s = new DomainSurvey();
    const { read, answer } = pendingRead();
    const taking = s.take(read, true);
    s.changed('a'); // e.g. its stopped event arrives before the listing's answer
    answer([domain('a'), domain('b')]);
    await taking;
    expect(s.serve('a')).toBeUndefined();
    expect(s.serve('b')).toBeDefined();
  });

  it('a reconnect while the listing was being read: nothing of it is served', async () => {
    const s = new DomainSurvey();
    const { read, answer } = pendingRead();
    const taking = s.take(read, true);
    s.clear();
    answer([domain('a')]);
    await taking;
    expect(s.serve('a')).toBeUndefined();
  });

  it('a listing older than a resync may be is not served', async () => {
    let now = 1_000;
    const s = new DomainSurvey(() => now);
    await s.take(async () => [domain('a'), domain('b')], true);
    now += SURVEY_SERVES_MS;
    expect(s.serve('a')).toBeDefined();
    now += 1;
    expect(s.serve('b')).toBeUndefined();
  });

  it('a listing that took longer than that to read (10,000 domains over a socket) is served once it returns', async () => {
    let now = 1_000;
    const s = new DomainSurvey(() => now);
    await s.take(async () => {
      now += 3 * SURVEY_SERVES_MS;
      return [domain('a')];
    }, true);
    expect(s.serve('a')).toBeDefined();
  });

  it('a listing taken without serve (the hosts\' figures) keeps nothing', async () => {
    const s = new DomainSurvey();
    await s.take(async () => [domain('a')], false);
    expect(s.serve('a')).toBeUndefined();
  });
});
