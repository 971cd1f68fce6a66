/**
 * The pipeline's own commits (chart bumps) must never start the pipeline again
 * (image-automation-controller #52). chartBump writes every commit with `botCommitMessage` as
 * the bot identity; intake drops a push made only of commits that `isBotCommit` recognises.
 */
export const BOT_TRAILER = 'Baton-Run';

export type BotIdentity = { name: string; email: string };

export function botCommitMessage(subject: string, runId: string, body = ''): string {
  return `${subject}\n\n${body ? `${body}\n\n` : ''}${BOT_TRAILER}: ${runId}\n`;
}

/** The run a bot commit belongs to, or undefined for any other commit. */
export function botCommitRun(message: string): string | undefined {
  return new RegExp(`^${BOT_TRAILER}: (\\S+)\\s*$`, 'm').exec(message)?.[1];
}

export function isBotCommit(commit: { message: string; author: { email?: string } }, bot: BotIdentity): boolean {
  return commit.author.email?.toLowerCase() === bot.email.toLowerCase() && botCommitRun(commit.message) !== undefined;
}
