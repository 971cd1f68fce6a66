import { simpleGit } from 'simple-git';
import type { SimpleGit } from 'simple-git';
import { redactedError } from '../log/redact.js';
import { GIT_AUTH_ENV_NAMES } from './gitAuth.js';

/**
 * Runs git commands in one directory through simple-git, with an extra environment (the auth
 * header config from `gitAuthEnv`). Every failure becomes `failed to git <verb>: <stderr>`, run
 * through `redactedError` and with the given secrets masked, so no token can reach a log line or
 * an error even if git echoes one.
 */
export type GitRunner = {
  readonly dir: string;
  /** Runs git and returns stdout; throws a redacted error on failure. */
  run(args: string[]): Promise<string>;
  /** Like `run`, but returns stdout trimmed, or undefined when git fails (a lookup that may miss). */
  lookup(args: string[]): Promise<string | undefined>;
};

export class GitError extends Error {
  constructor(
    message: string,
    /** git's stderr, redacted: callers match on it (e.g. a rejected lease). */
    readonly detail: string,
  ) {
    super(message);
    this.name = 'GitError';
  }
}

const QUIET_ENV = {
  // Never prompt for credentials: a function has no terminal, it would hang until the timeout.
  GIT_TERMINAL_PROMPT: '0',
};

/**
 * The process environment without the variables that change what git runs or where it works
 * (GIT_*, editors, pagers): an ambient GIT_DIR from a hook or CI step must not redirect baton's
 * git, and simple-git refuses to spawn with them anyway.
 */
const AMBIENT_BLOCKED = /^(git_.*|editor|visual|pager|prefix|ssh_askpass)$/i;
function ambientEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined && !AMBIENT_BLOCKED.test(entry[0])));
}

export function gitRunner(dir: string, extraEnv: Record<string, string> = {}, secrets: string[] = []): GitRunner {
  const git: SimpleGit = simpleGit({
    baseDir: dir,
    maxConcurrentProcesses: 4,
    allowEnvironment: [...GIT_AUTH_ENV_NAMES, 'GIT_TERMINAL_PROMPT'],
    // GIT_CONFIG_COUNT is how the auth header is passed; the values are ours, not user input.
    unsafe: { allowUnsafeConfigEnvCount: true },
  }).env({ ...ambientEnv(), ...QUIET_ENV, ...extraEnv });
  const mask = (text: string) => secrets.reduce((out, secret) => (secret ? out.split(secret).join('***') : out), text);
  const run = async (args: string[]) => {
    try {
      return await git.raw(args);
    } catch (error) {
      const raw = error instanceof Error ? error.message : String(error);
      const redacted = redactedError(`failed to git ${args[0]}`, mask(raw.trim()));
      throw new GitError(redacted.message, redacted.message);
    }
  };
  return {
    dir,
    run,
    lookup: async (args) => {
      try {
        const out = (await git.raw(args)).trim();
        return out === '' ? undefined : out;
      } catch {
        return undefined;
      }
    },
  };
}
