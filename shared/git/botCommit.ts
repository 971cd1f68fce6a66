/**
 * The pipeline's own commits (chart bumps) must never start the pipeline again
 * (image-automation-controller #52). chartBump writes every commit with `botCommitMessage` as
 * the bot identity; intake drops a push made only of commits that `isBotCommit` recognises.
 */
export const BOT_TRAILER = 'Baton-Run';

export type BotIdentity = { name: string; email: string };

/** A bot commit's message: the subject, the body, and the trailers (`Baton-Run` last). */
export function botCommitMessage(subject: string, runId: string, body = '', trailers: Record<string, string> = {}): string {
  const extra = Object.entries(trailers).map(([name, value]) => `${name}: ${value}\n`).join('');
  return `${subject}\n\n${body ? `${body}\n\n` : ''}${extra}${BOT_TRAILER}: ${runId}\n`;
}

/** A trailer's value in a commit message, or undefined. */
export function commitTrailer(message: string, name: string): string | undefined {
  return new RegExp(`^${name}: (\\S+)\\s*$`, 'm').exec(message)?.[1];
}

/** The run a bot commit belongs to, or undefined for any other commit. */
export function botCommitRun(message: string): string | undefined {
  return new RegExp(`^${BOT_TRAILER}: (\\S+)\\s*$`, 'm').exec(message)?.[1];
}

export function isBotCommit(commit: { message: string; author: { email?: string } }, bot: BotIdentity): boolean {
  return commit.author.email?.toLowerCase() === bot.email.toLowerCase() && botCommitRun(commit.message) !== undefined;
}
