import { gitlabHost, gitlabHostUrl, gitlabState } from '../../functions/gitStatus/gitlabHost.js';
import { gitHostFor } from '../../functions/gitStatus/hosts.js';
import { MemoryReportLedger } from '../../functions/gitStatus/memoryLedger.js';
import { reportRun } from '../../functions/gitStatus/reporter.js';
import { PermanentGitHostError, TransientGitHostError } from '../../functions/gitStatus/types.js';
import type { DesiredStatus } from '../../functions/gitStatus/types.js';
import { FakeGitLab } from '../../standins/gitlabApi.js';
import { SHA, happySteps, timeline } from './runs.js';

/**
 * GitLab through @gitbeaker/rest against the GitLab stand-in. The request shape GitLab documents
 * for `POST /projects/:id/statuses/:sha` (doc/api/commits.md) is recorded here, and every request
 * must match it: `state` required, one of pending/running/success/failed/canceled; optional
 * `ref`, `name` (or `context`), `target_url`, `description`, `coverage`, `pipeline_id`; the
 * project as its URL-encoded path; the token in `PRIVATE-TOKEN`.
 */
const TOKEN = 'glpat-0123456789abcdefghij';
const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const PROJECT = 'acme/platform/shop';

let gitlab: FakeGitLab;
beforeEach(async () => {
  gitlab = await FakeGitLab.start({ token: TOKEN });
});
afterEach(async () => {
  expect(gitlab.violations).toEqual([]);
  await gitlab.close();
});

describe('GitLab host against the stand-in', () => {
  test('a whole run: same contexts as on GitHub, with GitLab states', async () => {
    const host = gitHostFor({ GITLAB_TOKEN: TOKEN, GITLAB_API_URL: `${gitlab.url}/api/v4` }, 'gitlab')!;
    const deps = { host, ledger: new MemoryReportLedger(), log: quiet, defaultEnvironment: 'production', targetUrl: 'https://baton.example.com/runs/{runId}' };
    const snapshots = timeline(happySteps, { provider: 'gitlab', repository: PROJECT }, { status: 'succeeded' });
    for (const snapshot of snapshots.slice(0, 6)) await reportRun(snapshot, deps);
    expect(gitlab.latestStatuses(PROJECT, SHA)).toEqual({ 'baton/intake': 'success', 'baton/mirror': 'success', 'baton/build': 'success', 'baton/approval': 'pending' });
    for (const snapshot of snapshots.slice(6)) await reportRun(snapshot, deps);
    expect(gitlab.statuses(PROJECT, SHA).filter((s) => s.name === 'baton/build').map((s) => s.status)).toEqual(['running', 'success']);
    expect(Object.values(gitlab.latestStatuses(PROJECT, SHA)).every((state) => state === 'success')).toBe(true);

    const first = gitlab.requests[0]!;
    expect(first).toMatchObject({ method: 'POST', path: `/api/v4/projects/${encodeURIComponent(PROJECT)}/statuses/${SHA}`, authorized: true });
    expect(first.body).toEqual({ state: 'success', name: 'baton/intake', description: 'succeeded in 5s', target_url: 'https://baton.example.com/runs/shop-7-a84d88e' });
  });

  test('states: running vs waiting, failed, and canceled for a superseded or canceled run', () => {
    const s = (state: DesiredStatus['state'], stageStatus: DesiredStatus['stageStatus']): DesiredStatus => ({ context: 'baton/x', stage: 'x', state, description: '', stageStatus, rank: 0 });
    expect(gitlabState(s('pending', 'running'))).toBe('running');
    expect(gitlabState(s('pending', 'waiting'))).toBe('pending');
    expect(gitlabState(s('success', 'skipped'))).toBe('success');
    expect(gitlabState(s('failure', 'rejected'))).toBe('failed');
    expect(gitlabState(s('error', 'expired'))).toBe('failed');
    expect(gitlabState(s('error', 'superseded'))).toBe('canceled');
    expect(gitlabState(s('error', 'canceled'))).toBe('canceled');
  });

  test('a 5xx is transient, a 4xx permanent, and neither shows the token', async () => {
    const host = gitlabHost({ token: TOKEN, baseUrl: gitlab.url });
    const status: DesiredStatus = { context: 'baton/build', stage: 'build', state: 'pending', description: 'running', stageStatus: 'running', rank: 0 };
    gitlab.failNext({ status: 500 });
    await expect(host.setStatus(PROJECT, SHA, status)).rejects.toThrow(TransientGitHostError);
    const wrong = gitlabHost({ token: 'glpat-wrongwrongwrongwrong', baseUrl: gitlab.url });
    const error = await wrong.setStatus(PROJECT, SHA, status).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(PermanentGitHostError);
    expect((error as Error).message).not.toContain("glpat-wrong");
    await host.setStatus(PROJECT, SHA, status);
    // GitLab refuses a status that does not change: permanent (the reporter never sends one).
    await expect(host.setStatus(PROJECT, SHA, status)).rejects.toThrow(/Cannot transition status via :run from :running/);
  });

  test('the API URL may name the host or the /api/v4 base', () => {
    expect(gitlabHostUrl('https://gitlab.example.com/api/v4/')).toBe('https://gitlab.example.com');
    expect(gitlabHostUrl('https://gitlab.example.com')).toBe('https://gitlab.example.com');
    expect(gitlabHostUrl(undefined)).toBe('https://gitlab.com');
  });

  test('the stand-in refuses what GitLab does not document', async () => {
    const post = (body: unknown) =>
      fetch(`${gitlab.url}/api/v4/projects/1/statuses/${SHA}`, { method: 'POST', headers: { 'content-type': 'application/json', 'private-token': TOKEN }, body: JSON.stringify(body) });
    expect((await post({ state: 'error' })).status).toBe(400);
    expect((await post({ state: 'success', colour: 'red' })).status).toBe(400);
    expect(gitlab.violations.map((v) => v.reason)).toEqual(['state does not have a valid value', 'unknown attribute(s) colour']);
    gitlab.violations.length = 0;
  });
});
