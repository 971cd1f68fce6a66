import type { RunRecord } from '../../shared/ledger/runLedger.js';
import type { FakeGitHub } from '../../standins/githubApi.js';

/**
 * The commit's statuses as the demo's GitHub stand-in recorded them, once gitStatus has caught
 * up with the run. gitStatus reports beside the run, never in its way, so right after the run
 * ends its last statuses may still be on their way: wait (a little) until every stage of the run
 * shows a final state, then read them as GitHub's pull request page lists them. The wait is
 * long enough for two redeliveries: on the emulators under load, gitStatus has trailed a run by
 * more than 15 s (seen once in CI), and a gitStatus delivery that failed comes back only after
 * the subscription's backoff, 10 s and then 20 s. It ends as soon as all are there.
 */
export async function commitStatusesOf(github: FakeGitHub, run: RunRecord, timeoutMs = 45_000): Promise<{ lines: string[]; latest: Record<string, string>; complete: boolean }> {
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
