import { join } from 'node:path';
import { createHistoryRepo } from '../../bench/syntheticHistory.js';
import { authModeFor, gitAuthEnv } from '../../shared/git/gitAuth.js';
import { cacheDirFor, mirrorRef } from '../../functions/repoMirror/mirror.js';
import { tempDir } from '../support/runtimes.js';
import { bareRepo, git, objectCount, refOf, workRepo } from './gitFixtures.js';

/**
 * mirrorRef against real bare repositories: a normal push, a forced push, a new branch, an
 * empty mirror, a long history (the cost is the delta), concurrent and out-of-order pushes, and
 * a late force push that must not move the mirror backwards.
 */
type Setup = { root: string; source: string; mirror: string; cacheRoot: string; work: ReturnType<typeof workRepo> };

function setup(): Setup {
  const root = tempDir('baton-mirror-');
  const source = bareRepo(join(root, 'source.git'));
  const mirror = bareRepo(join(root, 'mirror.git'));
  const work = workRepo(source, join(root, 'work'));
  return { root, source, mirror, cacheRoot: join(root, 'cache'), work };
}

/** Pushes the work repo's main to both source and mirror: the mirror starts in sync. */
function seed(s: Setup, commits = 2): string {
  for (let i = 0; i < commits; i++) s.work.commit({ [`src/a/file${i}.txt`]: `v${i}\n` });
  s.work.push('main');
  git(s.work.dir, 'push', '--quiet', s.mirror, 'main');
  return s.work.head();
}

const main = 'refs/heads/main';

describe('mirrorRef', () => {
  test('a normal push moves the mirror to the pushed sha, fetching only the delta', async () => {
    const s = setup();
    const base = seed(s, 3);
    const after = s.work.commit({ 'src/a/new.txt': 'new\n' });
    s.work.push('main');

    const result = await mirrorRef({ sourceUrl: s.source, mirrorUrl: s.mirror, ref: main, after, cacheRoot: s.cacheRoot });

    expect(result.outcome).toBe('pushed');
    expect(result.previousTip).toBe(base);
    expect(result.fullCopy).toBe(false);
    expect(result.rewritten).toBe(false);
    expect(refOf(s.mirror, main)).toBe(after);
    // The cache took the mirror's tip shallowly: it never saw the older commits.
    const cache = cacheDirFor(s.cacheRoot, s.mirror);
    expect(git(cache, 'rev-list', '--count', after)).toBe('2');
    expect(git(s.mirror, 'fsck', '--connectivity-only', '--no-progress')).toBe('');
  });

  test('a redelivered push is already mirrored and changes nothing', async () => {
    const s = setup();
    seed(s);
    const after = s.work.commit({ 'x.txt': 'x\n' });
    s.work.push('main');
    const request = { sourceUrl: s.source, mirrorUrl: s.mirror, ref: main, after, cacheRoot: s.cacheRoot };
    expect((await mirrorRef(request)).outcome).toBe('pushed');
    expect((await mirrorRef(request)).outcome).toBe('already-mirrored');
    // A cold cache (another instance) agrees, by reading the mirror.
    expect((await mirrorRef({ ...request, cacheRoot: join(s.root, 'other-cache') })).outcome).toBe('already-mirrored');
    expect(refOf(s.mirror, main)).toBe(after);
  });

  test('a forced push is mirrored exactly', async () => {
    const s = setup();
    seed(s, 3);
    s.work.run('reset', '--quiet', '--hard', 'HEAD~2');
    const rewritten = s.work.commit({ 'src/b/rewrite.txt': 'rewritten\n' }, 'rewrite history');
    s.work.push('main', true);

    const result = await mirrorRef({ sourceUrl: s.source, mirrorUrl: s.mirror, ref: main, after: rewritten, cacheRoot: s.cacheRoot });

    expect(result.outcome).toBe('pushed');
    expect(result.rewritten).toBe(true);
    expect(refOf(s.mirror, main)).toBe(rewritten);
    expect(git(s.mirror, 'rev-list', '--count', main)).toBe('2');
  });

  test('a new branch is created on the mirror from a shallow base', async () => {
    const s = setup();
    seed(s, 4);
    s.work.run('checkout', '--quiet', '-b', 'feature', 'HEAD~2');
    const after = s.work.commit({ 'src/feature.txt': 'f\n' });
    s.work.push('feature');

    const result = await mirrorRef({ sourceUrl: s.source, mirrorUrl: s.mirror, ref: 'refs/heads/feature', after, cacheRoot: s.cacheRoot });

    expect(result.outcome).toBe('pushed');
    expect(result.previousTip).toBeUndefined();
    expect(result.defaultBranchTip).toBe(refOf(s.mirror, main));
    expect(refOf(s.mirror, 'refs/heads/feature')).toBe(after);
    expect(git(s.mirror, 'fsck', '--connectivity-only', '--no-progress')).toBe('');
  });

  test('an empty mirror gets a full copy', async () => {
    const s = setup();
    for (let i = 0; i < 5; i++) s.work.commit({ [`f${i}`]: `${i}\n` });
    s.work.push('main');
    const after = s.work.head();

    const result = await mirrorRef({ sourceUrl: s.source, mirrorUrl: s.mirror, ref: main, after, cacheRoot: s.cacheRoot });

    expect(result).toMatchObject({ outcome: 'pushed', fullCopy: true });
    expect(git(s.mirror, 'rev-list', '--count', main)).toBe('5');
  });

  test('with a long history, a one-commit push transfers a handful of objects', async () => {
    const root = tempDir('baton-mirror-long-');
    const source = join(root, 'source.git');
    const tip = createHistoryRepo(source, { commits: 3000 });
    const mirror = bareRepo(join(root, 'mirror.git'));
    git(source, 'push', '--quiet', mirror, `${tip}~1:refs/heads/main`);
    const cacheRoot = join(root, 'cache');

    const result = await mirrorRef({ sourceUrl: source, mirrorUrl: mirror, ref: main, after: tip, cacheRoot });

    expect(result.outcome).toBe('pushed');
    expect(refOf(mirror, main)).toBe(tip);
    // The mirror's tip tree (about 200 files and their directories) plus one new commit, not 3000 commits.
    const cached = objectCount(cacheDirFor(cacheRoot, mirror));
    expect(cached).toBeLessThan(300);
    expect(objectCount(source)).toBeGreaterThan(6000);
  });

  test('two pushes to one repository at once end with the mirror at the newer commit', async () => {
    const s = setup();
    seed(s);
    const first = s.work.commit({ 'one.txt': '1\n' });
    const second = s.work.commit({ 'two.txt': '2\n' });
    s.work.push('main');
    const base = { sourceUrl: s.source, mirrorUrl: s.mirror, ref: main, cacheRoot: s.cacheRoot };

    // Same process (serialised per mirror) and two "instances" with their own caches (the lease decides).
    const results = await Promise.all([
      mirrorRef({ ...base, after: second }),
      mirrorRef({ ...base, after: first }),
      mirrorRef({ ...base, after: first, cacheRoot: join(s.root, 'instance-b') }),
      mirrorRef({ ...base, after: second, cacheRoot: join(s.root, 'instance-c') }),
    ]);

    expect(refOf(s.mirror, main)).toBe(second);
    expect(results.map((result) => result.outcome)).toContain('pushed');
    // The newer commit always ends up mirrored; the older one never moves the ref back.
    expect(['pushed', 'already-mirrored']).toContain(results[0]!.outcome);
    expect(['pushed', 'already-mirrored']).toContain(results[3]!.outcome);
  });

  test('pushes delivered out of order never move the mirror backwards', async () => {
    const s = setup();
    seed(s);
    const older = s.work.commit({ 'a.txt': 'a\n' });
    const newer = s.work.commit({ 'b.txt': 'b\n' });
    s.work.push('main');
    const base = { sourceUrl: s.source, mirrorUrl: s.mirror, ref: main, cacheRoot: s.cacheRoot };

    expect((await mirrorRef({ ...base, after: newer })).outcome).toBe('pushed');
    expect((await mirrorRef({ ...base, after: older })).outcome).toBe('already-mirrored');
    expect(refOf(s.mirror, main)).toBe(newer);
  });

  test('a late force push that the source has already replaced does not win', async () => {
    const s = setup();
    const start = seed(s);
    s.work.run('checkout', '--quiet', '--orphan', 'p');
    const p = s.work.commit({ 'p.txt': 'p\n' }, 'rewrite P');
    s.work.run('checkout', '--quiet', '--orphan', 'q');
    const q = s.work.commit({ 'q.txt': 'q\n' }, 'rewrite Q');
    git(s.work.dir, 'push', '--quiet', '--force', 'origin', `${p}:refs/heads/main`);
    git(s.work.dir, 'push', '--quiet', '--force', 'origin', `${q}:refs/heads/main`);
    // Keep P fetchable from the source, as a host keeps a force-pushed commit for a while.
    git(s.work.dir, 'push', '--quiet', 'origin', `${p}:refs/keep/p`);
    const base = { sourceUrl: s.source, mirrorUrl: s.mirror, ref: main, cacheRoot: s.cacheRoot };

    expect(refOf(s.mirror, main)).toBe(start);
    expect((await mirrorRef({ ...base, after: q })).outcome).toBe('pushed');
    const late = await mirrorRef({ ...base, after: p });

    expect(late.outcome).toBe('superseded');
    expect(refOf(s.mirror, main)).toBe(q);
    // The late commit is still in the mirror, so its run can build from there.
    expect(refOf(s.mirror, `refs/baton/keep/${p}`)).toBe(p);
  });

  test('a sha the source does not have is a permanent failure', async () => {
    const s = setup();
    seed(s);
    await expect(
      mirrorRef({ sourceUrl: s.source, mirrorUrl: s.mirror, ref: main, after: 'f'.repeat(40), cacheRoot: s.cacheRoot }),
    ).rejects.toMatchObject({ name: 'PermanentMirrorError' });
  });

  test('the access token never appears in an error, and goes only to the mirror host', async () => {
    const s = setup();
    const after = seed(s);
    const token = 'ya29.a0AfB_secret-token-for-the-test-0123456789';
    const mirrorUrl = 'https://127.0.0.1:9/mirror.git';
    const env = gitAuthEnv(mirrorUrl, token);
    expect(env.GIT_CONFIG_KEY_0).toBe('http.https://127.0.0.1:9/.extraHeader');
    expect(JSON.stringify(gitAuthEnv('/some/path', token))).toBe('{}');

    const error = await mirrorRef({ sourceUrl: s.source, mirrorUrl, ref: main, after, cacheRoot: s.cacheRoot, mirrorEnv: env, secrets: [token] }).catch((caught: Error) => caught);

    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^failed to git ls-remote/);
    expect((error as Error).message).not.toContain('secret-token');
  });
});

describe('authModeFor', () => {
  test.each([
    ['https://europe-west1-git.sourcemanager.dev/acme/shop.git', undefined, 'google'],
    ['https://source.developers.google.com/p/acme/r/shop', undefined, 'google'],
    ['https://github.com/acme/shop.git', undefined, 'none'],
    ['/srv/git/shop.git', undefined, 'none'],
    ['https://git.example.com/shop.git', 'google', 'google'],
    ['https://europe-west1-git.sourcemanager.dev/acme/shop.git', 'none', 'none'],
  ] as const)('%s with auth %s is %s', (url, configured, expected) => {
    expect(authModeFor(url, configured)).toBe(expected);
  });
});
