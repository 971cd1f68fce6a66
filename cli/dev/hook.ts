import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { githubHeaders, githubPushPayload } from '../../standins/gitHost.js';
import { ZERO_SHA } from '../../shared/contracts/envelope.js';
import { pushedCommits } from '../demo/gitPush.js';
import { devUrl } from '../cliRuntime.js';

/**
 * `baton hook`: a git `post-receive` hook for `baton dev`. Git gives one "<old> <new> <ref>"
 * line per updated ref; each becomes the push webhook GitHub would send, signed with
 * `GITHUB_WEBHOOK_SECRET`, so a local repository drives the same intake a real host does.
 */
export async function runHook(options: { repository: string; gitDir: string; url?: string }): Promise<number> {
  const secret = process.env.GITHUB_WEBHOOK_SECRET?.split(',')[0];
  if (!secret) {
    process.stderr.write('baton hook: GITHUB_WEBHOOK_SECRET is not set (use the same value as baton dev)\n');
    return 3;
  }
  const url = options.url ?? `${devUrl()}/webhookIntake`;
  const repo = resolve(options.gitDir);
  let failures = 0;
  for await (const line of createInterface({ input: process.stdin })) {
    const [before, after, ref] = line.trim().split(/\s+/);
    if (!before || !after || !ref) continue;
    const commits = after === ZERO_SHA ? [] : await pushedCommits(repo, before, after);
    const body = JSON.stringify(
      githubPushPayload({ repository: options.repository, cloneUrl: `file://${repo}`, ref, before, after, commits, created: before === ZERO_SHA, deleted: after === ZERO_SHA }),
    );
    const response = await fetch(url, { method: 'POST', headers: githubHeaders(secret, body), body }).catch((error: Error) => ({ status: 0, text: async () => error.message }));
    const text = await response.text();
    process.stdout.write(`baton: ${ref} ${after.slice(0, 7)} → HTTP ${response.status} ${text}\n`);
    if (response.status >= 400 || response.status === 0) failures++;
  }
  return failures ? 1 : 0;
}
