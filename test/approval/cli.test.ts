import { jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { serveHttp } from '../../shared/adapters/http.js';
import { localApprovalRoutes } from '../../domain/approval/localRoutes.js';
import type { Subscription } from '../../shared/bus/bus.js';
import { decodeEvent } from '../../shared/bus/events.js';
import { parseConfig } from '../../shared/config/pipelineConfig.js';
import type { ApprovalDecided } from '../../shared/contracts/index.js';
import { embeddedRuntime } from '../../shared/runtime/embeddedRuntime.js';
import type { Runtime } from '../../shared/runtime/runtime.js';
import { decide } from '../../domain/approval/decide.js';
import { expireStale } from '../../domain/approval/expiry.js';
import { decideDepsFor } from '../../domain/approval/runtimeDeps.js';
import { stageRuntime } from '../../shared/stage/runner.js';
import { MANIFEST } from '../../functions/stages.js';
import { EXIT_REFUSED, runDecision, runExpire } from '../../cli/commands/approve.js';
import { CONFIG_YAML, emulatorEnv, memoryLogger, runWaitingForApproval, waitFor } from './harness.js';

jest.setTimeout(60_000);

const hex = (n: number) => randomBytes(n).toString('hex').slice(0, n);

/**
 * The CLI deciders, in both places a CLI can run: against Pub/Sub + Firestore (the emulators
 * stand in for Google Cloud, as Jenkins uses it), and beside a plain embedded `baton dev`,
 * reached through its loopback route. No Slack: the request is recorded without a message.
 */
async function setup(runtime: Runtime) {
  const seen: ApprovalDecided[] = [];
  const runIds = new Set<string>();
  const subscription: Subscription = await runtime.bus().subscribe('approval-decided', `cli-watch-${hex(10)}`, async (message) => {
    const decoded = decodeEvent('approval-decided', message.data);
    if (decoded.ok && runIds.has(decoded.event.runId)) seen.push(decoded.event);
  });
  const ledger = runtime.ledger();
  return {
    seen,
    subscription,
    /** A run of `shop` whose builds succeeded, with its approval request recorded. */
    async waitingRun(): Promise<string> {
      const runId = await runWaitingForApproval(runtime, (after) => `shop-${hex(6)}-${after.slice(0, 7)}-cli`);
      runIds.add(runId);
      expect((await ledger.getRun(runId))?.stages.approval?.status).toBe('waiting');
      return runId;
    },
  };
}

function output() {
  const lines: string[] = [];
  return { lines, write: (text: string) => lines.push(text) };
}

describe('baton approve|reject against Pub/Sub + Firestore (emulators)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-cli-'));
  const configFile = join(dir, 'baton.yaml');
  writeFileSync(configFile, CONFIG_YAML);
  const env = { ...emulatorEnv(), BATON_CONFIG: configFile };
  // The fixture runtime shares the CLI's (un-namespaced) Firestore collections; run ids are unique.
  const runtime = embeddedRuntime({ env, local: { workDir: dir, registry: '127.0.0.1:5000' }, log: memoryLogger() });
  let fixture: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    fixture = await setup(runtime);
  });
  afterAll(async () => {
    await fixture?.subscription.close({ remove: true });
    await runtime.bus().close();
    await runtime.ledger().close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("Jenkins' input step approves as its submitter; a second decision is refused with a non-zero exit", async () => {
    const runId = await fixture.waitingRun();
    const out = output();
    const code = await runDecision({ runId, action: 'approve', reason: 'LGTM in Jenkins' }, { ...env, JENKINS_URL: 'http://jenkins.local/', BUILD_USER_ID: 'dave' }, out);
    expect(code).toBe(0);
    expect(out.lines.join('')).toContain(`approved run ${runId} as dave via jenkins`);
    await waitFor(() => fixture.seen.some((event) => event.runId === runId), 'approval-decided');
    expect(fixture.seen.filter((event) => event.runId === runId)).toEqual([
      expect.objectContaining({ decision: 'approved', decidedBy: { id: 'dave', name: 'dave', via: 'jenkins' }, reason: 'LGTM in Jenkins' }),
    ]);

    const late = output();
    expect(await runDecision({ runId, action: 'reject', as: 'carol', via: 'cli', json: true }, env, late)).toBe(EXIT_REFUSED);
    expect(JSON.parse(late.lines.join(''))).toMatchObject({ outcome: 'already-decided', decision: 'approved', decidedBy: { id: 'dave' } });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(fixture.seen.filter((event) => event.runId === runId)).toHaveLength(1);
  });

  test('someone not in the approvers is refused and nothing changes', async () => {
    const runId = await fixture.waitingRun();
    const out = output();
    expect(await runDecision({ runId, action: 'approve', as: 'mallory', via: 'cli' }, env, out)).toBe(EXIT_REFUSED);
    expect(out.lines.join('')).toMatch(/^refused \(not-allowed\)/);
    expect((await runtime.ledger().getRun(runId))?.stages.approval?.status).toBe('waiting');
  });
});

describe('baton approve beside a plain embedded baton dev (in-process bus + SQLite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-cli-dev-'));
  const runtime = embeddedRuntime({ env: {}, config: parseConfig(CONFIG_YAML, 'test.yaml'), local: { workDir: dir, registry: '127.0.0.1:5000' }, ledgerFile: ':memory:', log: memoryLogger() });
  let fixture: Awaited<ReturnType<typeof setup>>;
  let served: { server: Server; url: string };
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    fixture = await setup(runtime);
    const deps = decideDepsFor(stageRuntime<'approval-decided'>(runtime, MANIFEST.find('approvalCallback')!, MANIFEST), 'background');
    served = await serveHttp(localApprovalRoutes({ decide: (body) => decide(body, deps), expire: () => expireStale(deps), environment: async () => ({ ok: false, message: 'not in this test' }) }), runtime);
    // No emulator and no project: cliRuntime picks the embedded runtime and goes through BATON_DEV_URL.
    env = { BATON_DEV_URL: served.url, BATON_HOME: dir, PATH: process.env.PATH };
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => served.server.close(() => resolve()));
    served.server.closeAllConnections();
    await runtime.bus().close();
    await runtime.ledger().close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the decision runs inside baton dev and publishes on its bus; --as takes the name with or without its cli: prefix', async () => {
    const runId = await fixture.waitingRun();
    const out = output();
    expect(await runDecision({ runId, action: 'reject', as: 'cli:carol', via: 'cli', reason: 'not today' }, env, out)).toBe(0);
    await waitFor(() => fixture.seen.some((event) => event.runId === runId), 'approval-decided');
    expect(fixture.seen.find((event) => event.runId === runId)).toMatchObject({ decision: 'rejected', decidedBy: { id: 'carol', via: 'cli' }, reason: 'not today' });
    expect((await runtime.ledger().getRun(runId))?.status).toBe('rejected');
  });

  test('the baton binary exits 0 when it decides and 2 when refused', async () => {
    const runId = await fixture.waitingRun();
    const run = (...args: string[]) =>
      promisify(execFile)(process.execPath, ['dist/cli/baton.js', ...args], { env }).then(
        ({ stdout }) => ({ code: 0, stdout }),
        (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
      );
    const refused = await run('approve', runId, '--as', 'mallory', '--via', 'cli', '--json');
    expect(refused.code).toBe(EXIT_REFUSED);
    expect(JSON.parse(refused.stdout)).toMatchObject({ outcome: 'not-allowed' });
    const approved = await run('approve', runId, '--as', 'carol', '--via', 'cli');
    expect(approved).toEqual({ code: 0, stdout: `approved run ${runId} as carol via cli\n` });
    const expired = await run('expire', '--json');
    expect(expired.code).toBe(0);
    expect(JSON.parse(expired.stdout)).toEqual({ expired: [], repaired: [], closed: [] });
  });

  test('baton dev cannot be reached: a clear error', async () => {
    await expect(runDecision({ runId: 'x', action: 'approve', as: 'carol', via: 'cli' }, { ...env, BATON_DEV_URL: 'http://127.0.0.1:9' }, output())).rejects.toThrow(
      /failed to reach baton dev at http:\/\/127\.0\.0\.1:9/,
    );
    expect(await runExpire({}, env, output())).toEqual({ expired: [], repaired: [], closed: [] });
  });
});
