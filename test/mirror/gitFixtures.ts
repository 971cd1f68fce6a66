import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Real git repositories for the mirror and build tests: a bare source, a work clone that pushes to it, bare mirrors. */
const IDENTITY = ['-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', '-c', 'commit.gpgsign=false'];

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', [...IDENTITY, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export function bareRepo(dir: string, branch = 'main'): string {
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '--quiet', '--bare', '--initial-branch', branch);
  return dir;
}

export type WorkRepo = {
  dir: string;
  /** Writes files (path → content) and commits them; returns the new sha. */
  commit(files: Record<string, string>, message?: string): string;
  head(): string;
  push(refspec: string, force?: boolean): void;
  run(...args: string[]): string;
};

/** A work clone of `source` (a bare repo). */
export function workRepo(source: string, dir: string, branch = 'main'): WorkRepo {
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '--quiet', '--initial-branch', branch);
  git(dir, 'remote', 'add', 'origin', source);
  let counter = 0;
  return {
    dir,
    commit(files, message) {
      for (const [path, content] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), content);
      }
      git(dir, 'add', '--all');
      git(dir, 'commit', '--quiet', '--allow-empty', '-m', message ?? `change ${++counter}`);
      return git(dir, 'rev-parse', 'HEAD');
    },
    head: () => git(dir, 'rev-parse', 'HEAD'),
    push(refspec, force = false) {
      git(dir, 'push', '--quiet', ...(force ? ['--force'] : []), 'origin', refspec);
    },
    run: (...args) => git(dir, ...args),
  };
}

/** The sha a bare repo's ref points at, or undefined. */
export function refOf(repo: string, ref: string): string | undefined {
  try {
    return git(repo, 'rev-parse', '--verify', '--quiet', ref);
  } catch {
    return undefined;
  }
}

/** Number of objects a repository holds (loose and packed). */
export function objectCount(repo: string): number {
  const out = git(repo, 'count-objects', '-v');
  const field = (name: string) => Number(out.match(new RegExp(`^${name}: (\\d+)$`, 'm'))?.[1] ?? 0);
  return field('count') + field('in-pack');
}
