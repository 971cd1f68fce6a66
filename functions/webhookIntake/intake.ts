import { createHash } from 'node:crypto';
import type { BatonConfig, Pipeline } from '../../shared/config/pipelineConfig.js';
import { affectedServices, matchPipeline } from '../../shared/config/pipelineConfig.js';
import type { HttpRequest, HttpResponse } from '../../shared/adapters/http.js';
import { isBotCommit } from '../../shared/git/botCommit.js';
import { GITLAB_DELIVERY_HEADERS } from '../../shared/git/gitlabDelivery.js';
import type { OutboxEntry, RunLedger, RunRecord } from '../../shared/ledger/runLedger.js';
import { crashPoint } from '../../shared/stage/crashPoint.js';
import type { Publisher } from '../../shared/stage/publisher.js';
import type { Logger } from '../../shared/log/logger.js';
import type { NormalizedPush, WebhookReceiver } from './receiver.js';
import { PayloadError, uniquePaths } from './receiver.js';

/** What starting a run needs, whether a webhook starts it or `baton retry` does (`retry.ts`). */
export type RunStartDeps = {
  config: BatonConfig;
  ledger: RunLedger;
  publisher: Publisher<'push-received'>;
  log: Logger;
  now: () => Date;
  /** The ledger stages a new run of the pipeline goes through (its environments' stages included). */
  plan: (pipeline: Pipeline) => string[];
};

export type IntakeDeps = RunStartDeps & { receivers: WebhookReceiver[] };

const json = (status: number, body: Record<string, unknown>): HttpResponse => ({ status, body });
const ignored = (reason: string): HttpResponse => json(200, { ignored: reason });

/**
 * Webhook intake: verify against the raw body before anything is parsed, then decide whether
 * the push starts a run. Every refusal is a 4xx with a JSON error; every push that does not
 * count is a 2xx that publishes nothing; a redelivery is a 2xx that publishes nothing, unless
 * its run never left intake, which it re-drives. Only a new, verified push that a pipeline
 * lists starts a run, and its `push-received` is written with it.
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
  if (!deliveryId) return json(400, { error: `missing delivery id header (${receiver.provider === 'github' ? 'X-GitHub-Delivery' : GITLAB_DELIVERY_HEADERS})` });

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

  // One create-if-absent write of a document of the run's own holds the run, its intake stage and
  // its push-received event (the outbox): a redelivery (same delivery id, so the same run id)
  // finds it, and nothing is shared between pushes, so a burst never contends.
  const at = deps.now();
  const record = async (runId: string) => {
    const order = `${at.toISOString()}~${runId}`;
    const item = deps.publisher.event('push-received', {
      runId,
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
      order,
      at: at.toISOString(),
    });
    const { created, run } = await deps.ledger.createRun(
      {
        runId,
        pipeline: pipeline.name,
        kind: pipeline.kind,
        order,
        provider: receiver.provider,
        deliveryId,
        repository: push.repository,
        ref: push.ref,
        branch,
        before: push.before,
        after: push.after,
        pusher: push.pusher,
        headMessage: push.commits.at(-1)?.message.split('\n')[0],
        ...(push.compareUrl ? { compareUrl: push.compareUrl } : {}),
        services,
        plan: deps.plan(pipeline),
      },
      at,
      { intake: { status: 'succeeded', startedAt: at.toISOString(), endedAt: at.toISOString(), detail: `${receiver.provider} push ${push.after.slice(0, 7)} to ${branch}` } },
      { [item.key]: { topic: item.topic, event: item.event, at: at.toISOString() } },
    );
    return { item, created, run };
  };
  let recorded: Awaited<ReturnType<typeof record>>;
  try {
    recorded = await record(runIdFor(pipeline.name, push.after, receiver.provider, deliveryId));
    // A run id holds 32 bits of the delivery; two deliveries of one commit can share them (one in
    // about 9,000 among 1,000 pushes of the same commit). The second is not a redelivery: it takes
    // the id with 64 bits, which a redelivery of it reaches the same way.
    if (!recorded.created && (recorded.run.deliveryId !== deliveryId || recorded.run.provider !== receiver.provider)) {
      recorded = await record(runIdFor(pipeline.name, push.after, receiver.provider, deliveryId, 16));
    }
  } catch (error) {
    log.error('failed to record the run; the delivery can be retried', { deliveryId, error });
    return json(503, { error: 'failed to start the run; redeliver the webhook' });
  }
  const { item, created, run } = recorded;
  const runId = run.runId;
  crashPoint('intake:after-ledger-write');
  const runLog = log.child({ runId, pipeline: pipeline.name });
  if (!created) {
    const stranded = strandedAtIntake(run, item.key);
    if (!stranded) {
      runLog.info('ignored a redelivered webhook', { deliveryId });
      return json(200, { duplicate: true, deliveryId, runId });
    }
    // The run was accepted but never left intake (the process died before publishing, or the
    // message was lost): the redelivery drives it on instead of being answered as a duplicate.
    await deps.publisher.republish(item.key, stranded);
    runLog.warn('a redelivered webhook re-drove a run that never left intake', { deliveryId });
    return json(202, { runId, redriven: true });
  }
  // A failed publish leaves the event in the run's outbox: the reconciler publishes it again, and
  // so does a redelivery of this webhook. The push is accepted either way.
  if ((await deps.publisher.send([item])).length) runLog.warn('accepted a push whose event could not be published yet', { deliveryId });
  runLog.info('accepted a push', { deliveryId, services, servicesResolved: unresolvedReason === undefined, unresolvedReason });
  return json(202, { runId });
}

/**
 * The run's start event when the run never left intake: written, but neither published nor
 * handled by anyone, and the run still going. Intake's work is done once the event went out;
 * after that, the bus and the reconciler own it.
 */
export function strandedAtIntake(run: RunRecord, key: string): OutboxEntry | undefined {
  const entry = run.outbox[key];
  if (!entry || entry.publishedAt !== undefined || Object.keys(entry.handled ?? {}).length > 0 || run.status !== 'running') return undefined;
  return entry;
}

/**
 * A run's id follows from its delivery, so a redelivery names the same run: the pipeline, the
 * short sha for people, and a hash of the host's delivery id to tell two pushes of one commit apart.
 */
export function runIdFor(pipeline: string, sha: string, provider: string, deliveryId: string, hashDigits = 8): string {
  return `${pipeline}-${sha.slice(0, 7)}-${createHash('sha256').update(`${provider}:${deliveryId}`).digest('hex').slice(0, hashDigits)}`;
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
