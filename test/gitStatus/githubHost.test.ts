import { generateKeyPairSync } from 'node:crypto';
import { hostError } from '../../functions/gitStatus/githubClient.js';
import { githubHost } from '../../functions/gitStatus/githubHost.js';
import { gitHostFor } from '../../functions/gitStatus/hosts.js';
import { MemoryReportLedger } from '../../functions/gitStatus/memoryLedger.js';
import { reportRun } from '../../functions/gitStatus/reporter.js';
import { PermanentGitHostError, TransientGitHostError } from '../../functions/gitStatus/types.js';
import type { DesiredStatus, RunSnapshot } from '../../functions/gitStatus/types.js';
import { FakeGitHub } from '../../standins/githubApi.js';
import { SHA, happySteps, timeline } from './runs.js';

/**
 * The real GitHub client (Octokit with the throttling and retry plugins, and App auth) against
 * the GitHub stand-in, which checks every request against GitHub's OpenAPI description: after
 * each test the stand-in must have recorded no violation and no operation it does not know.
 */
const TOKEN = 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB';
const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const fast = { writeIntervalMs: 0, retries: 1, retryBaseMs: 50 };
const status = (overrides: Partial<DesiredStatus> = {}): DesiredStatus => ({
  context: 'baton/build',
  stage: 'build',
  state: 'pending',
  description: 'running',
  stageStatus: 'running',
  rank: 0,
  ...overrides,
});

let github: FakeGitHub;
beforeEach(async () => {
  github = await FakeGitHub.start({ token: TOKEN });
});
afterEach(async () => {
  expect(github.violations).toEqual([]);
  expect(github.unhandled).toEqual([]);
  await github.close();
});

/** Milliseconds between the first request of an operation and its retry. */
function retryDelay(operationId: string): number {
  const [first, second] = github.requests.filter((request) => request.operationId === operationId);
  expect(second).toBeDefined();
  return second!.at - first!.at;
}

describe('GitHub host against the stand-in', () => {
  test('a whole run leaves one status per stage on the commit and one deployment, all valid against the OpenAPI description', async () => {
    const host = githubHost({ token: TOKEN, baseUrl: github.url, ...fast });
    const ledger = new MemoryReportLedger();
    const deps = { host, ledger, log: quiet, defaultEnvironment: 'production', targetUrl: 'https://jenkins.example.com/job/{pipeline}/{runId}/' };
    for (const snapshot of timeline(happySteps, {}, { status: 'succeeded' })) await reportRun(snapshot, deps);

    expect(github.latestStatuses('acme', 'shop', SHA)).toEqual({
      'baton/intake': 'success',
      'baton/mirror': 'success',
      'baton/build': 'success',
      'baton/approval': 'success',
      'baton/chart': 'success',
      'baton/deploy': 'success',
    });
    expect(github.statuses('acme', 'shop', SHA).map((s) => `${s.context}=${s.state}`)).toHaveLength(11);
    expect(github.statuses('acme', 'shop', SHA)[0]).toMatchObject({ target_url: 'https://jenkins.example.com/job/shop/shop-7-a84d88e/', description: 'succeeded in 5s' });
    const [deployment] = github.deployments('acme', 'shop');
    expect(deployment).toMatchObject({ sha: SHA, environment: 'production', payload: { runId: 'shop-7-a84d88e', pipeline: 'shop' } });
    expect(deployment!.statuses.map((s) => s.state)).toEqual(['queued', 'in_progress', 'success']);
    expect(github.requests.every((request) => request.auth === 'token')).toBe(true);
    const body = github.requests.find((request) => request.operationId === 'repos/create-deployment')!.body;
    expect(body).toMatchObject({ auto_merge: false, required_contexts: [] });
  });

  test.each([
    ['403, secondary rate limit', { status: 403, secondary: true }],
    ['429, secondary rate limit', { status: 429, secondary: true }],
  ] as const)('%s with retry-after: 1 is retried after the delay', async (_name, failure) => {
    const warnings: Array<Record<string, unknown> | undefined> = [];
    const host = githubHost({ token: TOKEN, baseUrl: github.url, ...fast, log: { ...quiet, warn: (_m, fields) => warnings.push(fields) } });
    github.failNext({ ...failure, retryAfter: 1 });
    await host.setStatus('acme/shop', SHA, status());
    const delay = retryDelay('repos/create-commit-status');
    expect(delay).toBeGreaterThanOrEqual(950);
    expect(delay).toBeLessThan(3000);
    expect(github.latestStatuses('acme', 'shop', SHA)).toEqual({ 'baton/build': 'pending' });
    expect(warnings[0]).toMatchObject({ retryAfterSeconds: 1, retrying: true });
  });

  test.each([403, 429] as const)('%i primary rate limit (x-ratelimit-remaining: 0) waits for the reset, then retries', async (code) => {
    const host = githubHost({ token: TOKEN, baseUrl: github.url, ...fast });
    github.failNext({ status: code, retryAfter: 1 });
    await host.setStatus('acme/shop', SHA, status());
    const delay = retryDelay('repos/create-commit-status');
    expect(delay).toBeGreaterThanOrEqual(950);
    expect(delay).toBeLessThan(4500);
  });

  test('a rate limit longer than the in-process wait fails transiently at once (the bus retries later)', async () => {
    const host = githubHost({ token: TOKEN, baseUrl: github.url, ...fast, maxRateLimitWaitSeconds: 5 });
    github.failNext({ status: 403, secondary: true, retryAfter: 600 });
    const started = Date.now();
    await expect(host.setStatus('acme/shop', SHA, status())).rejects.toThrow(TransientGitHostError);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('rate limits that never end give up after the bounded retries', async () => {
    const host = githubHost({ token: TOKEN, baseUrl: github.url, ...fast, rateLimitRetries: 1 });
    github.failNext({ status: 429, secondary: true, retryAfter: 1, times: 5 }); // (retry-after: 0 would mean GitHub's 60 s fallback)
    await expect(host.setStatus('acme/shop', SHA, status())).rejects.toThrow(TransientGitHostError);
    expect(github.requests.filter((request) => request.operationId === 'repos/create-commit-status')).toHaveLength(2);
  });

  test('a 5xx from the host is retried, then fails the report transiently and never changes the run; the bus retry delivers it', async () => {
    const host = githubHost({ token: TOKEN, baseUrl: github.url, ...fast });
    const ledger = new MemoryReportLedger();
    const deps = { host, ledger, log: quiet, defaultEnvironment: 'production' };
    const [snapshot] = timeline([['build', 'running']]);
    const before = structuredClone(snapshot!);
    github.failNext({ status: 502, times: 2 });
    await expect(reportRun(snapshot!, deps)).rejects.toThrow(TransientGitHostError);
    expect(snapshot).toEqual(before);
    expect(github.requests.map((request) => request.status)).toEqual([502, 502]); // the client's own retry, then give up
    await reportRun(snapshot!, deps); // the redelivered event
    expect(github.latestStatuses('acme', 'shop', SHA)).toEqual({ 'baton/build': 'pending' });
  });

  test('a 5xx that heals within the client retry is invisible to the caller', async () => {
    const host = githubHost({ token: TOKEN, baseUrl: github.url, ...fast });
    github.failNext({ status: 500 });
    await host.setStatus('acme/shop', SHA, status());
    expect(github.requests.map((request) => request.status)).toEqual([500, 201]);
  });

  test('a GitHub App authenticates with an installation token it gets from the App JWT', async () => {
    await github.close();
    github = await FakeGitHub.start({ token: TOKEN, appId: 42 });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const host = gitHostFor({ GITHUB_APP_ID: '42', GITHUB_APP_PRIVATE_KEY: privateKey.replace(/\n/g, '\\n'), GITHUB_APP_INSTALLATION_ID: '7', GITHUB_API_URL: github.url }, 'github', fast)!;
    await host.setStatus('acme/shop', SHA, status());
    await host.setStatus('acme/shop', SHA, status({ state: 'success', rank: 1 }));
    expect(github.requests.map((request) => `${request.operationId}:${request.auth}`)).toEqual([
      'apps/create-installation-access-token:jwt',
      'repos/create-commit-status:installation',
      'repos/create-commit-status:installation', // the token is cached until it expires
    ]);
  });

  test('without credentials there is no host: reporting is off', () => {
    expect(gitHostFor({ GITHUB_API_URL: github.url }, 'github')).toBeUndefined();
    expect(gitHostFor({ GITHUB_TOKEN: '  ' }, 'github')).toBeUndefined();
    expect(gitHostFor({}, 'gitlab')).toBeUndefined();
    expect(gitHostFor({ GITHUB_TOKEN: TOKEN }, 'github')?.provider).toBe('github');
  });

  test('errors: other 4xx are permanent, rate limits and 5xx transient, and no token leaks into a message', async () => {
    expect(hostError('x', { status: 404, message: 'Not Found' })).toBeInstanceOf(PermanentGitHostError);
    expect(hostError('x', { status: 422, message: 'Validation Failed' })).toBeInstanceOf(PermanentGitHostError);
    expect(hostError('x', { status: 403, message: 'Resource not accessible by integration' })).toBeInstanceOf(PermanentGitHostError);
    expect(hostError('x', { status: 403, message: 'x', response: { headers: { 'x-ratelimit-remaining': '0' } } })).toBeInstanceOf(TransientGitHostError);
    expect(hostError('x', { status: 503, message: 'Service Unavailable' })).toBeInstanceOf(TransientGitHostError);
    expect(hostError('x', new Error('connect ECONNREFUSED 127.0.0.1:1'))).toBeInstanceOf(TransientGitHostError);
    const host = githubHost({ token: 'ghp_wrongwrongwrongwrongwrongwrongwrong12', baseUrl: github.url, ...fast });
    const error = await host.setStatus('acme/shop', SHA, status()).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(PermanentGitHostError);
    expect((error as Error).message).toMatch(/HTTP 401/);
    expect((error as Error).message).not.toContain('ghp_wrong');
  });

  test('a host that is down (connection refused) is a transient error', async () => {
    const port = new URL(github.url).port;
    await github.close();
    const host = githubHost({ token: TOKEN, baseUrl: `http://127.0.0.1:${port}`, ...fast, retries: 0 });
    await expect(host.setStatus('acme/shop', SHA, status())).rejects.toThrow(TransientGitHostError);
    github = await FakeGitHub.start({ token: TOKEN });
  });
});

describe('the stand-in holds requests to the OpenAPI description', () => {
  let strict: FakeGitHub;
  beforeAll(async () => {
    strict = await FakeGitHub.start();
  });
  afterAll(async () => {
    await strict.close();
  });
  const post = (path: string, body: unknown) =>
    fetch(`${strict.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  test.each([
    ['an unknown state', `/repos/acme/shop/statuses/${SHA}`, { state: 'bogus', context: 'baton/build' }, 422, 'body does not match the requestBody schema'],
    ['a wrong type', `/repos/acme/shop/statuses/${SHA}`, { state: 'success', context: 42 }, 422, 'body does not match the requestBody schema'],
    ['a missing required field', `/repos/acme/shop/statuses/${SHA}`, { context: 'baton/build' }, 422, 'body does not match the requestBody schema'],
    ['a description over 140 characters', `/repos/acme/shop/statuses/${SHA}`, { state: 'success', description: 'x'.repeat(141) }, 422, 'description is longer than 140 characters'],
    ['a path GitHub does not have', `/repos/acme/shop/status/${SHA}`, { state: 'success' }, 404, `no operation POST /repos/acme/shop/status/${SHA} in GitHub's OpenAPI description`],
    ['a deployment id that is not a number', '/repos/acme/shop/deployments/abc/statuses', { state: 'success' }, 422, 'path parameter deployment_id must be an integer'],
    ['a deployment state GitHub does not have', '/repos/acme/shop/deployments/1/statuses', { state: 'done' }, 422, 'body does not match the requestBody schema'],
  ])('%s is refused and recorded', async (_name, path, body, code, reason) => {
    const before = strict.violations.length;
    const response = await post(path, body);
    expect(response.status).toBe(code);
    expect(strict.violations.slice(before).map((v) => v.reason)).toEqual([reason]);
  });

  test('a valid request is not a violation, and unknown query parameters are', async () => {
    const before = strict.violations.length;
    expect((await post(`/repos/acme/shop/statuses/${SHA}`, { state: 'success', context: 'baton/build', description: 'ok', target_url: null })).status).toBe(201);
    expect(strict.violations.length).toBe(before);
    expect((await fetch(`${strict.url}/repos/acme/shop/commits/${SHA}/statuses?per_page=10&colour=red`)).status).toBe(422);
    expect(strict.violations.at(-1)!.reason).toBe('unknown query parameter(s) colour');
  });

  test('list statuses for a ref answers the fixture shape, newest first', async () => {
    const response = await fetch(`${strict.url}/repos/acme/shop/commits/${SHA}/statuses`);
    const list = (await response.json()) as Array<Record<string, unknown>>;
    expect(list[0]).toMatchObject({ state: 'success', context: 'baton/build', description: 'ok', creator: { login: 'octokit-fixture-user-a' } });
  });
});

// Keep the RunSnapshot import used for type-checking the helpers above.
export type _Snapshot = RunSnapshot;
