import { z } from 'zod';
import type { HttpTarget, Route } from '../../shared/adapters/http.js';
import { Decider } from '../../shared/contracts/index.js';
import type { DecisionOutcome } from './decide.js';
import type { SweepResult } from './expiry.js';

/**
 * The embedded stack's loopback-only routes for `baton approve|reject|expire`. In the plain
 * embedded mode the bus lives inside `baton dev`, so a separate CLI process cannot publish on
 * it; it asks `baton dev` to run the same `decide()` instead. The stack mounts these only when
 * it listens on a loopback address: anyone who can reach them can already write the local ledger.
 */
export const LOCAL_DECIDE_PATH = '/_local/decide';
export const LOCAL_EXPIRE_PATH = '/_local/expire';

export const LocalDecideBody = z.object({
  runId: z.string().min(1),
  action: z.enum(['approve', 'reject']),
  decider: Decider.extend({ via: z.enum(['cli', 'jenkins']) }),
  reason: z.string().optional(),
});
export type LocalDecideBody = z.infer<typeof LocalDecideBody>;

export type LocalApprovalDeps = {
  decide: (request: LocalDecideBody) => Promise<DecisionOutcome>;
  expire: () => Promise<SweepResult>;
};

export function localApprovalRoutes(deps: LocalApprovalDeps): Route[] {
  const localDecide: HttpTarget = async (request) => {
    let body: LocalDecideBody;
    try {
      const parsed = LocalDecideBody.safeParse(JSON.parse(request.rawBody.toString('utf8')));
      if (!parsed.success) return { status: 400, body: { error: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ') } };
      body = parsed.data;
    } catch (error) {
      return { status: 400, body: { error: `body is not JSON: ${(error as Error).message}` } };
    }
    return { status: 200, body: await deps.decide(body) };
  };
  const localExpire: HttpTarget = async () => ({ status: 200, body: await deps.expire() });
  return [
    { method: 'POST', path: LOCAL_DECIDE_PATH, target: localDecide },
    { method: 'POST', path: LOCAL_EXPIRE_PATH, target: localExpire },
  ];
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
