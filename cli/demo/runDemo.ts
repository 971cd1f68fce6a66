import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { decodeEvent } from '../../shared/bus/events.js';
import { loadConfig } from '../../shared/config/pipelineConfig.js';
import type { ApprovalRequested, ChartPublished } from '../../shared/contracts/index.js';
import { FakeGitHub } from '../../standins/githubApi.js';
import { FakeSlack, clickButton } from '../../standins/slackApi.js';
import { githubHeaders, githubPushPayload } from '../../standins/gitHost.js';
import type { RunRecord } from '../../shared/ledger/runLedger.js';
import { createLogger, setLogSink } from '../../shared/log/logger.js';
import { embeddedRuntime } from '../../shared/runtime/embeddedRuntime.js';
import { startEmbeddedStack } from '../../functions/embeddedStack.js';
import { commitStatusesOf } from './commitStatuses.js';
import { pushedCommits } from './gitPush.js';
import { startLocalRegistry } from '../../local/registry.js';
import { renderSlackMessage } from './slackMessage.js';
import { summarize } from './summary.js';
import type { RunSummary } from './summary.js';
import { Timeline } from './timeline.js';
import { DEMO_APPROVER, DEMO_REPOSITORY, DEMO_SERVICES, chartCommitDiff, createWorkspace, pushChange } from './workspace.js';

export type DemoOptions = {
  /** Approve as the configured approver without asking. */
  yes: boolean;
  /** One JSON summary per run on stdout; everything else on stderr. */
  json: boolean;
  /** Keep the workspace (repositories, registry, logs) afterwards. */
  keep: boolean;
  /** Deliver every bus message twice, to show the stages are idempotent. */
  duplicate: boolean;
  /** Per-run time limit. */
  timeoutSeconds: number;
};

/** What the demo needs on the machine, and how to get it (npm run demo installs them itself). */
function preflight(): void {
  const missing = ['git', 'buildah', 'docker-registry'].filter((tool) => {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length) throw new Error(`missing ${missing.join(', ')}: install with \`apt-get install -y ${missing.join(' ')}\` (as root), or run \`npm run demo\`, which installs them`);
}

const secret = () => randomBytes(24).toString('base64url');

/**
 * `baton demo`: the whole chain on one machine. A sample monorepo, a mirror remote, a chart repo
 * seeded from charts/online-boutique and a local registry are created in a temporary workspace;
 * two pushes go through webhook → mirror → buildah build → Slack approval (a local fake of
 * Slack's Web API) → chart bump and OCI publish, and gitStatus reports each run's stages to a
 * local stand-in of GitHub's REST API, whose commit statuses are shown at the end of each run.
 * Returns the process exit code.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  preflight();
  const out = options.json ? process.stderr : process.stdout;
  const say = (line = '') => out.write(`${line}\n`);
  const root = mkdtempSync(join(tmpdir(), 'baton-demo-'));
  const logFile = join(root, 'baton.log');
  setLogSink((line) => appendFileSync(logFile, `${line}\n`));

  say(`baton demo · workspace ${root}`);
  const registry = await startLocalRegistry(join(root, 'registry'));
  const ws = await createWorkspace(root, resolve('charts/online-boutique'), registry.host);
  const botToken = `xoxb-demo-${secret()}`;
  const signingSecret = secret();
  const webhookSecret = secret();
  const githubToken = `ghp_demo${secret()}`;
  const github = await FakeGitHub.start({ token: githubToken });
  const slack = await FakeSlack.start({ token: botToken, users: { [DEMO_APPROVER.id]: { name: DEMO_APPROVER.username, email: DEMO_APPROVER.email, realName: DEMO_APPROVER.name } } });
  const emulated = Boolean(process.env.PUBSUB_EMULATOR_HOST || process.env.FIRESTORE_EMULATOR_HOST);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // Under the emulators each demo gets a project of its own, so earlier runs never interfere.
    ...(emulated ? { GOOGLE_CLOUD_PROJECT: `baton-demo-${randomBytes(4).toString('hex')}`, METADATA_SERVER_DETECTION: 'none' } : {}),
    BATON_CONFIG: ws.configPath,
    GITHUB_WEBHOOK_SECRET: webhookSecret,
    SLACK_API_URL: slack.url,
    SLACK_BOT_TOKEN: botToken,
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_CHANNEL: 'C0DEPLOYS',
    SLACK_APPROVERS: DEMO_APPROVER.id,
    BATON_APPROVAL_SECRET: secret(),
    // Commit statuses go to the local GitHub stand-in, whatever the shell has set: never a real host.
    GITHUB_TOKEN: githubToken,
    GITHUB_API_URL: github.url,
    GITHUB_APP_ID: '',
    GITHUB_APP_PRIVATE_KEY: '',
    GITHUB_APP_INSTALLATION_ID: '',
    GITLAB_TOKEN: '',
    BATON_RUN_URL: '',
  };
  const runtime = embeddedRuntime({
    env,
    config: loadConfig(env),
    local: { workDir: join(root, 'baton'), registry: registry.host },
    bus: { duplicateDeliveries: options.duplicate ? 1 : 0 },
    log: createLogger(),
  });
  say(`bus: ${emulated ? `Pub/Sub emulator (${env.PUBSUB_EMULATOR_HOST})` : 'in-process'} · ledger: ${env.FIRESTORE_EMULATOR_HOST ? `Firestore emulator (${env.FIRESTORE_EMULATOR_HOST})` : 'SQLite'} · registry: ${registry.host}`);

  const stack = await startEmbeddedStack(runtime, { subscriptionPrefix: `demo-${randomBytes(3).toString('hex')}-`, minBackoffMs: 200 });
  const charts = new Map<string, ChartPublished>();
  const approvals = new Map<string, ApprovalRequested>();
  const bus = runtime.bus();
  const watchers = [
    await bus.subscribe('chart-published', 'demo-watch-chart', async (message) => {
      const decoded = decodeEvent('chart-published', message.data);
      if (decoded.ok) charts.set(decoded.event.runId, decoded.event);
    }),
    await bus.subscribe('approval-requested', 'demo-watch-approval', async (message) => {
      const decoded = decodeEvent('approval-requested', message.data);
      if (decoded.ok) approvals.set(decoded.event.runId, decoded.event);
    }),
  ];

  const summaries: RunSummary[] = [];
  try {
    for (const [round, service] of DEMO_SERVICES.map((name, index) => [index + 2, name] as const)) {
      say('');
      say(`▶ push ${round - 1}: a change to ${service}`);
      const { before, after } = await pushChange(ws, service, round);
      const payload = githubPushPayload({
        repository: DEMO_REPOSITORY,
        cloneUrl: `file://${ws.source}`,
        ref: 'refs/heads/main',
        before,
        after,
        commits: await pushedCommits(ws.source, before, after),
        pusher: { name: 'dana', email: 'dana@example.com' },
      });
      const body = JSON.stringify(payload);
      const pushedAt = new Date();
      const response = await fetch(`${stack.url}/webhookIntake`, { method: 'POST', headers: githubHeaders(webhookSecret, body), body });
      const answer = (await response.json()) as { runId?: string; error?: string };
      if (response.status !== 202 || !answer.runId) throw new Error(`the webhook was not accepted: HTTP ${response.status} ${JSON.stringify(answer)}`);
      say(`  webhook delivered (signed GitHub push ${after.slice(0, 7)}) → 202, run ${answer.runId}`);

      const run = await follow(answer.runId);
      const chart = charts.get(answer.runId);
      if (chart) {
        say('');
        say(`chart ${chart.chart} ${chart.chartVersion} → ${chart.ociRef}`);
        say(`  manifest ${chart.manifestDigest}`);
        say(indent(await chartCommitDiff(ws, chart.chartCommit)));
      }
      const statuses = await commitStatusesOf(github, run);
      say('');
      say(`commit statuses on ${run.repository}@${run.after.slice(0, 7)}, as the GitHub stand-in recorded them${statuses.complete ? '' : ' (gitStatus has not caught up yet)'}:`);
      say(indent(statuses.lines.join('\n') || '(none)'));
      summaries.push({ ...summarize(run, pushedAt, chart), commitStatuses: statuses.latest });
    }
  } finally {
    await Promise.all(watchers.map((watcher) => watcher.close()));
    await stack.close();
    await bus.close();
    await runtime.ledger().close();
    await slack.close();
    await github.close();
    await registry.stop();
    if (!options.keep) rmSync(root, { recursive: true, force: true });
  }

  const onlySecondService = summaries[1]?.services.join(',') === DEMO_SERVICES[1];
  say('');
  for (const summary of summaries) {
    const t = summary.timings;
    say(
      `${summary.runId}: ${summary.status}, built ${summary.services.join(', ')}; push→chart ${ms(t.pushToChartMs)}, build ${ms(t.buildMs)}, approval wait ${ms(t.approvalWaitMs)}, pipeline overhead ${ms(t.overheadMs)} (target ≤ ${emulated ? '3 s with the emulators' : '1 s embedded'})`,
    );
  }
  if (!onlySecondService) say(`✗ the second push should have rebuilt only ${DEMO_SERVICES[1]}`);
  say(options.keep ? `workspace kept at ${root} (logs: ${logFile})` : 'workspace removed (use --keep to look around)');
  if (options.json) for (const summary of summaries) process.stdout.write(`${JSON.stringify(summary)}\n`);
  return summaries.length === DEMO_SERVICES.length && summaries.every((summary) => summary.status === 'succeeded') && onlySecondService ? 0 : 1;

  /** Shows the run's timeline until it ends, answering the approval on the way. */
  async function follow(runId: string): Promise<RunRecord> {
    const timeline = new Timeline(out, Boolean(out.isTTY) && !options.json);
    const deadline = Date.now() + options.timeoutSeconds * 1000;
    let answered = false;
    for (;;) {
      const run = await runtime.ledger().getRun(runId);
      if (run) {
        timeline.update(run);
        if (run.status !== 'running') {
          timeline.done();
          return run;
        }
        const request = approvals.get(runId);
        if (!answered && request && run.stages.approval?.status === 'waiting') {
          answered = true;
          timeline.done();
          await answerApproval(request);
        }
      }
      if (Date.now() > deadline) {
        timeline.done();
        say(`✗ run ${runId} did not finish within ${options.timeoutSeconds} s (logs: ${logFile}; use --keep to keep them)`);
        return (await runtime.ledger().getRun(runId))!;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function answerApproval(request: ApprovalRequested): Promise<void> {
    const message = slack.messages.find((candidate) => candidate.ts === request.ts && candidate.channel === request.channel);
    if (!message) throw new Error(`the approval message ${request.ts} never reached Slack`);
    say('');
    say(renderSlackMessage(message));
    let approve = options.yes;
    if (!options.yes) {
      if (!process.stdin.isTTY) throw new Error('approval needs an answer: run with --yes, or in a terminal');
      const prompt = createInterface({ input: process.stdin, output: out });
      approve = /^y(es)?$/i.test((await prompt.question(`Approve as ${DEMO_APPROVER.name} (${DEMO_APPROVER.id})? [y/N] `)).trim());
      prompt.close();
    }
    const click = clickButton(slack, message, approve ? 'approve' : 'reject', { id: DEMO_APPROVER.id, username: DEMO_APPROVER.username, name: DEMO_APPROVER.name }, signingSecret);
    const response = await fetch(`${stack.url}/approvalCallback`, { method: 'POST', headers: click.headers, body: click.rawBody });
    say(`  ${approve ? 'Approve' : 'Reject'} clicked as ${DEMO_APPROVER.name} → signed Slack callback, HTTP ${response.status}`);
    say('');
  }
}

const ms = (value?: number) => (value === undefined ? 'n/a' : value < 1000 ? `${value} ms` : `${(value / 1000).toFixed(2)} s`);
const indent = (text: string) =>
  text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
