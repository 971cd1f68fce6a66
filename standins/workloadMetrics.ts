import { createServer } from 'node:http';
import type { Server } from 'node:http';

/**
 * A stand-in for the workloads' own metrics endpoint (what Managed Prometheus scrapes through
 * the chart's PodMonitoring), for tests and the demo. It serves `GET /metrics` in the Prometheus
 * text format with one counter:
 *
 *     http_requests_total{service="frontend",digest="sha256:…",code="200"} 1234.5
 *     http_requests_total{service="frontend",digest="sha256:…",code="500"} 12.5
 *
 * The test or the demo says how much traffic each (service, digest) gets with `setTraffic`,
 * and the counters advance with wall-clock time at that rate, whenever they are read. So
 * `rate(http_requests_total[10s])` is `rps` and an error ratio such as
 *
 *     sum(rate(http_requests_total{code=~"5..",digest="sha256:…"}[10s]))
 *       / sum(rate(http_requests_total{digest="sha256:…"}[10s]))
 *
 * is `errorRatio`, two scrapes after the traffic starts. Counters never go down: changing a
 * stream's traffic changes only how fast they grow from then on. A digest that never had
 * traffic has no series at all (a query for it is empty: "no data"); `stopTraffic` removes a
 * stream's series, which Prometheus then marks stale at the next scrape.
 */
export type Traffic = {
  service: string;
  digest: string;
  /** Requests per second, all codes together. */
  rps: number;
  /** Share of requests answered with `errorCode`, 0..1. */
  errorRatio: number;
  /** Status code of the errors. Default 500. */
  errorCode?: number;
};

export type WorkloadMetrics = {
  /** `host:port`, the form a Prometheus scrape target takes. */
  target: string;
  /** `http://host:port/metrics`. */
  url: string;
  setTraffic(traffic: Traffic): void;
  stopTraffic(service: string, digest: string): void;
  /** The exposition text as the next scrape would see it. */
  render(): string;
  /** Scrapes served so far. */
  scrapes(): number;
  close(): Promise<void>;
};

type Stream = Traffic & { ok: number; errors: number; since: number };

const key = (service: string, digest: string) => `${service}\u0000${digest}`;

/** Escapes a label value as the text format requires (backslash, double quote, newline). */
function labelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function validate(traffic: Traffic): void {
  if (!(traffic.rps >= 0) || !Number.isFinite(traffic.rps)) throw new Error(`invalid traffic for ${traffic.service}: rps must be a finite number >= 0, got ${traffic.rps}`);
  if (!(traffic.errorRatio >= 0 && traffic.errorRatio <= 1)) throw new Error(`invalid traffic for ${traffic.service}: errorRatio must be within 0..1, got ${traffic.errorRatio}`);
}

export async function startWorkloadMetrics(options: { port?: number; now?: () => number } = {}): Promise<WorkloadMetrics> {
  const now = options.now ?? Date.now;
  const streams = new Map<string, Stream>();
  let scrapes = 0;

  /** Brings every counter up to now at its stream's current rate. */
  const advance = () => {
    const at = now();
    for (const stream of streams.values()) {
      const seconds = Math.max(0, (at - stream.since) / 1000);
      stream.ok += stream.rps * (1 - stream.errorRatio) * seconds;
      stream.errors += stream.rps * stream.errorRatio * seconds;
      stream.since = at;
    }
  };

  const render = () => {
    advance();
    const lines = ['# HELP http_requests_total Requests served, by service, image digest and status code.', '# TYPE http_requests_total counter'];
    for (const stream of streams.values()) {
      const labels = (code: number) => `service="${labelValue(stream.service)}",digest="${labelValue(stream.digest)}",code="${code}"`;
      lines.push(`http_requests_total{${labels(200)}} ${round(stream.ok)}`);
      lines.push(`http_requests_total{${labels(stream.errorCode ?? 500)}} ${round(stream.errors)}`);
    }
    return `${lines.join('\n')}\n`;
  };

  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('only GET /metrics\n');
      return;
    }
    scrapes++;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(render());
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    target: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}/metrics`,
    setTraffic(traffic) {
      validate(traffic);
      advance();
      const existing = streams.get(key(traffic.service, traffic.digest));
      if (existing && (existing.errorCode ?? 500) !== (traffic.errorCode ?? 500)) throw new Error(`traffic for ${traffic.service}@${traffic.digest} already reports errors as ${existing.errorCode ?? 500}; stop it first`);
      streams.set(key(traffic.service, traffic.digest), { ...traffic, ok: existing?.ok ?? 0, errors: existing?.errors ?? 0, since: now() });
    },
    stopTraffic(service, digest) {
      streams.delete(key(service, digest));
    },
    render,
    scrapes: () => scrapes,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function round(value: number): string {
  return String(Math.round(value * 1000) / 1000);
}
