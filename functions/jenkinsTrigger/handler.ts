import { findPipeline } from '../../shared/config/pipelineConfig.js';
import { claimKeys } from '../../shared/ledger/claimKeys.js';
import { abandonedStart } from '../../shared/ledger/startClaim.js';
import type { StartingClaim } from '../../shared/ledger/startClaim.js';
import type { StageRuntime, TopicHandler } from '../../shared/stage/declaration.js';
import { PermanentError, result } from '../../shared/stage/outcome.js';
import { JenkinsRefused, triggerJenkins } from './trigger.js';

/** The run's Jenkins claim: taken before the call, `startedAt` added once Jenkins accepted it. */
type TriggerClaim = StartingClaim & { startedAt?: string };

/** A claim without `startedAt` older than this is from a delivery that died mid-call (the call gives up after 10 s). */
export const ABANDONED_TRIGGER_MS = 30_000;

/**
 * jenkinsTrigger's handler: one Jenkins build per run. The run's claim is taken before the call,
 * so a redelivered `push-received` (Pub/Sub delivers at least once) starts no second build, and
 * given back when the call failed, so the redelivery tries again. A claim left without
 * `startedAt` is a delivery that died mid-call: once it is abandoned (older than
 * ABANDONED_TRIGGER_MS, or `baton dev` restarted) the redelivery takes it over and calls again.
 * Jenkins may then hold two builds of the run; both only follow it, which is better than none.
 * What Jenkins refuses for good (a 4xx: a wrong token, a job that does not exist) is not retried:
 * the run goes on, and the log says why Jenkins does not show it.
 */
export function jenkinsTriggerHandler(runtime: StageRuntime<never>, fetchImpl: typeof fetch = fetch): TopicHandler<'push-received', never> {
  const log = runtime.log.child({ stage: runtime.stage.name });
  return async ({ event }) => {
    const pipeline = findPipeline(runtime.config(), event.pipeline);
    if (!pipeline?.jenkins) return result.none(`pipeline ${event.pipeline} names no Jenkins job`);
    const token = runtime.env.JENKINS_TRIGGER_TOKEN;
    if (!token) return result.none('JENKINS_TRIGGER_TOKEN is not set; Jenkins is not told of runs');
    const ledger = runtime.ledger();
    const key = claimKeys.jenkinsBuild(event.runId);
    const existing = await ledger.getClaim<TriggerClaim>(key);
    if (existing?.startedAt) return result.none('Jenkins was already started for this run');
    if (existing) {
      if (!abandonedStart(existing, runtime.now(), ABANDONED_TRIGGER_MS, { instanceId: runtime.instanceId, singleProcess: runtime.mode === 'embedded' })) throw new Error('another delivery is starting the Jenkins build of this run');
      log.warn('took over a Jenkins start that a previous delivery abandoned', { runId: event.runId });
      await ledger.releaseClaim(key);
    }
    if (!(await ledger.claim(key, { runId: event.runId, job: pipeline.jenkins.job, startingAt: runtime.now().toISOString(), by: runtime.instanceId }))) {
      throw new Error('another delivery is starting the Jenkins build of this run');
    }
    try {
      await triggerJenkins(event, pipeline.jenkins, token, fetchImpl);
    } catch (error) {
      await ledger.releaseClaim(key);
      if (error instanceof JenkinsRefused) throw new PermanentError(error.message);
      throw error;
    }
    await ledger.extendClaim(key, { startedAt: runtime.now().toISOString() });
    return result.none(`started Jenkins job ${pipeline.jenkins.job}`);
  };
}
