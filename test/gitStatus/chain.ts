import { randomBytes } from 'node:crypto';
import type { InProcessBusOptions } from '../../shared/bus/inProcessBus.js';
import type { RunRecord } from '../../shared/ledger/runLedger.js';
import type { Runtime } from '../../shared/runtime/runtime.js';
import type { StageRuntime, TopicHandler } from '../../shared/stage/declaration.js';
import { defineStage, on } from '../../shared/stage/declaration.js';
import { manifestOf } from '../../shared/stage/manifest.js';
import type { Outcome } from '../../shared/stage/outcome.js';
import { result } from '../../shared/stage/outcome.js';
import { stageRuntime } from '../../shared/stage/runner.js';
import { startEmbeddedStack } from '../../functions/embeddedStack.js';
import type { EmbeddedStack } from '../../functions/embeddedStack.js';
import { gitStatus } from '../../functions/gitStatus/stage.js';
import { webhookIntake } from '../../functions/webhookIntake/stage.js';
import { FakeGitHub } from '../../standins/githubApi.js';
import { githubHeaders, githubPushPayload } from '../../standins/gitHost.js';
import type { RuntimeKind } from '../support/runtimes.js';
import { eventually, testRuntime } from '../support/runtimes.js';

/**
 * The gitStatus stage in the embedded stack, on a short chain: the real webhook intake, then
 * scripted mirror, build, approval and deploy stages that own the same ledger stages as the real
 * ones (each one runs a moment before it ends, so its `pending` is there to be reported), and
 * the real gitStatus reporting to the GitHub stand-in at its HTTP boundary (every request checked
 * against GitHub's OpenAPI description). The approval waits until the test decides it.
 */
export const TOKEN = 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB';
const WEBHOOK_SECRET = 'webhook-secret-for-the-tests';
const CONFIG = 'pipelines:\n  - { name: shop, repository: acme/shop, branches: [main], services: [{ name: frontend, path: src/frontend/ }] }\n';
const DIGEST = `sha256:${'d'.repeat(64)}`;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type BuildScript = 'succeeds' | 'fails';

function chainStages(build: () => BuildScript) {
  const working = async (context: { progress(detail: string): Promise<void> }, detail: string) => {
    await context.progress(detail);
    await pause(150);
  };
  const mirror = defineStage({
    name: 'fakeMirror',
    doc: 'mirrors (scripted)',
    ledgerStage: 'mirror',
    trigger: on.topics('push-received'),
    publishes: ['source-mirrored'],
    timeoutSeconds: 10,
    maxDeliveryAttempts: 5,
    load: async () => (_rt: StageRuntime<'source-mirrored'>): TopicHandler<'push-received', 'source-mirrored'> => async ({ event }, context) => {
      await working(context, 'mirroring');
      const { runId, pipeline, kind, repository, ref, after: sha, before, services, order } = event;
      return result.succeeded(`mirrored ${sha.slice(0, 7)}`, { emit: [{ topic: 'source-mirrored', input: { runId, pipeline, kind, repository, ref, sha, before, mirrorUrl: 'file:///mirror', services, order } }] });
    },
  });
  const builder = defineStage({
    name: 'fakeBuild',
    doc: 'builds (scripted)',
    ledgerStage: 'build',
    trigger: on.topics('source-mirrored'),
    publishes: ['build-finished'],
    timeoutSeconds: 10,
    maxDeliveryAttempts: 5,
    load: async () => (_rt: StageRuntime<'build-finished'>): TopicHandler<'source-mirrored', 'build-finished'> => async ({ event }, context) => {
      await working(context, 'building frontend');
      const base = { runId: event.runId, pipeline: event.pipeline, service: 'frontend', buildId: `b-${event.runId}`, sha: event.sha };
      if (build() === 'fails') return result.failed('frontend: step 1 failed', { emit: [{ topic: 'build-finished', input: { ...base, status: 'FAILURE', detail: 'step 1 failed' } }] });
      const image = { service: 'frontend', repository: '127.0.0.1:5000/shop/frontend', tag: event.sha.slice(0, 7), digest: DIGEST };
      return result.succeeded('frontend', { emit: [{ topic: 'build-finished', input: { ...base, status: 'SUCCESS', image } }] });
    },
  });
  const approval = defineStage({
    name: 'fakeApproval',
    doc: 'waits for the test to decide (scripted)',
    ledgerStage: 'approval',
    trigger: on.topics('build-finished'),
    publishes: ['approval-requested', 'approval-decided'],
    timeoutSeconds: 10,
    maxDeliveryAttempts: 5,
    load: async () => (_rt: StageRuntime<'approval-requested' | 'approval-decided'>): TopicHandler<'build-finished', 'approval-requested' | 'approval-decided'> => async ({ event }) => {
      if (event.status !== 'SUCCESS' || !event.image) return result.none('the build failed');
      const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
      return result.waiting('waiting for approval in #deploys', { emit: [{ topic: 'approval-requested', input: { runId: event.runId, pipeline: event.pipeline, channel: 'C0DEPLOYS', ts: '1.000', images: [event.image], expiresAt } }] });
    },
  });
  const deploy = defineStage({
    name: 'fakeDeploy',
    doc: 'deploys (scripted)',
    ledgerStage: 'deploy',
    trigger: on.topics('approval-decided'),
    publishes: ['deploy-finished'],
    timeoutSeconds: 10,
    maxDeliveryAttempts: 5,
    load: async () => (_rt: StageRuntime<'deploy-finished'>): TopicHandler<'approval-decided', 'deploy-finished'> => async ({ event }, context) => {
      if (event.decision !== 'approved') return result.none('not approved');
      await working(context, 'syncing shop');
      return result.succeeded('Synced and Healthy', { emit: [{ topic: 'deploy-finished', input: { runId: event.runId, pipeline: event.pipeline, status: 'synced' } }] });
    },
  });
  return { stages: [webhookIntake, mirror, builder, approval, deploy, gitStatus] as const, approval };
}

export type Chain = {
  runtime: Runtime;
  stack: EmbeddedStack;
  github: FakeGitHub;
  /** Pushes a commit through the intake webhook; resolves with the run id and the sha. */
  push(): Promise<{ runId: string; sha: string }>;
  /** Decides the waiting approval, as approvalCallback would record it. */
  decide(runId: string, decision: 'approved' | 'rejected'): Promise<void>;
  /** The run once it has ended. */
  ended(runId: string): Promise<RunRecord>;
  /** Waits until the stand-in shows every stage of the run with a final state (nothing pending). */
  reported(run: RunRecord): Promise<Record<string, string>>;
  close(): Promise<void>;
};

export async function startChain(kind: RuntimeKind, options: { build?: () => BuildScript; bus?: InProcessBusOptions } = {}): Promise<Chain> {
  const github = await FakeGitHub.start({ token: TOKEN });
  const runtime = testRuntime(kind, CONFIG, {
    env: { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: github.url, GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET, BATON_RUN_URL: 'http://127.0.0.1:8080/runs/{runId}' },
    ...(options.bus ? { bus: options.bus } : {}),
  });
  const { stages, approval } = chainStages(options.build ?? (() => 'succeeds'));
  const manifest = manifestOf(stages);
  const stack = await startEmbeddedStack(runtime, { manifest, schedules: false, minBackoffMs: 200, subscriptionPrefix: `gs-${randomBytes(3).toString('hex')}-` });
  let commits = 0;
  return {
    runtime,
    stack,
    github,
    async push() {
      const sha = randomBytes(20).toString('hex');
      const payload = githubPushPayload({
        repository: 'acme/shop',
        cloneUrl: 'file:///source',
        ref: 'refs/heads/main',
        before: 'b'.repeat(40),
        after: sha,
        commits: [{ id: sha, message: `change ${++commits}`, author: { name: 'Dana', email: 'dana@example.com' }, modified: ['src/frontend/main.go'] }],
      });
      const body = JSON.stringify(payload);
      const response = await fetch(`${stack.url}/webhookIntake`, { method: 'POST', headers: githubHeaders(WEBHOOK_SECRET, body), body });
      const answer = (await response.json()) as { runId?: string };
      if (response.status !== 202 || !answer.runId) throw new Error(`intake refused the push: HTTP ${response.status} ${JSON.stringify(answer)}`);
      return { runId: answer.runId, sha };
    },
    async decide(runId, decision) {
      const run = await eventually(async () => {
        const current = await runtime.ledger().getRun(runId);
        return current?.stages.approval?.status === 'waiting' ? current : undefined;
      }, 15_000, `run ${runId} to wait for approval`);
      const decidedBy = { id: 'U0ALICE', via: 'cli' as const };
      const outcome: Outcome<'approval-decided'> =
        decision === 'approved'
          ? result.succeeded('approved by U0ALICE', {
              emit: [{ topic: 'approval-decided', input: { runId, pipeline: run.pipeline, decision, decidedBy, images: [{ service: 'frontend', repository: '127.0.0.1:5000/shop/frontend', tag: run.after.slice(0, 7), digest: DIGEST }], sha: run.after, order: run.order } }],
            })
          : { status: 'rejected', detail: 'rejected by U0ALICE: not today' };
      const { applied } = await stageRuntime<'approval-requested' | 'approval-decided'>(runtime, approval, manifest).record(runId, outcome);
      if (!applied) throw new Error(`the decision on ${runId} was not recorded`);
    },
    ended: (runId) =>
      eventually(async () => {
        const run = await runtime.ledger().getRun(runId);
        return run && run.status !== 'running' ? run : undefined;
      }, 30_000, `run ${runId} to end`),
    reported: (run) =>
      eventually(() => {
        const latest = github.latestStatuses('acme', 'shop', run.after);
        const done = Object.keys(run.stages).every((stage) => latest[`baton/${stage}`] && latest[`baton/${stage}`] !== 'pending');
        return done ? latest : undefined;
      }, 30_000, `the statuses of ${run.runId}`),
    async close() {
      // Reports still under way after the test's last look: let them land before the ledger closes.
      for (let seen = -1, deadline = Date.now() + 10_000; seen !== github.requests.length && Date.now() < deadline; ) {
        seen = github.requests.length;
        await pause(400);
      }
      await stack.close();
      await runtime.bus().close();
      await runtime.ledger().close();
      await github.close();
    },
  };
}
