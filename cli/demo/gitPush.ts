import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ZERO_SHA } from '../../shared/contracts/envelope.js';
import type { GithubCommitInput } from '../../standins/gitHost.js';

const run = promisify(execFile);

async function git(repo: string, args: string[]): Promise<string> {
  const { stdout } = await run('git', ['-C', repo, ...args], { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/**
 * The commits a push added, read from a real repository the way GitHub lists them in its push
 * webhook: oldest first, at most 20, each with its added, modified and removed paths.
 */
export async function pushedCommits(repo: string, before: string, after: string): Promise<GithubCommitInput[]> {
  const range = before === ZERO_SHA ? [after] : [`${before}..${after}`];
  const ids = (await git(repo, ['rev-list', '--reverse', '--max-count=20', ...range])).split('\n').filter(Boolean);
  return Promise.all(
    ids.map(async (id) => {
      const [name, email, timestamp, ...message] = (await git(repo, ['log', '-1', '--format=%an%x00%ae%x00%aI%x00%B', id])).split('\0');
      const changes = (await git(repo, ['diff-tree', '--root', '--no-commit-id', '--name-status', '-r', id])).split('\n').filter(Boolean);
      const paths = (status: string) => changes.filter((line) => line.startsWith(status)).map((line) => line.split('\t').pop()!);
      return {
        id,
        message: message.join('\0').trim(),
        author: { name: name!, email: email!, username: email!.split('@')[0] },
        timestamp: timestamp!,
        added: paths('A'),
        modified: paths('M'),
        removed: paths('D'),
      };
    }),
  );
}
