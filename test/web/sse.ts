/** A Server-Sent Events client for tests: fetch with a streamed body, events parsed as they come. */
export interface SseEvent {
  id?: string;
  event: string;
  data: any;
  /** When its bytes arrived: `performance.timeOrigin + performance.now()` (one clock across processes, for the benchmarks). */
  at: number;
}

export interface SseClient {
  readonly events: SseEvent[];
  /** Resolves with the events once `predicate` holds for the list (checked at each event). */
  until(predicate: (events: SseEvent[]) => boolean, timeoutMs?: number, what?: string): Promise<SseEvent[]>;
  close(): void;
  /** The HTTP status of the response. */
  readonly status: number;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { Accept: "text/event-stream", ...headers }, signal: controller.signal });
  const events: SseEvent[] = [];
  const waiters = new Set<() => void>();
  if (response.ok && response.body) {
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = "";
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          const at = performance.timeOrigin + performance.now();
          buffer += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event: SseEvent = { event: "message", data: undefined, at };
            const data: string[] = [];
            for (const line of block.split("\n")) {
              if (line.startsWith(":")) continue;
              const colon = line.indexOf(":");
              const field = colon < 0 ? line : line.slice(0, colon);
              const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
              if (field === "id") event.id = value;
              else if (field === "event") event.event = value;
              else if (field === "data") data.push(value);
            }
            if (data.length === 0) continue;
            event.data = JSON.parse(data.join("\n"));
            events.push(event);
            for (const wake of waiters) wake();
          }
        }
      } catch {
        // Closed.
      }
    })();
  }
  return {
    events,
    status: response.status,
    until(predicate, timeoutMs = 10_000, what = "the events") {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(events)) return;
          cleanup();
          resolve(events);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; got: ${events.map((e) => e.event).join(", ")}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close: () => controller.abort(),
  };
}
