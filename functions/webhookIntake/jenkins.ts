import type { Pipeline } from '../../shared/config/pipelineConfig.js';
import type { PushReceived } from '../../shared/contracts/index.js';
import { redactedError } from '../../shared/log/redact.js';

/**
 * Starts the run's Jenkins pipeline through Jenkins' remote build trigger, passing the run id
 * as a parameter (`jenkins/Jenkinsfile`). Optional: only when the pipeline names a Jenkins job
 * and `JENKINS_TRIGGER_TOKEN` is set. Uses the Build Authorization Token Root plugin's
 * `buildByToken` endpoint, which needs no user session or CSRF crumb.
 */
export async function triggerJenkins(event: PushReceived, pipeline: Pipeline, token: string | undefined, fetchImpl: typeof fetch = fetch): Promise<void> {
  if (!pipeline.jenkins || !token) return;
  const url = new URL('buildByToken/buildWithParameters', pipeline.jenkins.url.endsWith('/') ? pipeline.jenkins.url : `${pipeline.jenkins.url}/`);
  url.searchParams.set('job', pipeline.jenkins.job);
  url.searchParams.set('token', token);
  url.searchParams.set('RUN_ID', event.runId);
  url.searchParams.set('PIPELINE', event.pipeline);
  url.searchParams.set('COMMIT', event.after);
  let response: Response;
  try {
    response = await fetchImpl(url, { method: 'POST', signal: AbortSignal.timeout(3_000) });
  } catch (error) {
    throw redactedError(`failed to trigger Jenkins job ${pipeline.jenkins.job}`, error);
  }
  if (!response.ok) throw new Error(`failed to trigger Jenkins job ${pipeline.jenkins.job}: HTTP ${response.status}`);
}
