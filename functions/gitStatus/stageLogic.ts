import { gitHostFor } from './hosts.js';
import type { GitHostEnv } from './hosts.js';
import type { GitHubClientOptions } from './githubClient.js';
import { reportRun } from './reporter.js';
import type { ReportSummary } from './reporter.js';
import type { GitHost, ReportLedger, ReportLog, RunSnapshot } from './types.js';

/**
 * What the gitStatus stage's handler calls, set up once per process: the git host per provider
 * is built on first use from the environment, and a provider without credentials is logged once
 * ("reporting is off") and then skipped quietly. `report(run)` resolves to the summary, or
 * `undefined` when reporting is off for the run's provider; it throws `TransientGitHostError`
 * when the event should be redelivered.
 */
export type GitStatusSetup = {
  env: GitHostEnv & { BATON_RUN_URL?: string };
  ledger: ReportLedger;
  log: ReportLog;
  /** The environment a plain `deploy` stage deploys to, per run (the pipeline's one environment). */
  defaultEnvironment: (run: RunSnapshot) => string;
  /** The run's environments in order, once the environments config knows them. */
  environments?: (run: RunSnapshot) => readonly string[] | undefined;
  /** Hosts to use instead of the environment's (tests, the demo). */
  hosts?: Partial<Record<'github' | 'gitlab', GitHost>>;
  /** Client tuning (tests). */
  github?: Partial<GitHubClientOptions>;
};

export function createGitStatusReporter(setup: GitStatusSetup): (run: RunSnapshot) => Promise<ReportSummary | undefined> {
  const hosts = new Map<'github' | 'gitlab', GitHost | undefined>(Object.entries(setup.hosts ?? {}) as Array<['github' | 'gitlab', GitHost]>);
  const hostFor = (provider: 'github' | 'gitlab'): GitHost | undefined => {
    if (!hosts.has(provider)) {
      const host = gitHostFor(setup.env, provider, setup.github);
      hosts.set(provider, host);
      if (!host) {
        const needs = provider === 'github' ? 'GITHUB_TOKEN, or GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_APP_INSTALLATION_ID' : 'GITLAB_TOKEN';
        setup.log.info(`commit status reporting to ${provider} is off: set ${needs} to turn it on`, { provider });
      }
    }
    return hosts.get(provider);
  };
  return async (run) => {
    const host = hostFor(run.provider);
    if (!host) return undefined;
    const environments = setup.environments?.(run);
    return reportRun(run, {
      host,
      ledger: setup.ledger,
      log: setup.log,
      defaultEnvironment: setup.defaultEnvironment(run),
      ...(environments ? { environments } : {}),
      ...(setup.env.BATON_RUN_URL ? { targetUrl: setup.env.BATON_RUN_URL } : {}),
    });
  };
}
