import { z } from 'zod';
import type { HttpTarget, Route } from '../../shared/adapters/http.js';
import { Decider } from '../../shared/contracts/index.js';
import { decide } from './decide.js';
import { expireStale } from './expiry.js';
import { decideDepsFor } from './runtimeDeps.js';

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

const localDecide: HttpTarget = async (request, runtime) => {
  let body: LocalDecideBody;
  try {
    const parsed = LocalDecideBody.safeParse(JSON.parse(request.rawBody.toString('utf8')));
    if (!parsed.success) return { status: 400, body: { error: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ') } };
    body = parsed.data;
  } catch (error) {
    return { status: 400, body: { error: `body is not JSON: ${(error as Error).message}` } };
  }
  const outcome = await decide({ ...body }, decideDepsFor(runtime, 'background'));
  return { status: 200, body: outcome };
};

const localExpire: HttpTarget = async (_request, runtime) => ({ status: 200, body: await expireStale(decideDepsFor(runtime, 'background')) });

export function localApprovalRoutes(): Route[] {
  return [
    { method: 'POST', path: LOCAL_DECIDE_PATH, target: localDecide },
    { method: 'POST', path: LOCAL_EXPIRE_PATH, target: localExpire },
  ];
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
