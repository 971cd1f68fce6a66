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
import { startFakeArgoCd } from '../../standins/argocdApi.js';
import { startWorkloadMetrics } from '../../standins/workloadMetrics.js';
import { startPrometheus } from '../../local/prometheus/prometheus.js';
import { IMPLICIT_ENVIRONMENT } from '../../shared/contracts/index.js';
import { runEnvironments } from '../../domain/environments/summary.js';
import { MANIFEST } from '../../functions/stages.js';
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
import { DEMO_APPROVER, DEMO_ENVIRONMENTS, DEMO_REPOSITORY, DEMO_SERVICES, chartCommitDiff, createWorkspace, pushChange } from './workspace.js';

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
  const missing = ['git', 'buildah', 'docker-registry', 'prometheus'].filter((tool) => {
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

/** The demo's workload traffic: every image serves well, except the one push 2 builds. */
const TRAFFIC_RPS = 20;
const BAD_ERROR_RATIO = 0.3;

/**
 * `baton demo`: the whole chain on one machine. A sample monorepo, a mirror remote, a chart repo
 * seeded from charts/online-boutique, a local registry and a real Prometheus are started in a
 * temporary workspace; Slack, Argo CD and GitHub's REST API are local stand-ins at their HTTP
 * boundaries. Two pushes go through webhook → mirror → buildah build → the release's environments:
 * - push 1 (frontend): dev (auto) → verified in Prometheus → prod (Slack approval) → verified;
 * - push 2 (cartservice): its image answers 30 % errors, so verification fails in dev, dev is
 *   rolled back to push 1's release by a rollback run, and prod is never touched.
 * gitStatus reports each run's stages to the GitHub stand-in, whose commit statuses are shown
 * at the end of each run.
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
  const argoToken = `argocd-demo-${secret()}`;
  const [registry, argocd, metrics] = await Promise.all([startLocalRegistry(join(root, 'registry')), startFakeArgoCd({ token: argoToken, applications: Object.fromEntries(DEMO_ENVIRONMENTS.map((environment) => [environment.application, { outcome: 'healthy' as const }])) }), startWorkloadMetrics()]);
  const prometheus = await startPrometheus({ dataDir: join(root, 'prometheus'), scrapeTargets: [metrics.target] });
  const ws = await createWorkspace(root, resolve('charts/online-boutique'), registry.host, { environments: { argocdUrl: argocd.url, verifyFor: '6s' } });
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
    ARGOCD_AUTH_TOKEN: argoToken,
    PROMETHEUS_URL: prometheus.url,
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
  say(`Prometheus ${prometheus.url} (Debian's, scraping the workload stand-in every second) · Argo CD stand-in ${argocd.url}`);
  await prometheus.ready();

  const stack = await startEmbeddedStack(runtime, { subscriptionPrefix: `demo-${randomBytes(3).toString('hex')}-`, minBackoffMs: 200 });
  const charts = new Map<string, ChartPublished[]>();
  const approvals = new Map<string, ApprovalRequested>();
  /** Digests whose pods answer errors: push 2's build. */
  const bad = new Set<string>();
  const bus = runtime.bus();
  const watchers = [
    await bus.subscribe('chart-published', 'demo-watch-chart', async (message) => {
      const decoded = decodeEvent('chart-published', message.data);
      if (!decoded.ok) return;
      const event = decoded.event;
      const seen = charts.get(event.runId) ?? [];
      if (!seen.some((chart) => chart.environment === event.environment)) charts.set(event.runId, [...seen, event]);
      // What a real Argo CD would do with the new chart: sync the environment's Application, and
      // its pods start serving (and reporting metrics) with the new images.
      const application = DEMO_ENVIRONMENTS.find((environment) => environment.name === event.environment)?.application;
      if (!application) return;
      argocd.sync(application, { revision: event.chartVersion, images: Object.fromEntries(event.images.map((image) => [image.service, `${image.repository}@${image.digest}`])) });
      for (const image of event.images) metrics.setTraffic({ service: image.service, digest: image.digest, rps: TRAFFIC_RPS, errorRatio: bad.has(image.digest) ? BAD_ERROR_RATIO : 0 });
    }),
    await bus.subscribe('approval-requested', 'demo-watch-approval', async (message) => {
      const decoded = decodeEvent('approval-requested', message.data);
      if (decoded.ok) approvals.set(`${decoded.event.runId}:${decoded.event.environment}`, decoded.event);
    }),
  ];

  const summaries: RunSummary[] = [];
  const showCommitStatuses = async (run: RunRecord) => {
    const statuses = await commitStatusesOf(github, run);
    say('');
    say(`commit statuses on ${run.repository}@${run.after.slice(0, 7)}, as the GitHub stand-in recorded them${statuses.complete ? '' : ' (gitStatus has not caught up yet)'}:`);
    say(indent(statuses.lines.join('\n') || '(none)'));
    return statuses.latest;
  };
  const summary = async (run: RunRecord, pushedAt: Date) => summarize(run, pushedAt, charts.get(run.runId) ?? [], await runEnvironments(run, MANIFEST, runtime.ledger()));
  try {
    for (const [round, service] of DEMO_SERVICES.map((name, index) => [index + 2, name] as const)) {
      say('');
      say(`▶ push ${round - 1}: a change to ${service}${round === 3 ? ' (its new image will answer 30 % of requests with errors)' : ''}`);
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

      const run = await follow(answer.runId, (current) => {
        // The second push's build is the bad one: mark its digest before anything deploys it.
        if (round === 3) for (const build of Object.values(current.builds)) if (build.image) bad.add(build.image.digest);
      });
      for (const chart of charts.get(answer.runId) ?? []) {
        say('');
        say(`chart ${chart.chart} ${chart.chartVersion} (${chart.environment}, ${chart.valuesFile}) → ${chart.ociRef}`);
        say(indent(await chartCommitDiff(ws, chart.chartCommit)));
        say(indent(await deployPreview(chart)));
      }
      summaries.push({ ...(await summary(run, pushedAt)), commitStatuses: await showCommitStatuses(run) });
      const rollbackRunId = Object.values(run.stages).find((stage) => stage.links?.rollback)?.links?.rollback;
      if (rollbackRunId) {
        say('');
        say(`↩ ${run.runId} failed verification: rolling back with run ${rollbackRunId}`);
        const message = slack.messages.find((candidate) => candidate.text.startsWith('Verification failed'));
        if (message) say(renderSlackMessage(message));
        const rollbackStarted = new Date();
        const rollbackRun = await follow(rollbackRunId);
        summaries.push({ ...(await summary(rollbackRun, rollbackStarted)), commitStatuses: await showCommitStatuses(rollbackRun) });
      }
    }
  } finally {
    await Promise.all(watchers.map((watcher) => watcher.close()));
    await stack.close();
    await bus.close();
    await runtime.ledger().close();
    await Promise.allSettled([slack.close(), github.close(), argocd.close(), metrics.close(), prometheus.stop(), registry.stop()]);
    if (!options.keep) rmSync(root, { recursive: true, force: true });
  }

  say('');
  for (const summary of summaries) {
    const t = summary.timings;
    const environments = Object.entries(summary.environments)
      .map(([name, environment]) => `${name} ${environment.status}${environment.verify.checks.length ? ` (${environment.verify.checks.map((check) => `${check.name}${(check as { service?: string }).service ? ` of ${(check as { service?: string }).service}` : ''} ${check.value === null ? 'no data' : Number(check.value.toFixed(4))}${check.ok ? ' ok' : ' ✗'}`).join(', ')})` : ''}`)
      .join(' · ');
    say(`${summary.runId}: ${summary.status}${summary.rollback ? `, restored ${summary.rollback.toRunId}'s release in ${summary.rollback.environment}` : `, built ${summary.services.join(', ')}`}; ${environments}`);
    if (!summary.rollback) say(`  push→first chart ${ms(t.pushToChartMs)}, build ${ms(t.buildMs)}, approval wait ${ms(t.approvalWaitMs)}, pipeline overhead to the first chart ${ms(t.overheadMs)} (target ≤ ${emulated ? '3 s with the emulators' : '1 s embedded'})`);
  }
  const problems = demoProblems(summaries);
  for (const problem of problems) say(`✗ ${problem}`);
  say(options.keep ? `workspace kept at ${root} (logs: ${logFile})` : 'workspace removed (use --keep to look around)');
  if (options.json) for (const summary of summaries) process.stdout.write(`${JSON.stringify(summary)}\n`);
  return problems.length ? 1 : 0;

  /** Shows the run's timeline until it ends, answering its approvals on the way. */
  async function follow(runId: string, onUpdate?: (run: RunRecord) => void): Promise<RunRecord> {
    const timeline = new Timeline(out, Boolean(out.isTTY) && !options.json);
    const deadline = Date.now() + options.timeoutSeconds * 1000;
    const answered = new Set<string>();
    for (;;) {
      const run = await runtime.ledger().getRun(runId);
      if (run) {
        onUpdate?.(run);
        timeline.update(run);
        if (run.status !== 'running') {
          timeline.done();
          return run;
        }
        for (const stage of MANIFEST.plan(run).filter((name) => name.split(':')[0] === 'approval' && run.stages[name]?.status === 'waiting')) {
          const environment = stage.split(':')[1] ?? IMPLICIT_ENVIRONMENT;
          const request = approvals.get(`${runId}:${environment}`);
          if (!request || answered.has(environment)) continue;
          answered.add(environment);
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
      approve = /^y(es)?$/i.test((await prompt.question(`Approve the deploy to ${request.environment} as ${DEMO_APPROVER.name} (${DEMO_APPROVER.id})? [y/N] `)).trim());
      prompt.close();
    }
    const click = clickButton(slack, message, approve ? 'approve' : 'reject', { id: DEMO_APPROVER.id, username: DEMO_APPROVER.username, name: DEMO_APPROVER.name }, signingSecret);
    const response = await fetch(`${stack.url}/approvalCallback`, { method: 'POST', headers: click.headers, body: click.rawBody });
    say(`  ${approve ? 'Approve' : 'Reject'} clicked as ${DEMO_APPROVER.name} → signed Slack callback, HTTP ${response.status}`);
    say('');
  }
}

/**
 * What Argo CD would apply for a published chart, by the real helm: pulled from the registry as
 * published, rendered with the environment's values file, validated against the Kubernetes
 * schemas, and each image of the release checked to be pinned at its digest. A preview: nothing
 * is applied (there is no cluster here).
 */
async function deployPreview(chart: ChartPublished): Promise<string> {
  const { formatPreview, previewChart } = await import('../../local/helm/preview.js');
  try {
    const preview = await previewChart({
      ociRef: chart.ociRef.replace(/:[^:/]+$/, ''),
      version: chart.chartVersion,
      plainHttp: true,
      valuesFiles: chart.valuesFile ? [chart.valuesFile] : [],
      namespace: `boutique-${chart.environment}`,
      releaseName: 'online-boutique',
      expectedDigests: Object.fromEntries(chart.images.map((image) => [image.service, image.digest])),
      // The chart's other services still run upstream images by tag.
      requireDigests: false,
    });
    const lines = formatPreview(preview);
    // The image list is long (every Online Boutique service): the summary and any problem are what matter here.
    const built = chart.images.map((image) => `${image.service}@${image.digest.slice(0, 19)}…`).join(', ');
    const pinned = preview.problems.some((problem) => problem.startsWith('service ')) ? [] : [`the rendered workloads run the digests just built: ${built}`];
    return [lines[0]!, lines[1]!, ...pinned, ...lines.slice(2 + preview.images.length)].join('\n');
  } catch (error) {
    return `helm preview failed: ${(error as Error).message}`;
  }
}

/** What the two pushes must show (issue #15's demo); each miss is one line. */
export function demoProblems(summaries: readonly RunSummary[]): string[] {
  const [first, second, rollback] = summaries;
  const problems: string[] = [];
  if (!first || first.status !== 'succeeded' || first.environments.dev?.status !== 'succeeded' || first.environments.prod?.status !== 'succeeded') problems.push('push 1 should have gone through dev and prod, verified in both');
  if (!second || second.services.join(',') !== DEMO_SERVICES[1]) problems.push(`the second push should have rebuilt only ${DEMO_SERVICES[1]}`);
  if (second && (second.status !== 'rolled-back' || second.environments.dev?.status !== 'rolled-back' || second.environments.prod?.status !== 'skipped')) problems.push('push 2 should have failed verification in dev, been rolled back there, and left prod untouched');
  if (!rollback?.rollback || rollback.status !== 'succeeded' || rollback.rollback.toRunId !== first?.runId) problems.push("dev should have been rolled back to push 1's release by a rollback run");
  return problems;
}

const ms = (value?: number) => (value === undefined ? 'n/a' : value < 1000 ? `${value} ms` : `${(value / 1000).toFixed(2)} s`);
const indent = (text: string) =>
  text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
