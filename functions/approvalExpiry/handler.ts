import { expireStale } from '../../domain/approval/expiry.js';
import { decideDepsFor } from '../../domain/approval/runtimeDeps.js';
import type { ScheduledHandler, StageRuntime } from '../../shared/stage/declaration.js';

/** approvalExpiry's tick: one sweep of the open approval requests. */
export function approvalExpiryHandler(runtime: StageRuntime<'approval-decided'>): ScheduledHandler {
  const deps = decideDepsFor(runtime, 'background');
  return async () => expireStale(deps);
}
