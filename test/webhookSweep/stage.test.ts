import { randomBytes } from 'node:crypto';
import { startEmbeddedStack } from '../../functions/embeddedStack.js';
import type { EmbeddedStack } from '../../functions/embeddedStack.js';
import { MANIFEST } from '../../functions/stages.js';
import { webhookIntake } from '../../functions/webhookIntake/stage.js';
import { webhookSweep } from '../../functions/webhookSweep/stage.js';
import type { Runtime } from '../../shared/runtime/runtime.js';
import { manifestOf } from '../../shared/stage/manifest.js';
import { FakeGitHub } from '../../standins/githubApi.js';
import { githubHeaders, githubPushPayload } from '../../standins/gitHost.js';
import { logLines, testRuntime } from '../support/runtimes.js';

/**
 * The webhookSweep stage in the embedded stack: its timer's tick sweeps the hooks the config
 * names, asks the GitHub stand-in (held to GitHub's OpenAPI description) to redeliver the failed
 * push deliveries once each, and leaves alone the ones intake holds, found in the run ledger.
 */
const TOKEN = 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB';
const SECRET = 'sweep-webhook-secret';
const HOOK = 12345678;
const CONFIG = `pipelines:
  - name: shop
    repository: acme/shop
    branches: [main]
    services: [{ name: frontend, path: src/frontend/ }]
    webhook: { hookId: ${HOOK} }
  - name: docs
    repository: acme/docs
    branches: [main]
    services: []
`;

let github: FakeGitHub;
let runtime: Runtime | undefined;
let stack: EmbeddedStack | undefined;

async function start(env: Record<string, string>): Promise<void> {
  runtime = testRuntime('in-process', CONFIG, { env: { GITHUB_WEBHOOK_SECRET: SECRET, ...env } });
  stack = await startEmbeddedStack(runtime, { manifest: manifestOf([webhookIntake, webhookSweep]), schedules: false, subscriptionPrefix: `sweep-${randomBytes(3).toString('hex')}-` });
}

beforeEach(async () => {
  github = await FakeGitHub.start({ token: TOKEN });
});
afterEach(async () => {
  expect(github.violations).toEqual([]);
  expect(github.unhandled).toEqual([]);
  await stack?.close();
  await runtime?.ledger().close();
  await github.close();
  stack = undefined;
  runtime = undefined;
});

test('is on the list of stages, every five minutes deployed and every minute in baton dev', () => {
  expect(MANIFEST.find('webhookSweep')?.trigger).toEqual({ kind: 'schedule', cron: '*/5 * * * *', embeddedEverySeconds: 60 });
});

test('a failed delivery is redelivered once, however many sweeps run; one that intake holds is left alone', async () => {
  await start({ GITHUB_TOKEN: TOKEN, GITHUB_API_URL: github.url });
  // Intake took this push, but GitHub never saw its answer (a timeout after the 202).
  const sha = randomBytes(20).toString('hex');
  const body = JSON.stringify(githubPushPayload({ repository: 'acme/shop', cloneUrl: 'file:///source', ref: 'refs/heads/main', before: 'b'.repeat(40), after: sha, commits: [] }));
  const response = await fetch(`${stack!.url}/webhookIntake`, { method: 'POST', headers: githubHeaders(SECRET, body, 'push', 'held-by-intake'), body });
  expect(response.status).toBe(202);
  const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  github.addDeliveries('acme/shop', HOOK, [
    { guid: 'delivered', status_code: 202, delivered_at: minutesAgo(3) },
    { guid: 'intake-was-down', status_code: 503, delivered_at: minutesAgo(2) },
    { guid: 'held-by-intake', status_code: 0, delivered_at: minutesAgo(1) },
  ]);

  const first = await stack!.tick();
  expect(first.webhookSweep).toEqual({ github: { listed: 3, failed: 2, redelivered: ['intake-was-down'], skipped: 1, errors: [] } });
  const second = await stack!.tick();
  expect(second.webhookSweep).toMatchObject({ github: { redelivered: [] } });
  expect(github.redeliveries).toEqual([expect.objectContaining({ owner: 'acme', repo: 'shop', hookId: HOOK, guid: 'intake-was-down' })]);
  // Only the pipeline with a hook was swept.
  expect(new Set(github.requests.filter((request) => request.operationId === 'repos/list-webhook-deliveries').map((request) => request.path))).toEqual(new Set([`/repos/acme/shop/hooks/${HOOK}/deliveries`]));
});

test('without GitHub credentials the sweep says once that it is off, and calls nothing', async () => {
  await start({ GITHUB_API_URL: github.url });
  const before = logLines.length;
  expect((await stack!.tick()).webhookSweep).toEqual({});
  expect((await stack!.tick()).webhookSweep).toEqual({});
  expect(logLines.slice(before).filter((line) => line.includes('the webhook sweep of github is off'))).toHaveLength(1);
  expect(github.requests).toEqual([]);
});
