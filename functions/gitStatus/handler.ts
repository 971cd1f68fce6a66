import { findPipeline } from '../../shared/config/pipelineConfig.js';
import type { StageRuntime, TopicHandler } from '../../shared/stage/declaration.js';
import { result } from '../../shared/stage/outcome.js';
import type { GitHubClientOptions } from './githubClient.js';
import { DEFAULT_ENVIRONMENT, environmentNames, snapshotOf } from './snapshot.js';
import type { GIT_STATUS_TOPICS } from './stage.js';
import { createGitStatusReporter } from './stageLogic.js';
import { PermanentGitHostError } from './types.js';

type GitStatusTopic = (typeof GIT_STATUS_TOPICS)[number];

/**
 * gitStatus's handler. Set up once: the reporter, with the git hosts from the environment (a
 * provider without credentials is logged once as off) and the ledger's `git-reports`. Then, per
 * event, whichever topic it came on: read the run as the ledger holds it now and report what the
 * host does not show yet (the reporter sends each transition once, never backwards).
 *
 * What should happen next (the run is never touched either way):
 * - a `TransientGitHostError` (5xx, network, a rate limit past the in-process waits), or the
 *   ledger failing: rethrown, so the bus redelivers the event and finally dead-letters it;
 * - a `PermanentGitHostError` (a 4xx: a bad token, a repository the App cannot see): logged and
 *   acknowledged, since retrying cannot change the answer. The reporter already logs each
 *   report the host refused and goes on with the others.
 */
export function gitStatusHandler(runtime: StageRuntime<never>): TopicHandler<GitStatusTopic, never> {
  const log = runtime.log.child({ stage: runtime.stage.name });
  const report = createGitStatusReporter({
    env: runtime.env,
    ledger: runtime.ledger().gitReports,
    log,
    defaultEnvironment: () => DEFAULT_ENVIRONMENT,
    environments: (run) => environmentNames(findPipeline(runtime.config(), run.pipeline)),
    github: githubTuning(runtime.env.GITHUB_API_URL),
  });
  return async ({ event }) => {
    const run = await runtime.ledger().getRun(event.runId);
    if (!run) return result.none(`no run ${event.runId} in the ledger; nothing to report`);
    try {
      const summary = await report(snapshotOf(run));
      return result.none(summary ? `reported ${summary.sent.join(', ') || 'nothing new'}` : 'reporting is off for this git host');
    } catch (error) {
      if (!(error instanceof PermanentGitHostError)) throw error;
      log.warn('failed to report a run to its git host; not retried', { runId: run.runId, provider: run.provider, status: error.status, error: error.message });
      return result.none('the git host refused the report');
    }
  };
}

/**
 * GitHub asks integrations for a second between content-creating requests (its secondary rate
 * limits). A stand-in on this machine (the demo, the tests) has no such limit: without the wait
 * a whole run's statuses land in milliseconds instead of a dozen seconds.
 */
function githubTuning(apiUrl: string | undefined): Partial<GitHubClientOptions> {
  try {
    const host = apiUrl ? new URL(apiUrl).hostname : '';
    return ['127.0.0.1', 'localhost', '[::1]'].includes(host) ? { writeIntervalMs: 0 } : {};
  } catch {
    return {};
  }
}
