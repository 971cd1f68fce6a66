/** A claim held while a start is under way (a build, a Jenkins build): when it was taken, and by which process. */
export type StartingClaim = { startingAt: string; by?: string };

/** Who asks: this process, and whether it is the only one (the embedded runtime, `baton dev`). */
export type ClaimOwner = { instanceId?: string; singleProcess?: boolean };

/**
 * Whether a start claim that never recorded its result was left by a delivery that died mid-start,
 * so a redelivery may take it over: it is older than `afterMs`, or, where only one process runs,
 * another process took it (one from before a restart, known to be dead).
 */
export function abandonedStart(claim: StartingClaim, now: Date, afterMs: number, owner: ClaimOwner): boolean {
  return (owner.singleProcess === true && claim.by !== owner.instanceId) || now.getTime() - Date.parse(claim.startingAt) > afterMs;
}
