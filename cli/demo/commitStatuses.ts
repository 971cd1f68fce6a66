import type { RunRecord } from '../../shared/ledger/runLedger.js';
import type { FakeGitHub } from '../../standins/githubApi.js';

/**
 * The commit's statuses as the demo's GitHub stand-in recorded them, once gitStatus has caught
 * up with the run. gitStatus reports beside the run, never in its way, so right after the run
 * ends its last statuses may still be on their way: wait (a little) until every stage of the run
 * shows a final state, then read them as GitHub's pull request page lists them.
 */
export async function commitStatusesOf(github: FakeGitHub, run: RunRecord, timeoutMs = 15_000): Promise<{ lines: string[]; latest: Record<string, string>; complete: boolean }> {
  const [owner = '', repo = ''] = run.repository.split('/');
  const deadline = Date.now() + timeoutMs;
  let complete = false;
  for (;;) {
    const latest = github.latestStatuses(owner, repo, run.after);
    complete = Object.keys(run.stages).every((stage) => latest[`baton/${stage}`] !== undefined && latest[`baton/${stage}`] !== 'pending');
    if (complete || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { lines: github.statusLines(owner, repo, run.after), latest: github.latestStatuses(owner, repo, run.after), complete };
}
