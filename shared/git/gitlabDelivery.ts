/**
 * The id baton keys a GitLab webhook delivery by: its `Idempotency-Key` (GitLab 17.4+), which
 * GitLab keeps on every retry and resend of one event, else its `X-Gitlab-Event-UUID`, which a
 * resend replaces. Intake names a run by it, and webhookSweep looks the run up by it, so both
 * read it here.
 */
export function gitlabDeliveryId(header: (name: string) => string | undefined): string | undefined {
  return header('idempotency-key') ?? header('x-gitlab-event-uuid');
}

/** The headers that name a GitLab delivery, for messages. */
export const GITLAB_DELIVERY_HEADERS = 'Idempotency-Key or X-Gitlab-Event-UUID';
