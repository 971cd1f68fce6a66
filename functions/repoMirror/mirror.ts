import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ZERO_SHA } from '../../shared/contracts/envelope.js';
import { GitError, gitRunner } from '../../shared/git/gitRunner.js';
import type { GitRunner } from '../../shared/git/gitRunner.js';
import { KeyedMutex } from '../../shared/git/keyedMutex.js';
import { PermanentError } from '../../shared/stage/outcome.js';
import { stripCredentials } from '../../shared/git/gitAuth.js';

const execFileAsync = promisify(execFile);

/**
 * Mirrors one pushed ref to the backup remote, paying for the pushed delta, not the repository.
 *
 * A cache repository per mirror (bare, under `cacheRoot`) remembers the last tip baton saw on the
 * mirror (a small tips file). Warm, a mirror is two git processes: fetch the pushed sha from the
 * source (the cache already has its parent, so negotiation sends only the new objects), then push
 * it without force, which the mirror accepts only as a fast-forward. When that is refused (a force
 * push, a late delivery, a race), one merge-base decides, and the push goes with
 * `--force-with-lease=<ref>:<tip baton saw>`. Cold, the cache first takes the mirror's current tip
 * shallowly (`--depth=1`), which is enough for both negotiations. Only an empty mirror gets a full
 * copy. The lease makes the push a compare-and-swap, so a concurrent or late mirror can never move
 * the mirror's ref backwards: on a lost race baton re-reads the mirror and decides again.
 *
 * One case costs more: a push delivered after a newer one, to a cache whose shallow base is newer
 * than the pushed commit. git must then deepen the cache to prove the commit is already in the
 * mirror. It stays correct, and the stage's once-per-run claim keeps plain redeliveries away.
 */
export type MirrorRequest = {
  /** Where the pushed commits are fetched from. */
  sourceUrl: string;
  /** The backup remote. */
  mirrorUrl: string;
  /** Full ref, e.g. `refs/heads/main`. */
  ref: string;
  /** The exact commit to mirror. */
  after: string;
  /** Directory holding one cache repository per mirror. */
  cacheRoot: string;
  /** git environment for the source and the mirror (auth headers from `gitAuthEnv`). */
  sourceEnv?: Record<string, string>;
  mirrorEnv?: Record<string, string>;
  /** Values masked in every git error (the tokens inside the envs). */
  secrets?: string[];
};

export type MirrorOutcome =
  /** The mirror's ref now points at `after`. */
  | 'pushed'
  /** The mirror's ref already held `after` (a redelivery, or a later push got there first). */
  | 'already-mirrored'
  /**
   * The source has since moved the ref to history without `after` (a later force push): moving
   * the mirror to `after` would move it backwards, so only a keep-ref (`refs/baton/keep/<sha>`)
   * was pushed. A shallow cache that cannot prove `after` is an ancestor of the mirror's newer
   * tip also lands here: the ref is left alone either way, which is what matters.
   */
  | 'superseded';

export type MirrorResult = {
  outcome: MirrorOutcome;
  /** The mirror was empty, so the whole history was copied. */
  fullCopy: boolean;
  /** The ref was rewritten (not a fast-forward). */
  rewritten: boolean;
  /** The mirror's ref before baton pushed (undefined: it did not exist). */
  previousTip?: string;
  /** Tip of the mirror's default branch when baton read it (for diffing a new branch). */
  defaultBranchTip?: string;
  /** The cache repository: it holds `after`, so callers can diff in it. */
  cache: GitRunner;
};

/** A failure that retrying will not fix (the commit is not in the source, a ref git refuses): the runner fails the stage at once. */
export class PermanentMirrorError extends PermanentError {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentMirrorError';
  }
}

/** A ref git itself refuses (`git check-ref-format`) can never be fetched or pushed: permanent. */
async function checkRefName(ref: string): Promise<void> {
  try {
    await execFileAsync('git', ['check-ref-format', ref]);
  } catch {
    throw new PermanentMirrorError(`failed to mirror ${JSON.stringify(ref)}: git refuses it as a ref name, so it can never be fetched or pushed`);
  }
}

const caches = new KeyedMutex();
const MAX_ROUNDS = 4;

export function cacheDirFor(cacheRoot: string, mirrorUrl: string): string {
  const key = createHash('sha256').update(stripCredentials(mirrorUrl)).digest('hex').slice(0, 16);
  return join(cacheRoot, `${key}.git`);
}

export async function mirrorRef(request: MirrorRequest): Promise<MirrorResult> {
  await checkRefName(request.ref);
  const dir = cacheDirFor(request.cacheRoot, request.mirrorUrl);
  return caches.run(dir, async () => {
    await ensureCache(dir);
    const secrets = request.secrets ?? [];
    const source = gitRunner(dir, request.sourceEnv, secrets);
    const mirror = gitRunner(dir, request.mirrorEnv, secrets);
    return mirrorInCache(request, source, mirror);
  });
}

async function ensureCache(dir: string): Promise<void> {
  if (existsSync(join(dir, 'HEAD'))) return;
  await mkdir(dir, { recursive: true });
  const git = gitRunner(dir);
  await git.run(['init', '--bare']);
  // No background gc: it would make mirror times unpredictable, and the cache only grows by deltas.
  await git.run(['config', 'gc.auto', '0']);
  await git.run(['config', 'fetch.writeCommitGraph', 'false']);
}

type RemoteState = { tip?: string; defaultRef?: string; defaultTip?: string; empty: boolean };

/**
 * What baton last saw on the mirror, per ref, kept in a small file beside the cache rather than
 * in refs: reading and writing it costs no git process, and a stale value only costs a lease
 * retry. The commits themselves stay referenced (`refs/baton/...`) for fetch negotiation.
 */
const TIPS_FILE = 'baton-mirror-tips.json';
/** Key in the tips file naming the mirror's default branch (its HEAD). */
const DEFAULT_BRANCH_KEY = 'HEAD';

async function readTips(dir: string): Promise<Record<string, string>> {
  try {
    return JSON.parse(await readFile(join(dir, TIPS_FILE), 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

async function writeTip(dir: string, ref: string, sha: string): Promise<void> {
  const tips = { ...(await readTips(dir)), [ref]: sha };
  const temp = join(dir, `${TIPS_FILE}.${process.pid}.tmp`);
  await writeFile(temp, JSON.stringify(tips));
  await rename(temp, join(dir, TIPS_FILE));
}

function cacheRef(kind: 'mirror' | 'fetched' | 'source', ref: string): string {
  return `refs/baton/${kind}/${ref.replace(/^refs\//, '')}`;
}

async function mirrorInCache(request: MirrorRequest, source: GitRunner, mirror: GitRunner): Promise<MirrorResult> {
  const { ref, after } = request;
  const dir = source.dir;
  const tips = await readTips(dir);
  // What baton last saw on the mirror; verified by the lease, so a stale value only costs a retry.
  let expected: string | undefined = tips[ref];
  let fresh: RemoteState | undefined;
  let fullCopy = false;
  let rewritten = false;
  const previousTip = () => (fresh ? fresh.tip : expected);
  // The mirror's default branch tip, for diffing a new branch: from this read, or as last seen.
  const defaultBranchTip = async () => {
    if (fresh) return fresh.defaultTip;
    const seen = await readTips(dir);
    const name = seen[DEFAULT_BRANCH_KEY];
    return name ? seen[name] : undefined;
  };

  for (let round = 1; round <= MAX_ROUNDS; round++) {
    if (expected === undefined || round > 1) {
      fresh = await readMirror(mirror, request.mirrorUrl, ref);
      expected = fresh.tip;
      fullCopy = fresh.empty;
      const base = fresh.tip !== undefined ? { ref, sha: fresh.tip } : fresh.defaultRef && fresh.defaultTip ? { ref: fresh.defaultRef, sha: fresh.defaultTip } : undefined;
      if (base && (await readTips(dir))[base.ref] !== base.sha) {
        // A shallow copy of the mirror's tip gives both negotiations a common base; the ref makes
        // the source fetch offer it as "have", so the source sends only the new objects.
        await fetchMirrorTip(mirror, request.mirrorUrl, base.sha, cacheRef('mirror', base.ref), Object.keys(tips).length > 0);
        await writeTip(dir, base.ref, base.sha);
      }
      if (fresh.defaultRef && fresh.defaultTip) await writeTip(dir, DEFAULT_BRANCH_KEY, fresh.defaultRef);
    }
    // Warm, the first round skips the presence check: a new commit is the usual case.
    if (expected !== after && ((round === 1 && !fresh) || !(await hasCommit(source, after)))) {
      await fetchCommit(source, request.sourceUrl, ref, after);
    }

    if (round === 1 && !fresh && expected !== undefined && expected !== after && (await pushFastForward(mirror, request.mirrorUrl, ref, after)) === 'pushed') {
      // The usual warm case needs no merge-base: a push without force is refused by the mirror
      // unless it moves the ref forward, so it can never move it back. Anything else (a force
      // push, a late delivery, a race) was refused and takes the careful path below.
      await writeTip(dir, ref, after);
      return { outcome: 'pushed', fullCopy: false, rewritten: false, previousTip: expected, defaultBranchTip: await defaultBranchTip(), cache: source };
    }
    if (expected !== undefined && expected !== after) {
      const relation = await relate(source, expected, after);
      if (relation === 'contained') {
        if (fresh) return { outcome: 'already-mirrored', fullCopy: false, rewritten: false, previousTip: expected, defaultBranchTip: await defaultBranchTip(), cache: source };
        expected = undefined; // Confirm against the mirror itself before saying so.
        continue;
      }
      if (relation === 'diverged') {
        // Not a fast-forward: a force push. Mirror it exactly, unless the source has moved on to
        // history without `after`, in which case this push is late and must not win.
        if (await supersededAtSource(source, request)) {
          await pushKeepRef(mirror, request);
          return { outcome: 'superseded', fullCopy: false, rewritten: false, previousTip: expected, defaultBranchTip: await defaultBranchTip(), cache: source };
        }
        rewritten = true;
      }
    }
    const pushed = await pushWithLease(mirror, request.mirrorUrl, ref, after, expected);
    if (pushed === 'stale') {
      expected = undefined;
      continue;
    }
    await writeTip(dir, ref, after);
    if (pushed === 'up-to-date') {
      return { outcome: 'already-mirrored', fullCopy: false, rewritten: false, previousTip: after, defaultBranchTip: await defaultBranchTip(), cache: source };
    }
    return { outcome: 'pushed', fullCopy, rewritten, previousTip: previousTip(), defaultBranchTip: await defaultBranchTip(), cache: source };
  }
  throw new Error(`failed to mirror ${ref}: the mirror's ref kept moving during ${MAX_ROUNDS} attempts`);
}

/** The mirror's current value of `ref`, its default branch tip, and whether it has any ref at all. */
async function readMirror(mirror: GitRunner, url: string, ref: string): Promise<RemoteState> {
  const out = await mirror.run(['ls-remote', '--symref', url]);
  const refs = new Map<string, string>();
  let headTarget: string | undefined;
  for (const line of out.split('\n')) {
    const symref = /^ref: (\S+)\tHEAD$/.exec(line);
    if (symref) {
      headTarget = symref[1];
      continue;
    }
    const [sha, name] = line.split('\t');
    if (sha && name) refs.set(name, sha);
  }
  const branches = [...refs.keys()].filter((name) => name.startsWith('refs/heads/'));
  const defaultRef = headTarget && refs.has(headTarget) ? headTarget : branches[0];
  return { tip: refs.get(ref), defaultRef, defaultTip: defaultRef ? refs.get(defaultRef) : undefined, empty: refs.size === 0 };
}

/** `cat-file -t` rather than `rev-parse --verify --quiet`: it always prints, which spares simple-git's 50 ms wait for silent commands. */
async function hasCommit(git: GitRunner, sha: string): Promise<boolean> {
  return (await git.lookup(['cat-file', '-t', sha])) === 'commit';
}

/** How `after` relates to the mirror's tip, in one merge-base (a shallow cache that cannot tell says diverged). */
async function relate(git: GitRunner, tip: string, after: string): Promise<'fast-forward' | 'contained' | 'diverged'> {
  const base = await git.lookup(['merge-base', tip, after]);
  return base === tip ? 'fast-forward' : base === after ? 'contained' : 'diverged';
}

/** True when `ancestor` is reachable from `descendant` (false when the shallow cache cannot tell). */
async function isAncestor(git: GitRunner, ancestor: string, descendant: string): Promise<boolean> {
  if (ancestor === descendant) return true;
  return (await git.lookup(['merge-base', ancestor, descendant])) === ancestor;
}

// Not --quiet: simple-git waits 50 ms after a command that printed nothing.
const FETCH_FLAGS = ['fetch', '--no-tags', '--no-write-fetch-head', '--no-auto-gc', '--no-recurse-submodules', '--no-progress'];

/**
 * Brings the mirror's tip into the cache under `into`: shallowly into an empty cache, in full
 * (which negotiation keeps to the delta) into one that already holds some of the mirror's
 * history, so that ancestry between what baton pushed and what the mirror now has stays answerable.
 */
async function fetchMirrorTip(git: GitRunner, url: string, sha: string, into: string, seeded: boolean): Promise<void> {
  await git.run([...FETCH_FLAGS, ...(seeded ? [] : ['--depth=1']), url, `+${sha}:${into}`]);
}

/** Fetches exactly `sha`; falls back to the ref for servers that refuse to serve a bare sha. */
async function fetchCommit(git: GitRunner, url: string, ref: string, sha: string): Promise<void> {
  try {
    // Into a ref, so the next fetch offers it as "have".
    await git.run([...FETCH_FLAGS, url, `+${sha}:${cacheRef('fetched', ref)}`]);
    return;
  } catch (error) {
    await git.run([...FETCH_FLAGS, url, `+${ref}:${cacheRef('source', ref)}`]).catch(() => {
      throw error;
    });
  }
  if (!(await hasCommit(git, sha))) {
    throw new PermanentMirrorError(`failed to fetch ${sha} from ${stripCredentials(url)}: the source does not have that commit`);
  }
}

/** True when the source's ref now points at history that does not contain `after`. */
async function supersededAtSource(git: GitRunner, request: MirrorRequest): Promise<boolean> {
  const line = await git.run(['ls-remote', request.sourceUrl, request.ref]);
  const tip = line.split('\n').map((row) => row.split('\t')).find(([, name]) => name === request.ref)?.[0];
  if (!tip || tip === request.after) return false;
  if (!(await hasCommit(git, tip))) await git.run([...FETCH_FLAGS, request.sourceUrl, `+${tip}:${cacheRef('source', request.ref)}`]).catch(() => undefined);
  return !(await isAncestor(git, request.after, tip));
}

/** Keeps a superseded commit reachable on the mirror, so its run can still build from there. */
async function pushKeepRef(git: GitRunner, request: MirrorRequest): Promise<void> {
  try {
    await git.run(['push', '--no-verify', request.mirrorUrl, `${request.after}:refs/baton/keep/${request.after}`]);
  } catch (error) {
    // Another instance created the same keep-ref (same name, same commit) first: that is the goal.
    if (error instanceof GitError && /already exists|cannot lock ref/i.test(error.detail)) return;
    throw error;
  }
}

/** Pushes `sha` to `ref` as a fast-forward only; 'refused' when the mirror's ref is not an ancestor of it. */
async function pushFastForward(git: GitRunner, url: string, ref: string, sha: string): Promise<'pushed' | 'refused'> {
  try {
    await git.run(['push', '--no-verify', url, `${sha}:${ref}`]);
    return 'pushed';
  } catch (error) {
    if (error instanceof GitError && /rejected|stale info|fetch first|non-fast-forward|cannot lock ref|failed to update ref/i.test(error.detail)) return 'refused';
    throw error;
  }
}

/**
 * Pushes `sha` to `ref` only if the mirror's ref is still `expected` (undefined: absent). When
 * `expected` already is `sha` the push changes nothing but still confirms it against the mirror.
 */
async function pushWithLease(git: GitRunner, url: string, ref: string, sha: string, expected: string | undefined): Promise<'pushed' | 'up-to-date' | 'stale'> {
  try {
    await git.run(['push', '--no-verify', `--force-with-lease=${ref}:${expected ?? ''}`, url, `${sha}:${ref}`]);
    return expected === sha ? 'up-to-date' : 'pushed';
  } catch (error) {
    // The lease failed (our view was stale), or the mirror's own compare-and-swap lost a race
    // with another pusher ("cannot lock ref"): either way, re-read the mirror and decide again.
    if (error instanceof GitError && /stale info|fetch first|non-fast-forward|already exists|cannot lock ref|failed to update ref/i.test(error.detail)) return 'stale';
    throw error;
  }
}

/** Paths that differ between two commits of the cache; undefined when either is missing. */
export async function changedPaths(git: GitRunner, from: string, to: string): Promise<string[] | undefined> {
  if (from === ZERO_SHA || !(await hasCommit(git, from)) || !(await hasCommit(git, to))) return undefined;
  try {
    const out = await git.run(['diff', '--name-only', '--no-renames', '-z', from, to]);
    return out.split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/** The merge-base of two commits, when the cache holds enough history to find it. */
export function mergeBase(git: GitRunner, a: string, b: string): Promise<string | undefined> {
  return git.lookup(['merge-base', a, b]);
}
