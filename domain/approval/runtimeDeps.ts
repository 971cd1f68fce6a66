import { randomBytes } from 'node:crypto';
import type { Runtime } from '../../shared/runtime/runtime.js';
import { registerSecrets } from '../../shared/log/redact.js';
import type { ApprovalRecord, DecisionRecord } from '../../shared/ledger/approvals.js';
import type { StageRuntime } from '../../shared/stage/declaration.js';
import type { DecideDeps } from './decide.js';
import { decidedMessage } from './messages.js';
import type { RunRecord } from '../../shared/ledger/runLedger.js';
import { runView } from './settings.js';
import { slackApi } from './slackClient.js';
import type { SlackApi } from './slackClient.js';
import { approvalSecrets } from './token.js';

/**
 * How the approval code gets its collaborators from a runtime, once per runtime: the Slack
 * client (only when `SLACK_BOT_TOKEN` is set; without it, deciding is left to the CLI and
 * Jenkins), the token secrets, and the `decide()` dependencies.
 */
export type SlackPurpose = 'interactive' | 'background';

/**
 * `interactive` serves the button callback, which must answer within 3 s: short timeouts and no
 * SDK retries. `background` posts from a Pub/Sub handler, where the bus retries anyway.
 */
export function slackFor(runtime: Pick<Runtime, 'env' | 'service'>, purpose: SlackPurpose): SlackApi | undefined {
  const token = runtime.env.SLACK_BOT_TOKEN;
  if (!token) return undefined;
  return runtime.service(`slack:${purpose}`, () =>
    slackApi({
      token,
      apiUrl: runtime.env.SLACK_API_URL || undefined,
      timeoutMs: purpose === 'interactive' ? 1_000 : 10_000,
      retries: purpose === 'interactive' ? 0 : 2,
    }),
  );
}

/**
 * `BATON_APPROVAL_SECRET`. Deployed it is required. The embedded runtime, where one process
 * posts the buttons and serves the callback, makes up a key for its own lifetime when none is set.
 */
export function tokenSecretsFor(runtime: Pick<Runtime, 'env' | 'service' | 'mode' | 'log'>): string[] {
  return runtime.service('approval:secrets', () => {
    const configured = approvalSecrets(runtime.env.BATON_APPROVAL_SECRET);
    if (configured.length || runtime.mode !== 'embedded') return configured;
    const generated = randomBytes(32).toString('base64url');
    registerSecrets(generated);
    runtime.log.warn('BATON_APPROVAL_SECRET is not set: using a key made up for this process; buttons posted before a restart stop working');
    return [generated];
  });
}

/** Replaces the question's buttons with who decided, how and when. */
export function showDecisionInSlack(slack: SlackApi | undefined) {
  return async (record: ApprovalRecord, run: RunRecord, decision: DecisionRecord): Promise<void> => {
    if (!slack || !record.channel || !record.ts) return;
    await slack.update(record.channel, record.ts, decidedMessage(runView(run, decision.environment), decision));
  };
}

/** `decide()`'s dependencies for a stage that records approval decisions (approvalCallback, approvalExpiry, the CLI acting as approvalCallback). */
export function decideDepsFor(runtime: Omit<StageRuntime<'approval-decided'>, 'publisher'>, purpose: SlackPurpose = 'interactive'): DecideDeps {
  return runtime.service(`approval:decideDeps:${runtime.stage.name}:${purpose}`, () => ({
    ledger: runtime.ledger(),
    record: (runId, outcome, options) => runtime.record(runId, outcome, options),
    config: runtime.config(),
    env: { SLACK_APPROVERS: runtime.env.SLACK_APPROVERS, SLACK_CHANNEL: runtime.env.SLACK_CHANNEL },
    tokenSecrets: tokenSecretsFor(runtime),
    now: () => runtime.now(),
    log: runtime.log,
    onClosed: showDecisionInSlack(slackFor(runtime, purpose)),
  }));
}
