import { findPipeline } from '../../shared/config/pipelineConfig.js';
import { claimKeys } from '../../shared/ledger/claimKeys.js';
import type { StageRuntime, TopicHandler } from '../../shared/stage/declaration.js';
import { PermanentError, result } from '../../shared/stage/outcome.js';
import { JenkinsRefused, triggerJenkins } from './trigger.js';

/**
 * jenkinsTrigger's handler: one Jenkins build per run. The run's claim is taken before the call,
 * so a redelivered `push-received` (Pub/Sub delivers at least once) starts no second build, and
 * given back when the call failed, so the redelivery tries again. What Jenkins refuses for good
 * (a 4xx: a wrong token, a job that does not exist) is not retried: the run goes on, and the log
 * says why Jenkins does not show it.
 */
export function jenkinsTriggerHandler(runtime: StageRuntime<never>, fetchImpl: typeof fetch = fetch): TopicHandler<'push-received', never> {
  return async ({ event }) => {
    const pipeline = findPipeline(runtime.config(), event.pipeline);
    if (!pipeline?.jenkins) return result.none(`pipeline ${event.pipeline} names no Jenkins job`);
    const token = runtime.env.JENKINS_TRIGGER_TOKEN;
    if (!token) return result.none('JENKINS_TRIGGER_TOKEN is not set; Jenkins is not told of runs');
    const ledger = runtime.ledger();
    const key = claimKeys.jenkinsBuild(event.runId);
    if (!(await ledger.claim(key, { runId: event.runId, job: pipeline.jenkins.job }))) return result.none('Jenkins was already started for this run');
    try {
      await triggerJenkins(event, pipeline.jenkins, token, fetchImpl);
    } catch (error) {
      await ledger.releaseClaim(key);
      if (error instanceof JenkinsRefused) throw new PermanentError(error.message);
      throw error;
    }
    return result.none(`started Jenkins job ${pipeline.jenkins.job}`);
  };
}
