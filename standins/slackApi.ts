import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import { APPROVE_ACTION, REJECT_ACTION } from '../domain/approval/messages.js';
import type { Block } from '../domain/approval/messages.js';
import { slackSignature } from '../domain/approval/slackSignature.js';

/**
 * A local stand-in for the Slack Web API, for tests and `baton demo`: a real HTTP server that
 * speaks the methods baton uses (`chat.postMessage`, `chat.update`, `chat.postEphemeral`,
 * `users.info`) the way `@slack/web-api` calls them (form-encoded POSTs to `<base>/<method>`,
 * bearer token), keeps the messages, and records every call. Point `SLACK_API_URL` at `url`.
 * The helpers below build the signed `block_actions` request Slack sends when a button is clicked.
 */
export type RecordedSlackCall = {
  method: string;
  /** Arguments as sent; JSON-valued ones (`blocks`) decoded. The token is never recorded. */
  args: Record<string, unknown>;
  /** A bearer token was sent (and matched `token`, when the fake was given one). */
  authorized: boolean;
  at: Date;
};

export type FakeSlackMessage = { channel: string; ts: string; text: string; blocks: Block[]; updates: number };
export type FakeSlackEphemeral = { channel: string; user: string; text: string };
export type FakeSlackUser = { name: string; email?: string; realName?: string };

export type FakeSlackOptions = {
  /** When set, calls with another bearer token get `invalid_auth`. */
  token?: string;
  /** Users `users.info` knows, by id. */
  users?: Record<string, FakeSlackUser>;
  port?: number;
};

/** A scripted failure for the next call(s) of a method. */
export type InjectedFailure = { error?: string; status?: number; delayMs?: number; times?: number };

const JSON_ARGS = new Set(['blocks', 'attachments', 'metadata']);

async function readArgs(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if ((req.headers['content-type'] ?? '').includes('application/json')) return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    args[key] = JSON_ARGS.has(key) ? safeJson(value) : value;
  }
  return args;
}

function safeJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

export class FakeSlack {
  readonly calls: RecordedSlackCall[] = [];
  readonly messages: FakeSlackMessage[] = [];
  readonly ephemerals: FakeSlackEphemeral[] = [];
  private readonly failures = new Map<string, InjectedFailure>();
  private readonly delays = new Map<string, number>();
  private sequence = 100;
  private server?: Server;
  /** Base URL ending in `/`, as `SLACK_API_URL` must. */
  url = '';

  private constructor(private readonly options: FakeSlackOptions) {}

  static async start(options: FakeSlackOptions = {}): Promise<FakeSlack> {
    const fake = new FakeSlack(options);
    await fake.listen(options.port ?? 0);
    return fake;
  }

  /** Calls of one method, in arrival order. */
  callsTo(method: string): RecordedSlackCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /** The next `times` (default 1) calls of `method` fail: a Slack error, an HTTP status, or a delay. */
  failNext(method: string, failure: InjectedFailure): void {
    this.failures.set(method, { times: 1, ...failure });
  }

  /** Every call of `method` waits this long before answering (to test time bounds). */
  delay(method: string, ms: number): void {
    this.delays.set(method, ms);
  }

  message(channel: string, ts: string): FakeSlackMessage | undefined {
    return this.messages.find((message) => message.channel === channel && message.ts === ts);
  }

  /** The buttons of a message: what a person could click. */
  buttons(message: FakeSlackMessage): Array<{ action_id: string; value: string; text: string }> {
    return message.blocks
      .filter((block) => block.type === 'actions')
      .flatMap((block) => (block.elements as Array<Record<string, unknown>>) ?? [])
      .filter((element) => element.type === 'button')
      .map((element) => ({ action_id: String(element.action_id), value: String(element.value ?? ''), text: String((element.text as { text?: string })?.text ?? '') }));
  }

  /** All the text of a message, blocks included, for assertions and the demo's printout. */
  static textOf(message: { text: string; blocks: Block[] }): string {
    const parts: string[] = [message.text];
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value && typeof value === 'object') {
        for (const [key, item] of Object.entries(value)) {
          if (key === 'text' && typeof item === 'string') parts.push(item);
          else if (key !== 'value') walk(item);
        }
      }
    };
    walk(message.blocks);
    return parts.join('\n');
  }

  async close(): Promise<void> {
    if (!this.server) return;
    const server = this.server;
    this.server = undefined;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
  }

  private listen(port: number): Promise<void> {
    this.server = createServer((req, res) => {
      const method = (req.url ?? '/').split('?')[0]!.replace(/^.*\//, '');
      readArgs(req)
        .then(async (args) => {
          const auth = req.headers.authorization ?? '';
          const bearer = auth.startsWith('Bearer ') ? auth.slice(7) : typeof args.token === 'string' ? args.token : '';
          delete args.token;
          const authorized = Boolean(bearer) && (this.options.token === undefined || bearer === this.options.token);
          this.calls.push({ method, args, authorized, at: new Date() });
          const wait = this.delays.get(method) ?? 0;
          const failure = this.takeFailure(method);
          if (wait || failure?.delayMs) await new Promise((resolve) => setTimeout(resolve, wait + (failure?.delayMs ?? 0)));
          if (failure?.status) {
            res.writeHead(failure.status, { 'content-type': 'text/plain' }).end('injected failure');
            return;
          }
          const body = failure?.error ? { ok: false, error: failure.error } : authorized ? this.answer(method, args) : { ok: false, error: 'invalid_auth' };
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        })
        .catch((error: unknown) => {
          if (!res.headersSent) res.writeHead(500).end(String(error));
        });
    });
    return new Promise((resolve) => {
      this.server!.listen(port, '127.0.0.1', () => {
        const address = this.server!.address();
        this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}/api/`;
        resolve();
      });
    });
  }

  private takeFailure(method: string): InjectedFailure | undefined {
    const failure = this.failures.get(method);
    if (!failure) return undefined;
    const times = (failure.times ?? 1) - 1;
    if (times <= 0) this.failures.delete(method);
    else this.failures.set(method, { ...failure, times });
    return failure;
  }

  private answer(method: string, args: Record<string, unknown>): Record<string, unknown> {
    const channel = String(args.channel ?? '');
    switch (method) {
      case 'chat.postMessage': {
        if (!channel) return { ok: false, error: 'channel_not_found' };
        const ts = this.ts();
        const message: FakeSlackMessage = { channel, ts, text: String(args.text ?? ''), blocks: (args.blocks as Block[]) ?? [], updates: 0 };
        this.messages.push(message);
        return { ok: true, channel, ts, message: { text: message.text, blocks: message.blocks } };
      }
      case 'chat.update': {
        const message = this.message(channel, String(args.ts ?? ''));
        if (!message) return { ok: false, error: 'message_not_found' };
        message.text = String(args.text ?? message.text);
        if (args.blocks) message.blocks = args.blocks as Block[];
        message.updates++;
        return { ok: true, channel, ts: message.ts, text: message.text };
      }
      case 'chat.postEphemeral': {
        if (!channel || !args.user) return { ok: false, error: 'user_not_in_channel' };
        this.ephemerals.push({ channel, user: String(args.user), text: String(args.text ?? '') });
        return { ok: true, message_ts: this.ts() };
      }
      case 'users.info': {
        const id = String(args.user ?? '');
        const user = this.options.users?.[id];
        if (!user) return { ok: false, error: 'user_not_found' };
        return { ok: true, user: { id, name: user.name, real_name: user.realName ?? user.name, profile: { email: user.email, real_name: user.realName ?? user.name } } };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  private ts(): string {
    // Slack's ts is `<epoch seconds>.<6 digits>`, unique per channel.
    const value = this.sequence++;
    return `${1_700_000_000 + Math.floor(value / 1_000_000)}.${String(value % 1_000_000).padStart(6, '0')}`;
  }
}

/** A Slack user as `block_actions` names them. */
export type SlackClicker = { id: string; username?: string; name?: string };

/** The form body Slack POSTs for a button click (`payload=<block_actions JSON>`). */
export function blockActionsBody(input: { user: SlackClicker; actionId: string; value: string; channel: string; messageTs: string }): string {
  const payload = {
    type: 'block_actions',
    user: { id: input.user.id, username: input.user.username ?? input.user.name ?? input.user.id, name: input.user.name ?? input.user.username ?? input.user.id, team_id: 'T0BATON' },
    api_app_id: 'A0BATON',
    token: 'deprecated-verification-token',
    container: { type: 'message', message_ts: input.messageTs, channel_id: input.channel, is_ephemeral: false },
    trigger_id: '1.2.3',
    team: { id: 'T0BATON', domain: 'baton' },
    channel: { id: input.channel, name: 'deploys' },
    response_url: 'https://hooks.slack.invalid/actions/T0BATON/1/x',
    actions: [{ type: 'button', action_id: input.actionId, block_id: 'baton.decision', value: input.value, action_ts: `${Date.now() / 1000}` }],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** Headers Slack signs a request with (lower-case, as `HttpRequest` carries them). */
export function slackSignedHeaders(rawBody: string | Buffer, secret: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const ts = String(timestamp);
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': ts,
    'x-slack-signature': slackSignature(secret, ts, rawBody),
  };
}

/** The signed request a click on one of a message's buttons produces. */
export function clickButton(
  fake: FakeSlack,
  message: FakeSlackMessage,
  action: 'approve' | 'reject',
  user: SlackClicker,
  signingSecret: string,
  timestamp?: number,
): { headers: Record<string, string>; rawBody: string } {
  const actionId = action === 'approve' ? APPROVE_ACTION : REJECT_ACTION;
  const button = fake.buttons(message).find((candidate) => candidate.action_id === actionId);
  if (!button) throw new Error(`the message ${message.ts} has no ${action} button`);
  const rawBody = blockActionsBody({ user, actionId, value: button.value, channel: message.channel, messageTs: message.ts });
  return { headers: slackSignedHeaders(rawBody, signingSecret, timestamp), rawBody };
}
