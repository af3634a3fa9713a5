// Reads a server-sent event stream over plain HTTP, for tests: events are collected as they
// come, and a test waits for the one it expects.
import { eventually } from '../helpers/harness.js';

export interface SseEvent {
  event: string;
  data: any;
}

export class SseClient {
  readonly events: SseEvent[] = [];
  private readonly abort = new AbortController();
  status = 0;

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    const res = await fetch(url, { headers, signal: client.abort.signal });
    client.status = res.status;
    if (res.ok && res.body) void client.read(res.body);
    return client;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data !== undefined) this.events.push({ event, data: JSON.parse(data) });
        }
      }
    } catch {
      // aborted
    }
  }

  /** The first event after index `from` that satisfies `pick`. */
  async next(pick: (e: SseEvent) => boolean, what: string, from = 0): Promise<SseEvent> {
    return eventually(() => this.events.slice(from).find(pick), what, 10_000);
  }

  close(): void {
    this.abort.abort();
  }
}
