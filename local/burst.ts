import { randomBytes, randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { githubHeaders, githubPushPayload } from '../standins/gitHost.js';

/**
 * A burst of signed GitHub pushes at a webhook URL, paced at a fixed rate, with some of them
 * exact redeliveries (same body, same `X-GitHub-Delivery`) of pushes sent at least a second
 * earlier, as GitHub's "Redeliver" does. Used by the load test and `npm run bench:burst`.
 */
export type BurstOptions = {
  url: string;
  secret: string;
  repository: string;
  /** Requests in all, redeliveries included. */
  requests: number;
  redeliveries: number;
  durationMs: number;
  /** Give up on an answer after this long (it counts as no answer). Default 60 s. */
  timeoutMs?: number;
};

export type BurstResult = {
  sent: number;
  /** New runs (202). */
  accepted: number;
  /** Redeliveries of a run's push: answered as duplicates, or re-driven (202 `redriven`) when its event was not marked published yet; either way no new run. */
  duplicates: number;
  /** Answers with a status of 500 or more. */
  errors: number;
  /** Requests that got no answer (timeout or a broken connection). */
  unanswered: number;
  statuses: Record<string, number>;
  runIds: Set<string>;
  p50: number;
  p99: number;
  max: number;
};

type Push = { body: string; deliveryId: string };

function push(repository: string): Push {
  const after = randomBytes(20).toString('hex');
  const body = JSON.stringify(
    githubPushPayload({
      repository,
      cloneUrl: `https://github.com/${repository}.git`,
      ref: 'refs/heads/main',
      before: randomBytes(20).toString('hex'),
      after,
      commits: [{ id: after, message: 'frontend: burst', author: { name: 'dev', email: 'dev@example.com' }, modified: ['src/frontend/main.go'] }],
    }),
  );
  return { body, deliveryId: randomUUID() };
}

export async function burst(options: BurstOptions): Promise<BurstResult> {
  const target = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const interval = options.durationMs / options.requests;
  // Which requests are redeliveries: spread evenly over the burst after its first second, each
  // of a push sent at least a second before.
  const minLag = Math.min(options.requests - options.redeliveries, Math.ceil(1000 / interval));
  const redeliverAt = new Set<number>();
  for (let k = 0; k < options.redeliveries; k++) redeliverAt.add(minLag + Math.floor((k * (options.requests - minLag)) / options.redeliveries));
  const sent: Array<Push & { index: number }> = [];
  const result: BurstResult = { sent: 0, accepted: 0, duplicates: 0, errors: 0, unanswered: 0, statuses: {}, runIds: new Set(), p50: 0, p99: 0, max: 0 };
  const latencies: number[] = [];
  const started = performance.now();
  const pending: Array<Promise<void>> = [];
  for (let i = 0; i < options.requests; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const earlier = sent.filter((candidate) => candidate.index <= i - minLag);
    const redelivery = redeliverAt.has(i) && earlier.length > 0;
    const one = redelivery ? earlier[Math.floor(Math.random() * earlier.length)]! : { ...push(options.repository), index: i };
    if (!redelivery) sent.push(one);
    pending.push(send(one));
  }
  await Promise.all(pending);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { ...result, sent: options.requests, p50: at(0.5), p99: at(0.99), max: latencies.at(-1) ?? 0 };

  function send(one: Push): Promise<void> {
    const t0 = performance.now();
    const headers = { ...githubHeaders(options.secret, one.body, 'push', one.deliveryId), 'content-length': String(Buffer.byteLength(one.body)) };
    return new Promise((resolve) => {
      const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers, timeout: options.timeoutMs ?? 60_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          latencies.push(performance.now() - t0);
          const status = res.statusCode ?? 0;
          result.statuses[status] = (result.statuses[status] ?? 0) + 1;
          if (status >= 500) result.errors++;
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { runId?: string; duplicate?: boolean; redriven?: boolean };
            if (status === 202 && body.runId && !body.redriven) {
              result.accepted++;
              result.runIds.add(body.runId);
            }
            if (body.duplicate || body.redriven) result.duplicates++;
          } catch {
            // not JSON: counted by status only
          }
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        result.unanswered++;
        resolve();
      });
      req.end(one.body);
    });
  }
}
