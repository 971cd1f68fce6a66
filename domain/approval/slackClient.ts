import type { WebClient } from '@slack/web-api';
import { redactedError } from '../../shared/log/redact.js';
import type { SlackMessage } from './messages.js';

/** What Slack knows of a user, for the self-approval rule. */
export type SlackIdentity = { email?: string; username?: string; realName?: string };

/** The four Slack Web API methods baton uses, behind one small interface (the fake speaks them too). */
export interface SlackApi {
  postMessage(channel: string, message: SlackMessage): Promise<{ channel: string; ts: string }>;
  update(channel: string, ts: string, message: SlackMessage): Promise<void>;
  postEphemeral(channel: string, user: string, text: string): Promise<void>;
  /** `users.info`; needs the `users:read.email` scope for the e-mail. */
  userIdentity(userId: string): Promise<SlackIdentity>;
}

export type SlackApiOptions = {
  token: string;
  /** `SLACK_API_URL`; the SDK appends the method name, so it must end with `/`. */
  apiUrl?: string;
  /** Per-call timeout. The interactive callback must answer Slack within 3 s. */
  timeoutMs: number;
  /** SDK-level retries; the bus retries a failed stage anyway, so keep this small. */
  retries: number;
};

/** The Slack client: `@slack/web-api` is loaded on first use, and one WebClient is kept. */
export function slackApi(options: SlackApiOptions): SlackApi {
  let client: Promise<WebClient> | undefined;
  const web = () =>
    (client ??= import('@slack/web-api').then(({ WebClient, LogLevel }) => {
      const apiUrl = options.apiUrl ? (options.apiUrl.endsWith('/') ? options.apiUrl : `${options.apiUrl}/`) : undefined;
      return new WebClient(options.token, {
        ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
        timeout: options.timeoutMs,
        retryConfig: { retries: options.retries, minTimeout: 200, maxTimeout: 1_000 },
        rejectRateLimitedCalls: true,
        logLevel: LogLevel.ERROR,
      });
    }));
  const call = async <T>(what: string, run: (client: WebClient) => Promise<T>): Promise<T> => {
    try {
      return await run(await web());
    } catch (error) {
      throw redactedError(`failed to ${what}`, error);
    }
  };
  return {
    postMessage: (channel, message) =>
      call('post the Slack message', async (slack) => {
        const result = await slack.chat.postMessage({ channel, text: message.text, blocks: message.blocks as never, unfurl_links: false });
        if (!result.ts) throw new Error('chat.postMessage returned no ts');
        return { channel: result.channel ?? channel, ts: result.ts };
      }),
    update: (channel, ts, message) =>
      call('update the Slack message', async (slack) => {
        await slack.chat.update({ channel, ts, text: message.text, blocks: message.blocks as never });
      }),
    postEphemeral: (channel, user, text) =>
      call('send the Slack ephemeral reply', async (slack) => {
        await slack.chat.postEphemeral({ channel, user, text });
      }),
    userIdentity: (userId) =>
      call('look up the Slack user', async (slack) => {
        const result = await slack.users.info({ user: userId });
        const user = result.user;
        return { email: user?.profile?.email, username: user?.name, realName: user?.real_name ?? user?.profile?.real_name };
      }),
  };
}
