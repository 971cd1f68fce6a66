import {
  currentDeployment,
  environmentStatus,
  manualPromotion,
  nextRelease,
  promotionPlan,
  releaseChanges,
  releaseKey,
  rollbackTarget,
} from '../../domain/environments/release.js';
import type { HistoryEntry, PromotionEnvironment, PromotionState } from '../../domain/environments/release.js';

/** A run order (`RunOrder`) for the n-th run: later runs compare greater. */
const orderOf = (n: number) => `2026-01-01T00:00:${String(n).padStart(2, '0')}.000Z~run-${n}`;

/** Releases, promotion and rollback: pure functions, one table row per rule. */
const d = (char: string) => `sha256:${char.repeat(64)}`;
const built = (service: string, char: string) => ({ service, digest: d(char), repository: `registry.test/boutique/${service}`, tag: `abc${char}` });

const ENVIRONMENTS: PromotionEnvironment[] = [
  { name: 'dev', promotion: 'auto' },
  { name: 'staging', promotion: 'auto' },
  { name: 'production', promotion: 'approval' },
];
const RELEASE = { cartservice: d('c'), frontend: d('f') };

function state(overrides: Partial<PromotionState> = {}): PromotionState {
  return { release: RELEASE, phases: {}, held: [], approvals: [], ...overrides };
}

describe('releases', () => {
  test('a release is what the run built plus what it kept from the previous release', () => {
    expect(nextRelease({ cartservice: d('1'), frontend: d('2'), adservice: d('3') }, [built('frontend', 'f')])).toEqual({ adservice: d('3'), cartservice: d('1'), frontend: d('f') });
    expect(nextRelease(undefined, [built('frontend', 'f'), built('cartservice', 'c')])).toEqual(RELEASE);
    expect(Object.keys(nextRelease(undefined, [built('frontend', 'f'), built('cartservice', 'c')]))).toEqual(['cartservice', 'frontend']);
  });

  test.each([
    ['a malformed digest', [{ ...built('frontend', 'f'), digest: 'sha256:xyz' }], /malformed digest/],
    ['one service built twice with different digests', [built('frontend', 'f'), built('frontend', 'e')], /built twice/],
  ])('refused: %s', (_name, images, message) => {
    expect(() => nextRelease(undefined, images)).toThrow(message);
  });

  test('the release key is stable under key order and changes with any digest', () => {
    expect(releaseKey({ frontend: d('f'), cartservice: d('c') })).toBe(releaseKey(RELEASE));
    expect(releaseKey({ ...RELEASE, frontend: d('e') })).not.toBe(releaseKey(RELEASE));
    expect(releaseKey(RELEASE)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  test('changes between releases', () => {
    expect(releaseChanges({ frontend: d('1'), cartservice: d('c') }, { frontend: d('2'), cartservice: d('c'), adservice: d('a') })).toEqual([
      { service: 'adservice', to: d('a') },
      { service: 'frontend', from: d('1'), to: d('2') },
    ]);
  });
});

describe('promotion plan', () => {
  const key = releaseKey(RELEASE);
  test.each<[string, Partial<PromotionState>, ReturnType<typeof promotionPlan>]>([
    ['the first environment deploys at once when auto', {}, { action: 'deploy', environment: 'dev', promotion: 'auto' }],
    ['the next auto environment follows a success', { phases: { dev: 'succeeded' } }, { action: 'deploy', environment: 'staging', promotion: 'auto' }],
    ['a deploy in progress is waited for', { phases: { dev: 'deploying' } }, { action: 'wait', environment: 'dev', reason: 'deploying' }],
    ['a verification in progress is waited for', { phases: { dev: 'succeeded', staging: 'verifying' } }, { action: 'wait', environment: 'staging', reason: 'verifying' }],
    ['an approval environment asks for an approval bound to the release', { phases: { dev: 'succeeded', staging: 'succeeded' } }, { action: 'request-approval', environment: 'production', releaseKey: key }],
    ['…then waits for it', { phases: { dev: 'succeeded', staging: 'succeeded', production: 'awaiting-approval' } }, { action: 'wait', environment: 'production', reason: 'awaiting-approval' }],
    [
      '…and deploys once it is granted',
      { phases: { dev: 'succeeded', staging: 'succeeded', production: 'awaiting-approval' }, approvals: [{ environment: 'production', releaseKey: key }] },
      { action: 'deploy', environment: 'production', promotion: 'approval' },
    ],
    [
      'an approval bound to another release does not count',
      { phases: { dev: 'succeeded', staging: 'succeeded', production: 'awaiting-approval' }, approvals: [{ environment: 'production', releaseKey: releaseKey({ ...RELEASE, frontend: d('0') }) }] },
      { action: 'wait', environment: 'production', reason: 'awaiting-approval' },
    ],
    [
      'an approval bound to another environment does not count',
      { phases: { dev: 'succeeded', staging: 'succeeded' }, approvals: [{ environment: 'staging', releaseKey: key }] },
      { action: 'request-approval', environment: 'production', releaseKey: key },
    ],
    ['a rolled-back environment stops promotion; the rest is skipped', { phases: { dev: 'rolled-back' } }, { action: 'stop', environment: 'dev', reason: 'rolled-back', skip: ['staging', 'production'] }],
    ['a failed deploy stops promotion', { phases: { dev: 'succeeded', staging: 'failed' } }, { action: 'stop', environment: 'staging', reason: 'failed', skip: ['production'] }],
    ['automation never moves a held auto environment', { phases: { dev: 'succeeded' }, held: ['staging'] }, { action: 'wait', environment: 'staging', reason: 'held' }],
    [
      '…nor a held approval environment, even approved',
      { phases: { dev: 'succeeded', staging: 'succeeded' }, held: ['production'], approvals: [{ environment: 'production', releaseKey: key }] },
      { action: 'wait', environment: 'production', reason: 'held' },
    ],
    ['a hold elsewhere does not stop the next environment', { held: ['production'] }, { action: 'deploy', environment: 'dev', promotion: 'auto' }],
    ['every environment succeeded', { phases: { dev: 'succeeded', staging: 'succeeded', production: 'succeeded' } }, { action: 'done' }],
  ])('%s', (_name, overrides, expected) => {
    expect(promotionPlan(ENVIRONMENTS, state(overrides))).toEqual(expected);
  });

  test('the summary status of each phase', () => {
    expect(environmentStatus(undefined, false)).toBe('pending');
    expect(environmentStatus('awaiting-approval', true)).toBe('held');
    expect(environmentStatus('verifying', false)).toBe('pending');
    expect(environmentStatus('verifying', true)).toBe('pending');
    expect(environmentStatus('rolled-back', true)).toBe('rolled-back');
    expect(environmentStatus('skipped', false)).toBe('skipped');
  });

  test.each<[string, Partial<PromotionState>, string, string | undefined]>([
    ['promote to the next environment', { phases: { dev: 'succeeded', staging: 'succeeded' } }, 'production', undefined],
    ['an unknown environment', {}, 'prod', 'no environment "prod"; the pipeline has dev, staging, production'],
    ['skipping an environment', { phases: { dev: 'succeeded' } }, 'production', 'staging comes first and has not succeeded for this run (pending)'],
    ['an environment already done', { phases: { dev: 'succeeded' } }, 'dev', 'dev is already succeeded for this run'],
    ['a held environment', { phases: { dev: 'succeeded', staging: 'succeeded' }, held: ['production'] }, 'production', 'production is held; run baton release production first'],
  ])('baton promote: %s', (_name, overrides, target, reason) => {
    expect(manualPromotion(ENVIRONMENTS, state(overrides), target)).toEqual(reason === undefined ? { ok: true } : { ok: false, reason });
  });
});

describe('history and rollback', () => {
  const r1 = { frontend: d('1'), cartservice: d('c') };
  const r2 = { frontend: d('2'), cartservice: d('c') };
  const r3 = { frontend: d('3'), cartservice: d('c') };
  const entry = (runId: string, seq: number, release: Record<string, string>, at: string, status: HistoryEntry['status'], kind?: HistoryEntry['kind']): HistoryEntry => ({
    environment: 'production',
    runId,
    order: orderOf(seq),
    release,
    at: `2026-12-01T${at}:00Z`,
    status,
    ...(kind ? { kind } : {}),
  });
  const HISTORY: HistoryEntry[] = [
    entry('run-1', 1, r1, '10:00', 'succeeded'),
    entry('run-2', 2, r2, '11:00', 'succeeded'),
    { ...entry('run-2', 2, r2, '10:30', 'succeeded'), environment: 'staging' },
    entry('run-3', 3, r3, '12:00', 'in-progress'),
  ];

  test('without --to: back to the newest earlier release that succeeded there', () => {
    expect(rollbackTarget(HISTORY, 'production')).toEqual({
      ok: true,
      runId: 'run-2',
      release: r2,
      from: r3,
      changes: [{ service: 'frontend', from: d('3'), to: d('2') }],
    });
  });

  test('history order comes from the time, not the list', () => {
    expect(rollbackTarget([...HISTORY].reverse(), 'production')).toMatchObject({ ok: true, runId: 'run-2' });
    expect(currentDeployment([...HISTORY].reverse(), 'production')).toMatchObject({ runId: 'run-3' });
  });

  test('rolling back twice goes back twice; a failed or rolled-back release is never a target', () => {
    const history = [...HISTORY.slice(0, 3), entry('run-3', 3, r3, '12:00', 'rolled-back'), entry('run-2', 2, r2, '12:05', 'succeeded', 'rollback')];
    expect(rollbackTarget(history, 'production')).toMatchObject({ ok: true, runId: 'run-1', release: r1 });
    expect(rollbackTarget(history, 'production', 'run-3')).toEqual({ ok: false, reason: 'run run-3 never succeeded in production (its last deployment there: rolled-back)' });
  });

  test.each<[string, string | undefined, string | undefined]>([
    ['--to a run that succeeded there', 'run-1', undefined],
    ['--to a run never deployed there', 'run-9', 'run run-9 was never deployed to production'],
    ['--to the release already running', 'run-2', "run run-2's release is what production runs already"],
  ])('%s', (_name, toRunId, reason) => {
    const history = HISTORY.slice(0, 3);
    const result = rollbackTarget(history, 'production', toRunId);
    if (reason === undefined) expect(result).toMatchObject({ ok: true, runId: toRunId });
    else expect(result).toEqual({ ok: false, reason });
  });

  test('nothing to roll back to', () => {
    expect(rollbackTarget([], 'production')).toEqual({ ok: false, reason: 'nothing was ever deployed to production' });
    expect(rollbackTarget([entry('run-1', 1, r1, '10:00', 'succeeded')], 'production')).toEqual({ ok: false, reason: 'no earlier release succeeded in production; there is nothing to roll back to' });
  });
});
