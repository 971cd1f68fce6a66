import type { EventOf } from '../../shared/contracts/index.js';
import type { AwaitResult } from './awaitStage.js';
import type { StageTopic } from './stages.js';

/**
 * What `baton await` prints for people (Jenkins' console): the verdict, then the stage's details
 * and every link it has (build logs, Slack message, OCI reference, Argo CD application).
 */
export function formatAwaitResult(result: AwaitResult): string {
  const lines: string[] = [];
  const label = `${result.stage}${result.service ? ` (${result.service})` : ''}`;
  const verdict = { succeeded: 'OK', failed: 'FAILED', timeout: 'TIMED OUT', interrupted: 'INTERRUPTED' }[result.outcome];
  lines.push(`${verdict}  ${label} of run ${result.runId}: ${result.summary}`);
  for (const event of result.events) lines.push(...eventDetails(event).map((line) => `  ${line}`));
  // Builds that ended before the wait (or were read from the ledger first) have no event here:
  // show what the ledger holds for them instead.
  if (result.stage === 'build') {
    for (const [service, build] of Object.entries(result.run?.builds ?? {})) {
      if (result.service && service !== result.service) continue;
      if (result.events.some((event) => event.type === 'build-finished' && event.service === service)) continue;
      lines.push(`  ${service}: ${build.status} (build ${build.buildId})`);
      if (build.image) lines.push(`  image: ${build.image.repository}:${build.image.tag}@${build.image.digest}`);
      if (build.detail) lines.push(`  detail: ${build.detail}`);
      if (build.logUrl) lines.push(`  logs: ${build.logUrl}`);
    }
  }
  const links = { ...result.record?.links };
  if (result.record?.detail && result.source !== 'ledger') lines.push(`  ledger: ${result.record.status}: ${result.record.detail}`);
  for (const [name, url] of Object.entries(links)) lines.push(`  ${name}: ${url}`);
  return `${lines.join('\n')}\n`;
}

function eventDetails(event: EventOf<StageTopic>): string[] {
  switch (event.type) {
    case 'push-received':
      return [
        `commit ${event.after} on ${event.branch} (${event.repository}), pushed by ${event.pusher.name}`,
        ...(event.commits.at(-1) ? [`message: ${event.commits.at(-1)!.message.split('\n')[0]}`] : []),
        `services: ${event.servicesResolved ? event.services.join(', ') || '(none)' : `worked out by the mirror stage (${event.unresolvedReason})`}`,
        ...(event.compareUrl ? [`compare: ${event.compareUrl}`] : []),
      ];
    case 'source-mirrored':
      return [`mirrored ${event.sha} to ${event.mirrorUrl}`, `services: ${event.services.join(', ') || '(none)'}`];
    case 'build-finished':
      return [
        `${event.service}: ${event.status} (build ${event.buildId})`,
        ...(event.image ? [`image: ${event.image.repository}:${event.image.tag}@${event.image.digest}`] : []),
        ...(event.detail ? [`detail: ${event.detail}`] : []),
        ...(event.logUrl ? [`logs: ${event.logUrl}`] : []),
      ];
    case 'approval-decided':
      return [
        `${event.decision} by ${event.decidedBy.name ?? event.decidedBy.id} (${event.decidedBy.id}, via ${event.decidedBy.via})`,
        ...(event.reason ? [`reason: ${event.reason}`] : []),
        ...event.images.map((image) => `image: ${image.service} ${image.repository}:${image.tag}@${image.digest}`),
      ];
    case 'chart-published':
      return [
        `chart ${event.chart} ${event.chartVersion}: ${event.ociRef}@${event.manifestDigest}`,
        `chart commit: ${event.chartCommit}`,
        ...event.images.map((image) => `image: ${image.service} ${image.repository}:${image.tag}@${image.digest}`),
      ];
    case 'deploy-finished':
      return [
        `deploy ${event.status}${event.application ? ` (Argo CD application ${event.application}${event.revision ? ` at ${event.revision}` : ''})` : ''}`,
        ...(event.reason ? [`reason: ${event.reason}`] : []),
      ];
    default:
      return [];
  }
}

/** `--json`: the verdict and the events as received, the ledger record, and the exit code. */
export function awaitResultJson(result: AwaitResult, exitCode: number): string {
  const { run: _run, ...rest } = result;
  return `${JSON.stringify({ ...rest, exitCode })}\n`;
}
