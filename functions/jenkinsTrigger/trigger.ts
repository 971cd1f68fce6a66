import type { Pipeline } from '../../shared/config/pipelineConfig.js';
import type { PushReceived } from '../../shared/contracts/index.js';
import { redactedError } from '../../shared/log/redact.js';

/** Jenkins answered with a 4xx: asking again will not change it. */
export class JenkinsRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JenkinsRefused';
  }
}

/**
 * Starts the run's Jenkins pipeline through Jenkins' remote build trigger, passing the run id
 * as a parameter (`jenkins/Jenkinsfile`). Uses the Build Authorization Token Root plugin's
 * `buildByToken` endpoint, which needs no user session or CSRF crumb. Throws `JenkinsRefused`
 * on a 4xx, and any other error (network, timeout, 5xx) for a retry.
 */
export async function triggerJenkins(event: PushReceived, jenkins: NonNullable<Pipeline['jenkins']>, token: string, fetchImpl: typeof fetch = fetch): Promise<void> {
  const url = new URL('buildByToken/buildWithParameters', jenkins.url.endsWith('/') ? jenkins.url : `${jenkins.url}/`);
  url.searchParams.set('job', jenkins.job);
  url.searchParams.set('token', token);
  url.searchParams.set('RUN_ID', event.runId);
  url.searchParams.set('PIPELINE', event.pipeline);
  url.searchParams.set('COMMIT', event.after);
  let response: Response;
  try {
    response = await fetchImpl(url, { method: 'POST', signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw redactedError(`failed to trigger Jenkins job ${jenkins.job}`, error);
  }
  await response.body?.cancel();
  if (response.status >= 400 && response.status < 500) throw new JenkinsRefused(`Jenkins refused to start job ${jenkins.job}: HTTP ${response.status}`);
  if (!response.ok) throw new Error(`failed to trigger Jenkins job ${jenkins.job}: HTTP ${response.status}`);
}
