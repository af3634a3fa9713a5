// The live stream's flow control, with a response whose socket buffer the test fills and
// drains by hand: a page that cannot keep up is skipped, never queued for, and gets the whole
// testbed once it drains; one that only had a large write pending is not sent it again.
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { resourceKey } from '../../src/api/meta.js';
import { VM_KIND } from '../../src/api/virtual-machine.js';
import { LiveStream } from '../../src/http/ui/live-stream.js';
import { generateTestbed, ready, vm, vmStatus } from './generated-testbed.js';

class SlowResponse extends EventEmitter {
  readonly written: string[] = [];
  /** What write() answers: false = the socket's buffer is full. */
  accepts = true;

  writeHead(): this { return this; }
  write(chunk: string): boolean {
    this.written.push(chunk);
    return this.accepts;
  }
  end(): void {}
  events(): string[] {
    return this.written.flatMap((w) => [...w.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]!));
  }
}

describe('LiveStream flow control', () => {
  const setup = () => {
    const bed = generateTestbed(2, 2, 1);
    const stream = new LiveStream({ source: { declaredKeys: () => bed.store.keys(), declared: (k) => bed.store.get(k), statuses: (kind) => bed.statuses.list(kind) }, intervalMs: 60_000 });
    const stop = async (name: string) => bed.statuses.write(resourceKey(VM_KIND, 'ns-0', name), { ...vm(name, 'ns-0'), status: vmStatus('Stopped', 2, [ready('False', 'Stopped')]) });
    return { bed, stream, stop };
  };

  it('skips a backlogged page and sends it everything once it drains', async () => {
    const { stream, stop } = setup();
    const res = new SlowResponse();
    res.accepts = false;
    stream.attach(res as unknown as ServerResponse);
    expect(res.events()).toEqual(['snapshot']);
    await stop('slice-0000');
    stream.tick();
    expect(res.events()).toEqual(['snapshot']); // nothing queued while backlogged
    res.accepts = true;
    res.emit('drain');
    expect(res.events()).toEqual(['snapshot', 'snapshot']);
    expect(res.written[1]).toContain('"id":"ns-0/slice-0000","ns":"ns-0","name":"slice-0000","state":"Stopped"');
    await stop('slice-0001');
    stream.tick();
    expect(res.events()).toEqual(['snapshot', 'snapshot', 'diff']);
    stream.close();
  });

  it('a page whose large write was only buffered gets no second snapshot when it drains', async () => {
    const { stream, stop } = setup();
    const res = new SlowResponse();
    res.accepts = false;
    stream.attach(res as unknown as ServerResponse);
    res.accepts = true;
    res.emit('drain');
    await stop('slice-0000');
    stream.tick();
    expect(res.events()).toEqual(['snapshot', 'diff']);
    stream.close();
  });
});
