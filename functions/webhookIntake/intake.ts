import type { Bus } from '../../shared/bus/bus.js';
import { publishEvent } from '../../shared/bus/events.js';
import type { BatonConfig, Pipeline } from '../../shared/config/pipelineConfig.js';
import { affectedServices, matchPipeline } from '../../shared/config/pipelineConfig.js';
import type { HttpRequest, HttpResponse } from '../../shared/adapters/http.js';
import { isBotCommit } from '../../shared/git/botCommit.js';
import type { RunLedger, RunRecord } from '../../shared/ledger/runLedger.js';
import type { Logger } from '../../shared/log/logger.js';
import type { PushReceived } from '../../shared/contracts/index.js';
import type { NormalizedPush, WebhookReceiver } from './receiver.js';
import { PayloadError, uniquePaths } from './receiver.js';

export type IntakeDeps = {
  receivers: WebhookReceiver[];
  config: BatonConfig;
  ledger: RunLedger;
  bus: Bus;
  log: Logger;
  /** Called after a run is published (Jenkins' remote trigger); its failure never fails the webhook. */
  onRunStarted?: (event: PushReceived, pipeline: Pipeline) => Promise<void>;
};

const json = (status: number, body: Record<string, unknown>): HttpResponse => ({ status, body });
const ignored = (reason: string): HttpResponse => json(200, { ignored: reason });

/**
 * Webhook intake: verify against the raw body before anything is parsed, then decide whether
 * the push starts a run. Every refusal is a 4xx with a JSON error; every push that does not
 * count is a 2xx that publishes nothing; a redelivery is a 2xx that publishes nothing. Only a
 * new, verified push that a pipeline lists is published, exactly once, as `push-received`.
 */
export async function receiveWebhook(request: HttpRequest, deps: IntakeDeps): Promise<HttpResponse> {
  const { headers, rawBody } = request;
  if (request.method !== 'POST') return json(405, { error: 'webhooks are POSTed' });
  const receiver = deps.receivers.find((candidate) => candidate.matches(headers));
  if (!receiver) return json(400, { error: 'not a GitHub or GitLab webhook: missing X-GitHub-Event or X-Gitlab-Event header' });
  const log = deps.log.child({ stage: 'intake', provider: receiver.provider });

  const verification = await receiver.verify(headers, rawBody);
  if (verification !== 'ok') {
    if (verification === 'unconfigured') log.error(`no ${receiver.provider} webhook secret is configured; refusing every ${receiver.provider} webhook`);
    else log.warn('refused a webhook with a bad or missing signature', { verification });
    return json(401, { error: verification === 'missing' ? 'missing signature' : 'signature does not match' });
  }

  const event = receiver.eventKind(headers);
  if (event.kind === 'ping') return json(200, { ok: true, message: 'pong: the webhook is set up' });
  if (event.kind !== 'push') {
    log.info('ignored a webhook event that is not a push', { event: event.name });
    return ignored(`event ${event.name} is not a push`);
  }
  const deliveryId = receiver.deliveryId(headers);
  if (!deliveryId) return json(400, { error: `missing delivery id header (${receiver.provider === 'github' ? 'X-GitHub-Delivery' : 'X-Gitlab-Event-UUID'})` });

  let push: NormalizedPush;
  try {
    push = receiver.parsePush(JSON.parse(payloadText(rawBody, headers['content-type'])));
  } catch (error) {
    const reason = error instanceof PayloadError ? error.message : `body is not JSON: ${(error as Error).message}`;
    log.warn('refused a malformed push payload', { deliveryId, reason });
    return json(400, { error: reason });
  }

  const decision = triage(push, deps.config);
  if ('ignore' in decision) {
    log.info('ignored a push', { deliveryId, repository: push.repository, ref: push.ref, reason: decision.ignore });
    return ignored(decision.ignore);
  }
  const { pipeline, branch, services, unresolvedReason } = decision;

  // The delivery is claimed, the run numbered and created in one transaction before anything
  // is published, so a redelivery (same id) can never start a second run; if publishing then
  // fails, the delivery is released so the host's redelivery can start it.
  let run: RunRecord | undefined;
  try {
    run = await deps.ledger.startRun(
      { provider: receiver.provider, deliveryId },
      (seq) => ({
        runId: `${pipeline.name}-${seq}-${push.after.slice(0, 7)}`,
        pipeline: pipeline.name,
        kind: pipeline.kind,
        seq,
        provider: receiver.provider,
        deliveryId,
        repository: push.repository,
        ref: push.ref,
        branch,
        before: push.before,
        after: push.after,
        pusher: push.pusher,
        headMessage: push.commits.at(-1)?.message.split('\n')[0],
        compareUrl: push.compareUrl,
        services,
      }),
      (_run, at) => ({ intake: { status: 'succeeded', startedAt: at.toISOString(), endedAt: at.toISOString(), detail: `${receiver.provider} push ${push.after.slice(0, 7)} to ${branch}` } }),
    );
  } catch (error) {
    log.error('failed to record the run; the delivery can be retried', { deliveryId, error });
    return json(503, { error: 'failed to start the run; redeliver the webhook' });
  }
  if (!run) {
    log.info('ignored a redelivered webhook', { deliveryId });
    return json(200, { duplicate: true, deliveryId });
  }
  const runLog = log.child({ runId: run.runId, pipeline: pipeline.name });
  let published: PushReceived;
  try {
    published = await publishEvent(deps.bus, 'push-received', {
      runId: run.runId,
      pipeline: pipeline.name,
      kind: pipeline.kind,
      provider: receiver.provider,
      deliveryId,
      repository: push.repository,
      cloneUrl: push.cloneUrl,
      ref: push.ref,
      branch,
      before: push.before,
      after: push.after,
      forced: push.forced,
      created: push.created,
      pusher: push.pusher,
      commits: push.commits,
      changedPaths: uniquePaths(push.commits),
      services,
      servicesResolved: unresolvedReason === undefined,
      ...(unresolvedReason ? { unresolvedReason } : {}),
      ...(push.compareUrl ? { compareUrl: push.compareUrl } : {}),
      seq: run.seq,
    });
  } catch (error) {
    await deps.ledger.releaseDelivery(receiver.provider, deliveryId).catch(() => undefined);
    await deps.ledger
      .updateRun(run.runId, (current) => ({ ...current, status: 'failed', stages: { ...current.stages, intake: { ...current.stages.intake!, status: 'failed', detail: 'could not publish push-received; redeliver the webhook' } } }))
      .catch(() => undefined);
    runLog.error('failed to publish push-received; the delivery can be retried', { deliveryId, error });
    return json(503, { error: 'failed to start the run; redeliver the webhook' });
  }
  runLog.info('accepted a push', { deliveryId, services, servicesResolved: published.servicesResolved, unresolvedReason });
  if (deps.onRunStarted) {
    await deps.onRunStarted(published, pipeline).catch((error: unknown) => runLog.warn('failed to notify Jenkins', { error }));
  }
  return json(202, { runId: run.runId });
}

/**
 * GitHub sends the payload as the body (application/json) or as the form field `payload`
 * (application/x-www-form-urlencoded), depending on the hook's content type setting.
 */
function payloadText(rawBody: Buffer, contentType: string | undefined): string {
  const text = rawBody.toString('utf8');
  if (!contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) return text;
  const payload = new URLSearchParams(text).get('payload');
  if (payload === null) throw new PayloadError('form-encoded webhook without a payload field');
  return payload;
}

type Triage =
  | { ignore: string }
  | { pipeline: Pipeline; branch: string; services: string[]; unresolvedReason?: 'truncated' | 'forced' | 'created' };

/** Decides what a verified push means: which pipeline, which services, or why it is ignored. */
export function triage(push: NormalizedPush, config: BatonConfig): Triage {
  if (push.deleted) return { ignore: 'branch or tag deletion' };
  const isTag = push.ref.startsWith('refs/tags/');
  const isBranch = push.ref.startsWith('refs/heads/');
  if (!isTag && !isBranch) return { ignore: `ref ${push.ref} is neither a branch nor a tag` };
  const branch = push.ref.replace(/^refs\/(heads|tags)\//, '');
  const pipeline = matchPipeline(config, push.repository, branch, isTag);
  if (!pipeline) return { ignore: isTag ? `no pipeline builds tag ${branch} of ${push.repository}` : `no pipeline lists ${push.repository} ${branch}` };
  if (push.commits.length > 0 && push.commits.every((commit) => isBotCommit(commit, config.bot))) {
    return { ignore: "the push holds only the pipeline's own chart commits" };
  }
  const unresolvedReason = push.forced ? 'forced' : push.created ? 'created' : push.truncated || push.commits.length === 0 ? 'truncated' : undefined;
  if (unresolvedReason) return { pipeline, branch, services: [], unresolvedReason };
  const services = affectedServices(pipeline, uniquePaths(push.commits));
  if (services.length === 0) return { ignore: 'no service of the pipeline is affected' };
  return { pipeline, branch, services };
}
