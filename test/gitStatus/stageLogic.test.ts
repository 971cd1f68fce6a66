import { createGitStatusReporter } from '../../functions/gitStatus/stageLogic.js';
import { MemoryReportLedger } from '../../functions/gitStatus/memoryLedger.js';
import { hooksApiFor } from '../../functions/webhookSweep/hooksApi.js';
import { FakeGitHub } from '../../standins/githubApi.js';
import { SHA, happySteps, timeline } from './runs.js';

/** The setup the lead's stage calls: hosts from the environment, "reporting is off" logged once. */
const TOKEN = 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB';

describe('createGitStatusReporter', () => {
  let github: FakeGitHub;
  beforeAll(async () => {
    github = await FakeGitHub.start({ token: TOKEN });
  });
  afterAll(async () => {
    expect(github.violations).toEqual([]);
    await github.close();
  });

  test('with GITHUB_TOKEN and GITHUB_API_URL, runs of GitHub repositories are reported; the demo prints what the stand-in recorded', async () => {
    const report = createGitStatusReporter({
      env: { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: github.url, BATON_RUN_URL: 'http://127.0.0.1:8080/runs/{runId}' },
      ledger: new MemoryReportLedger(),
      log: { info: () => {}, warn: () => {}, error: () => {} },
      defaultEnvironment: () => 'production',
      github: { writeIntervalMs: 0 },
    });
    for (const snapshot of timeline(happySteps, {}, { status: 'succeeded' })) await report(snapshot);
    expect(github.statusLines('acme', 'shop', SHA)).toEqual([
      '✓ baton/intake    success  succeeded in 5s',
      '✓ baton/mirror    success  succeeded in 15s',
      '✓ baton/build     success  succeeded in 15s: frontend',
      '✓ baton/approval  success  succeeded in 15s: approved by U123',
      '✓ baton/chart     success  succeeded in 15s: online-boutique 0.3.8',
      '✓ baton/deploy    success  succeeded in 15s: Synced and Healthy',
    ]);
    expect(github.statuses('acme', 'shop', SHA)[0]!.target_url).toBe('http://127.0.0.1:8080/runs/shop-7-a84d88e');
  });

  test('without a token it logs once that reporting is off and does nothing', async () => {
    const lines: string[] = [];
    const report = createGitStatusReporter({
      env: { GITHUB_API_URL: github.url },
      ledger: new MemoryReportLedger(),
      log: { info: (message) => lines.push(message), warn: () => {}, error: () => {} },
      defaultEnvironment: () => 'production',
    });
    const before = github.requests.length;
    for (const snapshot of timeline(happySteps)) expect(await report(snapshot)).toBeUndefined();
    expect(lines).toEqual(['commit status reporting to github is off: set GITHUB_TOKEN, or GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_APP_INSTALLATION_ID to turn it on']);
    expect(github.requests.length).toBe(before);
  });

  test('the sweep finds its hooks API from the same variables', () => {
    expect(hooksApiFor({}, 'github')).toBeUndefined();
    expect(hooksApiFor({ GITLAB_TOKEN: '' }, 'gitlab')).toBeUndefined();
    expect(hooksApiFor({ GITHUB_TOKEN: TOKEN, GITHUB_API_URL: github.url }, 'github')).toBeDefined();
  });
});
