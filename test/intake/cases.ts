import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { BusMessage } from '../../shared/bus/bus.js';
import type { RunLedger } from '../../shared/ledger/runLedger.js';
import { markHandled } from '../../shared/ledger/runLedger.js';
import { makeEvent } from '../../shared/contracts/index.js';
import { runIdFor } from '../../functions/webhookIntake/intake.js';
import { githubHeaders } from '../../standins/gitHost.js';

/** Webhook requests for the intake tests, built from the documented payloads in test/fixtures/webhook. */
export const GITHUB_SECRET = 'It’s a Secret to Everybody — 🔑';
export const GITHUB_OLD_SECRET = 'the-previous-secret-still-rotating';
export const GITLAB_TOKEN = 'gitlab-shared-token-0123456789';
export const BOT_EMAIL = 'baton-bot@users.noreply.baton.dev';

export const CONFIG = `
pipelines:
  - name: shop
    repository: acme/shop
    branches: ["main", "release/*"]
    services:
      - name: frontend
        path: src/frontend/
      - name: cartservice
        path: src/cartservice/
`;

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(process.cwd(), 'test/fixtures/webhook', name), 'utf8')) as Record<string, unknown>;

export type WebhookRequest = { headers: Record<string, string>; body: Buffer };
export type Case = {
  name: string;
  request: () => WebhookRequest;
  status: number;
  /** Whether this request must start a run (publish one push-received), or drive one on again. */
  publishes: boolean;
  /**
   * The run's first stage takes it (repoMirror marks its push-received handled) before the next
   * case is sent: the test, standing in for repoMirror, waits for that.
   */
  taken?: boolean;
  /** Something the ledger already holds before the request is sent. */
  prepare?: (ledger: RunLedger) => Promise<void>;
  check?: (body: Record<string, unknown>) => void;
  /**
   * functions-framework parses an application/json body itself before the function runs and
   * answers 400 on its own when that fails; the status is the contract, not the body's shape.
   */
  frameworkMayAnswer?: boolean;
};

export const githubPush = (change: (payload: Record<string, any>) => void = () => undefined): Record<string, any> => {
  const payload = fixture('github.push.json') as Record<string, any>;
  change(payload);
  return payload;
};
export const gitlabPush = (change: (payload: Record<string, any>) => void = () => undefined): Record<string, any> => {
  const payload = fixture('gitlab.push.json') as Record<string, any>;
  change(payload);
  return payload;
};

export function github(payload: unknown, options: { event?: string; secret?: string; delivery?: string; raw?: Buffer } = {}): WebhookRequest {
  const body = options.raw ?? Buffer.from(JSON.stringify(payload));
  return { headers: githubHeaders(options.secret ?? GITHUB_SECRET, body, options.event ?? 'push', options.delivery ?? randomUUID()), body };
}

/** A GitLab webhook request; `idempotencyKey` as GitLab 17.4+ sends it (kept by a resend, which gets a new event UUID). */
export function gitlab(payload: unknown, options: { token?: string | null; event?: string; uuid?: string; idempotencyKey?: string } = {}): WebhookRequest {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-gitlab-event': options.event ?? 'Push Hook',
    'x-gitlab-event-uuid': options.uuid ?? randomUUID(),
    'x-gitlab-instance': 'https://gitlab.example.com',
    ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
  };
  if (options.token !== null) headers['x-gitlab-token'] = options.token ?? GITLAB_TOKEN;
  return { headers, body: Buffer.from(JSON.stringify(payload)) };
}

const ZERO = '0'.repeat(40);
const sha = (n: number) => n.toString(16).padStart(40, 'a');
const redelivery = randomUUID();
/** Two delivery ids whose run ids share all 32 bits of the hash (sha256 of `github:<id>` starts d6868094 for both). */
const [collidingFirst, collidingSecond] = ['collide-23999', 'collide-46808'];
const gitlabRedelivery = randomUUID();
const gitlabIdempotencyKey = randomUUID();
const strandedDelivery = randomUUID();

/** Writes a run the way intake does before it publishes, and stops there. */
async function strandRun(ledger: RunLedger, deliveryId: string): Promise<void> {
  const push = githubPush();
  const runId = runIdFor('shop', push.after, 'github', deliveryId);
  const at = new Date();
  const order = `${at.toISOString()}~${runId}`;
  const event = makeEvent('push-received', {
    runId, pipeline: 'shop', kind: 'app', provider: 'github', deliveryId, repository: 'acme/shop', cloneUrl: push.repository.clone_url, ref: push.ref, branch: 'main',
    before: push.before, after: push.after, forced: false, created: false, pusher: { name: push.pusher.name }, commits: [], changedPaths: ['src/frontend/main.go'],
    services: ['frontend'], servicesResolved: true, order,
  });
  await ledger.createRun(
    { runId, pipeline: 'shop', kind: 'app', order, provider: 'github', deliveryId, repository: 'acme/shop', ref: push.ref, branch: 'main', before: push.before, after: push.after, pusher: { name: push.pusher.name }, services: ['frontend'] },
    at,
    { intake: { status: 'succeeded', startedAt: at.toISOString(), endedAt: at.toISOString() } },
    { 'push-received': { topic: 'push-received', event, at: at.toISOString() } },
  );
}

/** Failure modes first, then the ways a push counts (Kargo's github_test.go style). */
export const CASES: Case[] = [
  { name: 'no git host headers at all', request: () => ({ headers: { 'content-type': 'application/json' }, body: Buffer.from('{}') }), status: 400, publishes: false },
  {
    name: 'GitHub push without a signature',
    request: () => {
      const request = github(githubPush());
      delete request.headers['x-hub-signature-256'];
      return request;
    },
    status: 401,
    publishes: false,
  },
  { name: 'GitHub push signed with the wrong secret', request: () => github(githubPush(), { secret: 'not the secret' }), status: 401, publishes: false },
  {
    name: 'GitHub push with a tampered body',
    request: () => {
      const request = github(githubPush());
      return { ...request, body: Buffer.from(request.body.toString('utf8').replace('octocat', 'mallory')) };
    },
    status: 401,
    publishes: false,
  },
  {
    name: 'GitHub push with a garbage signature',
    request: () => ({ ...github(githubPush()), headers: { ...github(githubPush()).headers, 'x-hub-signature-256': 'sha256=zz' } }),
    status: 401,
    publishes: false,
  },
  { name: 'validly signed body that is not JSON', request: () => github(undefined, { raw: Buffer.from('{"ref": "refs/heads/main", ') }), status: 400, publishes: false, frameworkMayAnswer: true },
  { name: 'validly signed JSON that is not a push', request: () => github({ ref: 'refs/heads/main', hello: 'world' }), status: 400, publishes: false },
  { name: 'validly signed push with a bad sha', request: () => github(githubPush((p) => (p.after = 'not-a-sha'))), status: 400, publishes: false },
  {
    name: 'GitHub push without a delivery id',
    request: () => {
      const request = github(githubPush());
      delete request.headers['x-github-delivery'];
      return request;
    },
    status: 400,
    publishes: false,
  },
  { name: 'GitLab push without a token', request: () => gitlab(gitlabPush(), { token: null }), status: 401, publishes: false },
  { name: 'GitLab push with the wrong token', request: () => gitlab(gitlabPush(), { token: 'gitlab-shared-token-0123456780' }), status: 401, publishes: false },
  { name: 'GitLab malformed push', request: () => gitlab({ object_kind: 'push', ref: 'refs/heads/main' }), status: 400, publishes: false },
  { name: 'GitHub ping', request: () => github(fixture('github.ping.json'), { event: 'ping' }), status: 200, publishes: false },
  { name: 'GitHub issues event', request: () => github({ action: 'opened' }, { event: 'issues' }), status: 200, publishes: false },
  { name: 'GitHub branch deletion', request: () => github(githubPush((p) => Object.assign(p, { deleted: true, after: ZERO, commits: [], head_commit: null }))), status: 200, publishes: false },
  { name: 'GitHub tag push (tags not configured)', request: () => github(githubPush((p) => (p.ref = 'refs/tags/v1.2.3'))), status: 200, publishes: false },
  { name: 'repository no pipeline lists', request: () => github(githubPush((p) => (p.repository.full_name = 'acme/other'))), status: 200, publishes: false },
  { name: 'branch no pipeline lists', request: () => github(githubPush((p) => (p.ref = 'refs/heads/feature/x'))), status: 200, publishes: false },
  {
    name: "push made only of the pipeline's own chart commits",
    request: () =>
      github(
        githubPush((p) => {
          p.commits[0].message = 'chore(chart): bump frontend to 0d1a26e\n\nBaton-Run: shop-1-0d1a26e\n';
          p.commits[0].author = { name: 'baton-bot', email: BOT_EMAIL };
        }),
      ),
    status: 200,
    publishes: false,
  },
  { name: 'push that touches no service', request: () => github(githubPush((p) => (p.commits[0].modified = ['README.md']))), status: 200, publishes: false },
  { name: 'GitLab tag push hook', request: () => gitlab(gitlabPush((p) => Object.assign(p, { object_kind: 'tag_push', ref: 'refs/tags/v1' })), { event: 'Tag Push Hook' }), status: 200, publishes: false },
  { name: 'GitLab branch deletion', request: () => gitlab(gitlabPush((p) => Object.assign(p, { after: ZERO, commits: [], total_commits_count: 0 }))), status: 200, publishes: false },
  {
    name: 'GitHub push (non-ASCII and emoji in the body)',
    request: () => github(githubPush()),
    status: 202,
    publishes: true,
    // The run id follows from the delivery: pipeline, short sha, a hash of the delivery id.
    check: (body) => expect(body.runId).toMatch(/^shop-0d1a26e-[0-9a-f]{8}$/),
  },
  { name: 'GitHub push signed with the previous secret (rotation)', request: () => github(githubPush(), { secret: GITHUB_OLD_SECRET }), status: 202, publishes: true },
  { name: 'GitHub push, first delivery', request: () => github(githubPush(), { delivery: redelivery }), status: 202, publishes: true, taken: true },
  { name: 'GitHub redelivery of the same delivery id, after the mirror took the run', request: () => github(githubPush(), { delivery: redelivery }), status: 200, publishes: false, check: (body) => expect(body.duplicate).toBe(true) },
  {
    name: 'GitHub redelivery of a push whose run never left intake (the process died before publishing) re-drives it',
    // The run as an intake that died right after its ledger write left it: written, never published.
    prepare: (ledger) => strandRun(ledger, strandedDelivery),
    request: () => github(githubPush(), { delivery: strandedDelivery }),
    status: 202,
    publishes: true,
    check: (body) => expect(body).toMatchObject({ runId: runIdFor('shop', githubPush().after, 'github', strandedDelivery), redriven: true }),
  },
  {
    name: 'GitHub push, the first of two deliveries whose run ids would be the same',
    request: () => github(githubPush(), { delivery: collidingFirst }),
    status: 202,
    publishes: true,
    taken: true,
    check: (body) => expect(body.runId).toBe(runIdFor('shop', githubPush().after, 'github', collidingFirst)),
  },
  {
    name: 'GitHub push, the second of them: not a redelivery but a run of its own, under the longer id',
    request: () => github(githubPush(), { delivery: collidingSecond }),
    status: 202,
    publishes: true,
    taken: true,
    check: (body) => {
      expect(runIdFor('shop', githubPush().after, 'github', collidingSecond)).toBe(runIdFor('shop', githubPush().after, 'github', collidingFirst));
      expect(body.runId).toBe(runIdFor('shop', githubPush().after, 'github', collidingSecond, 16));
    },
  },
  {
    name: 'GitHub redelivery of the second: a duplicate of its own run',
    request: () => github(githubPush(), { delivery: collidingSecond }),
    status: 200,
    publishes: false,
    check: (body) => expect(body).toMatchObject({ duplicate: true, runId: runIdFor('shop', githubPush().after, 'github', collidingSecond, 16) }),
  },
  { name: 'GitHub forced push', request: () => github(githubPush((p) => (p.forced = true))), status: 202, publishes: true },
  { name: 'GitHub new release branch', request: () => github(githubPush((p) => Object.assign(p, { ref: 'refs/heads/release/1.0', created: true, before: ZERO }))), status: 202, publishes: true },
  {
    name: 'GitHub push with a truncated commit list',
    request: () =>
      github(
        githubPush((p) => {
          p.commits = Array.from({ length: 20 }, (_, i) => ({ ...p.commits[0], id: sha(i), modified: ['docs/x.md'] }));
        }),
      ),
    status: 202,
    publishes: true,
  },
  {
    name: 'GitHub push sent form-encoded (content type application/x-www-form-urlencoded)',
    request: () => {
      const body = Buffer.from(`payload=${encodeURIComponent(JSON.stringify(githubPush((p) => (p.commits[0].modified = ['src/cartservice/x.cs']))))}`);
      const request = github(undefined, { raw: body });
      return { body, headers: { ...request.headers, 'content-type': 'application/x-www-form-urlencoded' } };
    },
    status: 202,
    publishes: true,
  },
  { name: 'GitLab push', request: () => gitlab(gitlabPush(), { uuid: gitlabRedelivery }), status: 202, publishes: true, taken: true },
  { name: 'GitLab redelivery of the same event UUID', request: () => gitlab(gitlabPush(), { uuid: gitlabRedelivery }), status: 200, publishes: false },
  { name: 'GitLab 17.4+ push, with its Idempotency-Key', request: () => gitlab(gitlabPush(), { idempotencyKey: gitlabIdempotencyKey }), status: 202, publishes: true, taken: true },
  {
    name: 'GitLab resend of that event: a new event UUID, the same Idempotency-Key, so a duplicate',
    request: () => gitlab(gitlabPush(), { idempotencyKey: gitlabIdempotencyKey }),
    status: 200,
    publishes: false,
    check: (body) => expect(body).toMatchObject({ duplicate: true, deliveryId: gitlabIdempotencyKey }),
  },
];

/** The test's stand-in for repoMirror taking a run, as the stage runner would: it marks the run's push-received handled. */
export async function takeRun(ledger: RunLedger, message: BusMessage): Promise<void> {
  const event = JSON.parse(message.data.toString('utf8')) as { runId: string; deliveryId: string };
  await ledger.updateRun(event.runId, (run) => markHandled(run, 'push-received', 'repoMirror', new Date().toISOString()));
}

export async function taken(ledger: RunLedger, runId: string): Promise<true | undefined> {
  return (await ledger.getRun(runId))?.outbox['push-received']?.handled?.repoMirror ? true : undefined;
}
