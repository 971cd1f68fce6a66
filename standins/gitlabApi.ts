import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * A local stand-in for GitLab's REST API (v4), for tests and the demo, built from GitLab's REST
 * docs (`doc/api/commits.md`, "Set the pipeline status of a commit"; `doc/api/project_webhooks.md`,
 * "List project webhook events" and "Resend a project webhook event"). GitLab publishes no
 * OpenAPI description that covers these, so the request shapes are written down here and in
 * test/gitStatus/gitlabHost.test.ts, and every request is checked against them: an unknown
 * route, an unknown attribute, a missing or invalid `state` is recorded as a violation.
 *
 * Implemented:
 * - `POST /api/v4/projects/:id/statuses/:sha` — attributes `state` (required: pending, running,
 *   success, failed, canceled), `ref`, `name` or `context`, `target_url`, `description`,
 *   `coverage`, `pipeline_id`; answers 201 with the commit status. Like GitLab, a status that
 *   does not change state is refused: 400 "Cannot transition status via :run from :running".
 * - `GET /api/v4/projects/:id/repository/commits/:sha/statuses` — the statuses, newest first.
 * - `GET /api/v4/projects/:id/hooks/:hook_id/events` (GitLab 17.3+) and
 *   `POST …/events/:hook_event_id/resend` (17.4+), for the webhook sweep.
 * `:id` is a numeric id or the URL-encoded path (`group%2Fproject`). Auth: `PRIVATE-TOKEN`.
 */
export type RecordedGitLabRequest = { method: string; path: string; query: Record<string, string>; body?: Record<string, unknown>; authorized: boolean; status: number; at: number };
export type GitLabViolation = { method: string; path: string; reason: string };
export type FakeGitLabStatus = { id: number; sha: string; ref: string | null; status: string; name: string; target_url: string | null; description: string | null; created_at: string };
export type FakeGitLabHookEvent = { id: number; url: string; trigger: string; request_headers: Record<string, string>; request_data: Record<string, unknown>; response_status: string; execution_duration: number; response_body: string; response_headers: Record<string, string> };

const STATES = new Set(['pending', 'running', 'success', 'failed', 'canceled']);
const STATUS_ATTRIBUTES = new Set(['state', 'ref', 'name', 'context', 'target_url', 'description', 'coverage', 'pipeline_id']);
const TRANSITION_VERB: Record<string, string> = { pending: 'enqueue', running: 'run', success: 'succeed', failed: 'drop', canceled: 'cancel' };

async function readBody(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return undefined;
  if ((req.headers['content-type'] ?? '').includes('application/json')) return JSON.parse(text) as Record<string, unknown>;
  return Object.fromEntries(new URLSearchParams(text));
}

export class FakeGitLab {
  readonly requests: RecordedGitLabRequest[] = [];
  readonly violations: GitLabViolation[] = [];
  readonly resent: Array<{ project: string; hookId: number; eventId: number }> = [];
  url = '';
  private readonly statusList = new Map<string, FakeGitLabStatus[]>();
  private readonly hookEvents = new Map<string, FakeGitLabHookEvent[]>();
  private failures: Array<{ status: number; times: number }> = [];
  private readonly resends: Array<{ hook: string; at: number }> = [];
  private sequence = 500;
  private server?: Server;

  private constructor(private readonly token: string | undefined) {}

  static async start(options: { token?: string; port?: number } = {}): Promise<FakeGitLab> {
    const fake = new FakeGitLab(options.token);
    await fake.listen(options.port ?? 0);
    return fake;
  }

  /** Statuses of a commit, oldest first. `project` is the path with namespace. */
  statuses(project: string, sha: string): FakeGitLabStatus[] {
    return [...(this.statusList.get(`${project}@${sha}`) ?? [])];
  }

  latestStatuses(project: string, sha: string): Record<string, string> {
    return Object.fromEntries(this.statuses(project, sha).map((status) => [status.name, status.status]));
  }

  failNext(failure: { status: number; times?: number }): void {
    this.failures.push({ times: 1, ...failure });
  }

  /** Adds webhook events (`idempotencyKey` defaults to the event UUID). */
  addHookEvents(project: string, hookId: number, events: Array<{ eventUuid: string; idempotencyKey?: string; responseStatus: number | string; id?: number }>): FakeGitLabHookEvent[] {
    const list = this.events(project, hookId);
    const added = events.map((event) => this.hookEvent(event.id ?? ++this.sequence, event.eventUuid, String(event.responseStatus), event.idempotencyKey ?? event.eventUuid));
    list.push(...added);
    list.sort((a, b) => b.id - a.id);
    return added;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    const server = this.server;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private hookEvent(id: number, uuid: string, responseStatus: string, idempotencyKey: string): FakeGitLabHookEvent {
    return {
      id,
      url: 'https://baton.example.com/webhookIntake',
      trigger: 'push_hooks',
      request_headers: { 'Content-Type': 'application/json', 'User-Agent': 'GitLab/17.4.0', 'Idempotency-Key': idempotencyKey, 'X-Gitlab-Event': 'Push Hook', 'X-Gitlab-Event-UUID': uuid, 'X-Gitlab-Token': '[REDACTED]' },
      request_data: { object_kind: 'push', event_name: 'push' },
      response_status: responseStatus,
      execution_duration: 0.05,
      response_body: responseStatus.startsWith('2') ? '{"runId":"x"}' : 'internal error',
      response_headers: {},
    };
  }

  private events(project: string, hookId: number): FakeGitLabHookEvent[] {
    const key = `${project}#${hookId}`;
    let list = this.hookEvents.get(key);
    if (!list) this.hookEvents.set(key, (list = []));
    return list;
  }

  private listen(port: number): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: String(error) }));
      });
    });
    return new Promise((resolve) => {
      this.server!.listen(port, '127.0.0.1', () => {
        const address = this.server!.address();
        this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
        resolve();
      });
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://gitlab.test');
    const method = (req.method ?? 'GET').toUpperCase();
    // Keep the encoded form to split segments (a project path is one %2F-encoded segment).
    const path = url.pathname;
    const query = Object.fromEntries(url.searchParams);
    const body = await readBody(req);
    const authorized = this.token === undefined ? Boolean(req.headers['private-token']) : req.headers['private-token'] === this.token;
    const record: RecordedGitLabRequest = { method, path, query, ...(body ? { body } : {}), authorized, status: 0, at: Date.now() };
    this.requests.push(record);
    const reply = (status: number, json: unknown) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    };
    const violation = (status: number, reason: string) => {
      this.violations.push({ method, path, reason });
      reply(status, { error: reason });
    };
    if (!authorized) return reply(401, { message: '401 Unauthorized' });
    const failure = this.failures[0];
    if (failure) {
      if (--failure.times <= 0) this.failures.shift();
      return reply(failure.status, { message: `${failure.status} injected` });
    }

    let m: RegExpExecArray | null;
    if (method === 'POST' && (m = /^\/api\/v4\/projects\/([^/]+)\/statuses\/([0-9a-f]{7,64})$/.exec(path))) {
      const project = decodeURIComponent(m[1]!);
      const sha = m[2]!;
      const unknown = Object.keys(body ?? {}).filter((key) => !STATUS_ATTRIBUTES.has(key));
      if (unknown.length) return violation(400, `unknown attribute(s) ${unknown.join(', ')}`);
      const state = String(body?.state ?? '');
      if (!STATES.has(state)) return violation(400, 'state does not have a valid value');
      const name = String(body?.name ?? body?.context ?? 'default');
      const list = this.statusList.get(`${project}@${sha}`) ?? [];
      const last = [...list].reverse().find((status) => status.name === name);
      if (last?.status === state) return reply(400, { message: `Cannot transition status via :${TRANSITION_VERB[state]} from :${state}` });
      const status: FakeGitLabStatus = {
        id: ++this.sequence,
        sha,
        ref: typeof body?.ref === 'string' ? body.ref : 'main',
        status: state,
        name,
        target_url: typeof body?.target_url === 'string' ? body.target_url : null,
        description: typeof body?.description === 'string' ? body.description : null,
        created_at: new Date().toISOString(),
      };
      this.statusList.set(`${project}@${sha}`, [...list, status]);
      return reply(201, this.statusJson(status));
    }
    if (method === 'GET' && (m = /^\/api\/v4\/projects\/([^/]+)\/repository\/commits\/([0-9a-f]{7,64})\/statuses$/.exec(path))) {
      return reply(200, this.statuses(decodeURIComponent(m[1]!), m[2]!).reverse().map((status) => this.statusJson(status)));
    }
    if (method === 'GET' && (m = /^\/api\/v4\/projects\/([^/]+)\/hooks\/(\d+)\/events$/.exec(path))) {
      const unknown = Object.keys(query).filter((key) => !['status', 'page', 'per_page'].includes(key));
      if (unknown.length) return violation(400, `unknown parameter(s) ${unknown.join(', ')}`);
      let list = this.events(decodeURIComponent(m[1]!), Number(m[2]));
      const wanted = query.status;
      if (wanted === 'successful') list = list.filter((e) => e.response_status.startsWith('2'));
      else if (wanted === 'client_failure') list = list.filter((e) => e.response_status.startsWith('4'));
      else if (wanted === 'server_failure') list = list.filter((e) => e.response_status.startsWith('5'));
      else if (wanted) list = list.filter((e) => e.response_status === wanted);
      const perPage = Number(query.per_page ?? 20);
      const page = Number(query.page ?? 1);
      const slice = list.slice((page - 1) * perPage, page * perPage);
      record.status = 200;
      res.writeHead(200, { 'content-type': 'application/json', ...(page * perPage < list.length ? { 'x-next-page': String(page + 1) } : {}), 'x-page': String(page), 'x-per-page': String(perPage) });
      res.end(JSON.stringify(slice));
      return;
    }
    if (method === 'POST' && (m = /^\/api\/v4\/projects\/([^/]+)\/hooks\/(\d+)\/events\/(\d+)\/resend$/.exec(path))) {
      const project = decodeURIComponent(m[1]!);
      const hookId = Number(m[2]);
      const original = this.events(project, hookId).find((e) => e.id === Number(m![3]));
      if (!original) return reply(404, { message: '404 Not found' });
      // GitLab: five resends a minute per hook and user.
      const recent = this.resends.filter((at) => at.hook === `${project}#${hookId}` && Date.now() - at.at < 60_000);
      if (recent.length >= 5) return reply(429, { message: 'This endpoint has been requested too many times. Try again later.' });
      this.resends.push({ hook: `${project}#${hookId}`, at: Date.now() });
      this.resent.push({ project, hookId, eventId: original.id });
      // A resend is a new request: a new event UUID, the same Idempotency-Key.
      this.addHookEvents(project, hookId, [{ eventUuid: randomUUID(), idempotencyKey: original.request_headers['Idempotency-Key']!, responseStatus: 200 }]);
      return reply(201, { response_status: 200 });
    }
    return violation(404, `no route ${method} ${path} in the GitLab API as documented`);
  }

  private statusJson(status: FakeGitLabStatus): Record<string, unknown> {
    return {
      id: status.id,
      sha: status.sha,
      ref: status.ref,
      status: status.status,
      name: status.name,
      target_url: status.target_url,
      description: status.description,
      created_at: status.created_at,
      started_at: status.status === 'pending' ? null : status.created_at,
      finished_at: ['success', 'failed', 'canceled'].includes(status.status) ? status.created_at : null,
      allow_failure: false,
      coverage: null,
      pipeline_id: 1,
      author: { id: 28, name: 'baton-bot', username: 'baton-bot', state: 'active', avatar_url: null, web_url: `${this.url}/baton-bot` },
    };
  }
}
