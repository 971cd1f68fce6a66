import { z } from 'zod';
import type { HttpTarget, Route } from '../../shared/adapters/http.js';
import { Decider } from '../../shared/contracts/index.js';
import type { DecisionOutcome } from './decide.js';
import type { SweepResult } from './expiry.js';
import { EnvironmentOperation } from '../environments/operations.js';
import type { OperationResult } from '../environments/operations.js';

/**
 * The embedded stack's loopback-only routes for `baton approve|reject|expire|retry` and the
 * environment commands. In the plain embedded mode the bus lives inside `baton dev`, so a
 * separate CLI process cannot publish on it; it asks `baton dev` to run the same operation
 * (`decide()`, `retryRun()`, ...) instead. The stack mounts these only when
 * it listens on a loopback address: anyone who can reach them can already write the local ledger.
 */
export const LOCAL_DECIDE_PATH = '/_local/decide';
export const LOCAL_EXPIRE_PATH = '/_local/expire';
/** `baton promote|rollback|hold|release` (domain/environments/operations.ts). */
export const LOCAL_ENVIRONMENT_PATH = '/_local/environment';
/** `baton retry` (`retryRun`, functions/webhookIntake/retry.ts). */
export const LOCAL_RETRY_PATH = '/_local/retry';

/** A retry request: the run, who asks (`cli:alice`), why. */
export const LocalRetryBody = z.object({ runId: z.string().min(1), by: z.string().min(1), reason: z.string().optional() });
export type LocalRetryBody = z.infer<typeof LocalRetryBody>;

export const LocalDecideBody = z.object({
  runId: z.string().min(1),
  environment: z.string().min(1).optional(),
  action: z.enum(['approve', 'reject']),
  decider: Decider.extend({ via: z.enum(['cli', 'jenkins']) }),
  reason: z.string().optional(),
});
export type LocalDecideBody = z.infer<typeof LocalDecideBody>;

export type LocalApprovalDeps = {
  decide: (request: LocalDecideBody) => Promise<DecisionOutcome>;
  expire: () => Promise<SweepResult>;
  environment: (operation: EnvironmentOperation) => Promise<OperationResult>;
  /** Mounted when the stack runs intake, whose run start it is. */
  retry?: (request: LocalRetryBody) => Promise<unknown>;
};

/** A JSON body checked against its schema: the value, or the 400 that says what is wrong. */
function parseBody<T>(schema: z.ZodType<T>, raw: Buffer): { ok: true; value: T } | { ok: false; response: { status: number; body: { error: string } } } {
  try {
    const parsed = schema.safeParse(JSON.parse(raw.toString('utf8')));
    if (parsed.success) return { ok: true, value: parsed.data };
    return { ok: false, response: { status: 400, body: { error: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ') } } };
  } catch (error) {
    return { ok: false, response: { status: 400, body: { error: `body is not JSON: ${(error as Error).message}` } } };
  }
}

export function localApprovalRoutes(deps: LocalApprovalDeps): Route[] {
  const localDecide: HttpTarget = async (request) => {
    const body = parseBody(LocalDecideBody, request.rawBody);
    return body.ok ? { status: 200, body: await deps.decide(body.value) } : body.response;
  };
  const localExpire: HttpTarget = async () => ({ status: 200, body: await deps.expire() });
  const localEnvironment: HttpTarget = async (request) => {
    const body = parseBody(EnvironmentOperation, request.rawBody);
    return body.ok ? { status: 200, body: await deps.environment(body.value) } : body.response;
  };
  const { retry } = deps;
  const localRetry: Route[] = retry
    ? [
        {
          method: 'POST',
          path: LOCAL_RETRY_PATH,
          target: async (request) => {
            const body = parseBody(LocalRetryBody, request.rawBody);
            return body.ok ? { status: 200, body: await retry(body.value) } : body.response;
          },
        },
      ]
    : [];
  return [
    ...localRetry,
    { method: 'POST', path: LOCAL_DECIDE_PATH, target: localDecide },
    { method: 'POST', path: LOCAL_EXPIRE_PATH, target: localExpire },
    { method: 'POST', path: LOCAL_ENVIRONMENT_PATH, target: localEnvironment },
  ];
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
