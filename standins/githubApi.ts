import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * A local stand-in for GitHub's REST API, for tests and `baton demo`, held to GitHub's own
 * description of it: every request is matched against `@octokit/openapi` (the api.github.com
 * OpenAPI document). An unknown method or path answers 404 and is recorded as a violation; so
 * are unknown query parameters, path parameters of the wrong type, and a JSON body that does not
 * validate (ajv) against the operation's `requestBody` schema, which answers 422, as does a
 * description over GitHub's documented 140 characters. Answers are shaped from
 * `@octokit/fixtures` recordings (commit statuses) and the OpenAPI examples (deployments, hook
 * deliveries, installation tokens), with ids, shas and times filled in.
 *
 * It implements what baton sends: commit statuses (create, list for a ref, combined),
 * deployments and their statuses, a webhook's deliveries (list with cursor pagination,
 * redeliver), and App installation tokens. Other documented operations answer 404 and are
 * listed in `unhandled`. `failNext` scripts GitHub's own failure answers: primary and secondary
 * rate limits (403 or 429, with `x-ratelimit-*` or `retry-after`) and 5xx.
 *
 * The OpenAPI document (13 MB) is read once per process, on the first `start()`.
 */
export type RecordedGitHubRequest = {
  method: string;
  path: string;
  query: Record<string, string>;
  /** The OpenAPI operation matched, e.g. `repos/create-commit-status`. */
  operationId?: string;
  body?: unknown;
  /** How the request authenticated (the credential itself is never recorded). */
  auth: 'none' | 'token' | 'installation' | 'jwt' | 'invalid';
  /** The status answered. */
  status: number;
  at: number;
};

export type OpenApiViolation = { method: string; path: string; operationId?: string; reason: string; errors?: unknown };

export type InjectedGitHubFailure = {
  status: 403 | 429 | 500 | 502 | 503;
  /** Seconds: `retry-after` for a secondary limit, the reset for a primary one. */
  retryAfter?: number;
  /** A secondary rate limit ("You have exceeded a secondary rate limit") instead of the primary one. */
  secondary?: boolean;
  /** How many requests in a row fail. Default 1. */
  times?: number;
  /** Only requests of this operation fail (default: any). */
  operationId?: string;
};

export type FakeCommitStatus = { id: number; state: string; context: string; description: string | null; target_url: string | null; created_at: string };
export type FakeDeploymentStatus = { id: number; state: string; description: string; log_url?: string; created_at: string };
export type FakeDeployment = { id: number; owner: string; repo: string; sha: string; ref: string; environment: string; task: string; description: string | null; payload: unknown; statuses: FakeDeploymentStatus[] };

/** One webhook delivery, in the shape of `hook-delivery-item`. */
export type FakeDelivery = {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  duration: number;
  status: string;
  status_code: number;
  event: string;
  action: string | null;
  installation_id: number | null;
  repository_id: number | null;
  throttled_at?: string | null;
};

export type FakeGitHubOptions = {
  /** When set, other tokens get 401 (installation tokens the stand-in issued are accepted too). */
  token?: string;
  /** When set, App JWTs must carry this `iss`. */
  appId?: string | number;
  /** Status code that a redelivery records (default 200, i.e. intake took it this time). */
  redeliveryStatusCode?: number;
  port?: number;
};

type Operation = { method: string; template: string; regex: RegExp; params: string[]; op: OperationObject };
type OperationObject = {
  operationId: string;
  parameters?: Array<ParameterObject | { $ref: string }>;
  requestBody?: { required?: boolean; content?: Record<string, { schema?: unknown }> };
};
type ParameterObject = { name: string; in: string; required?: boolean; schema?: unknown };
type OpenApiDocument = { paths: Record<string, Record<string, unknown>>; components: Record<string, Record<string, unknown>> };
type Validator = ((data: unknown) => boolean) & { errors?: unknown };

const require = createRequire(import.meta.url);

let loaded: Promise<{ doc: OpenApiDocument; operations: Operation[]; ajv: { compile(schema: unknown): Validator } }> | undefined;

/** Reads the OpenAPI document and builds the route table and the validator (once per process). */
function loadSpec() {
  loaded ??= (async () => {
    const file = join(dirname(require.resolve('@octokit/openapi/package.json')), 'generated', 'api.github.com.json');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as OpenApiDocument;
    const operations: Operation[] = [];
    for (const [template, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (!op || typeof op !== 'object' || !('operationId' in op)) continue;
        const params: string[] = [];
        const pattern = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_, name: string) => {
          params.push(name);
          return '([^/]+)';
        });
        operations.push({ method: method.toUpperCase(), template, regex: new RegExp(`^${pattern}$`), params, op: op as OperationObject });
      }
    }
    // Literal segments win over parameters: `/repos/{o}/{r}/hooks/{id}` before anything more generic.
    operations.sort((a, b) => a.params.length - b.params.length);
    // CommonJS modules: their classes sit on `default.default` under NodeNext.
    const Ajv = (await import('ajv')).default.default;
    const addFormats = (await import('ajv-formats')).default.default;
    // OpenAPI 3.0 keywords (`example`, `x-*`) are not JSON Schema: not strict. `nullable` is
    // understood by ajv itself.
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    return { doc, operations, ajv };
  })();
  return loaded;
}

/** Inlines `#/components/...` references (a reference cycle becomes `{}`). */
function deref(node: unknown, doc: OpenApiDocument, seen: ReadonlySet<string> = new Set()): unknown {
  if (Array.isArray(node)) return node.map((item) => deref(item, doc, seen));
  if (!node || typeof node !== 'object') return node;
  const ref = (node as { $ref?: unknown }).$ref;
  if (typeof ref === 'string') {
    if (seen.has(ref)) return {};
    const target = ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], doc);
    return deref(target, doc, new Set([...seen, ref]));
  }
  return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, deref(value, doc, seen)]));
}

function example(doc: OpenApiDocument, name: string): Record<string, unknown> {
  const value = (doc.components.examples?.[name] as { value?: Record<string, unknown> } | undefined)?.value;
  if (!value) throw new Error(`OpenAPI example ${name} not found`);
  return structuredClone(value);
}

/** The create-status recording from `@octokit/fixtures`: the shape of a status GitHub returns. */
function statusTemplate(): Record<string, unknown> {
  const file = join(dirname(require.resolve('@octokit/fixtures/package.json')), 'scenarios', 'api.github.com', 'create-status', 'normalized-fixture.json');
  const recordings = JSON.parse(readFileSync(file, 'utf8')) as Array<{ method: string; path: string; response: Record<string, unknown> }>;
  const created = recordings.find((recording) => recording.method === 'post' && recording.path.includes('/statuses/'));
  if (!created) throw new Error('create-status fixture not found');
  return created.response;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const DOCS = 'https://docs.github.com/rest';

export class FakeGitHub {
  readonly requests: RecordedGitHubRequest[] = [];
  readonly violations: OpenApiViolation[] = [];
  /** Documented operations the stand-in does not implement (answered 404). */
  readonly unhandled: string[] = [];
  /** Redeliveries asked for, in order. */
  readonly redeliveries: Array<{ owner: string; repo: string; hookId: number; deliveryId: number; guid: string }> = [];
  url = '';

  private readonly commitStatuses = new Map<string, FakeCommitStatus[]>();
  private readonly deploymentList: FakeDeployment[] = [];
  private readonly hookDeliveries = new Map<string, FakeDelivery[]>();
  private readonly issuedTokens = new Set<string>();
  private failures: InjectedGitHubFailure[] = [];
  private sequence = 1000;
  private server?: Server;
  private spec!: Awaited<ReturnType<typeof loadSpec>>;
  private template!: Record<string, unknown>;
  private readonly validators = new Map<string, Validator>();

  private constructor(private readonly options: FakeGitHubOptions) {}

  static async start(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
    const fake = new FakeGitHub(options);
    fake.spec = await loadSpec();
    fake.template = statusTemplate();
    await fake.listen(options.port ?? 0);
    return fake;
  }

  /** Statuses of a commit in the order they were created. */
  statuses(owner: string, repo: string, sha: string): FakeCommitStatus[] {
    return [...(this.commitStatuses.get(`${owner}/${repo}@${sha}`.toLowerCase()) ?? [])];
  }

  /** The latest state per context, as GitHub's combined status shows it. */
  latestStatuses(owner: string, repo: string, sha: string): Record<string, string> {
    const latest: Record<string, string> = {};
    for (const status of this.statuses(owner, repo, sha)) latest[status.context] = status.state;
    return latest;
  }

  /**
   * The commit's statuses as GitHub's pull request page lists them (latest per context, in the
   * order the contexts first appeared), one line each: for the demo's end-of-run printout.
   */
  statusLines(owner: string, repo: string, sha: string): string[] {
    const latest = new Map<string, FakeCommitStatus>();
    for (const status of this.statuses(owner, repo, sha)) latest.set(status.context, status);
    const width = Math.max(0, ...[...latest.keys()].map((context) => context.length));
    const mark: Record<string, string> = { success: '✓', failure: '✗', error: '!', pending: '…' };
    return [...latest.values()].map((status) => `${mark[status.state] ?? ' '} ${status.context.padEnd(width)}  ${status.state.padEnd(7)}  ${status.description ?? ''}`.trimEnd());
  }

  deployments(owner?: string, repo?: string): FakeDeployment[] {
    return this.deploymentList.filter((deployment) => (!owner || deployment.owner === owner) && (!repo || deployment.repo === repo));
  }

  /** Scripts the next request(s) to fail the way GitHub does. */
  failNext(failure: InjectedGitHubFailure): void {
    this.failures.push({ times: 1, ...failure });
  }

  /** Drops the scripted failures not yet answered: GitHub is back. */
  clearFailures(): void {
    this.failures = [];
  }

  /** Adds deliveries to a webhook's log (any order; they are listed newest first, by id). */
  addDeliveries(repository: string, hookId: number, deliveries: Array<Partial<FakeDelivery> & { guid: string; status_code: number }>): FakeDelivery[] {
    const list = this.deliveryLog(repository, hookId);
    // GitHub's ids grow with time: number a batch oldest first.
    const ordered = [...deliveries].sort((a, b) => (a.delivered_at ?? '').localeCompare(b.delivered_at ?? ''));
    const added = ordered.map((delivery) => ({
      id: delivery.id ?? this.next(),
      guid: delivery.guid,
      delivered_at: delivery.delivered_at ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      redelivery: delivery.redelivery ?? false,
      duration: delivery.duration ?? 0.05,
      status: delivery.status ?? (delivery.status_code === 0 ? 'timed out' : delivery.status_code < 400 ? 'OK' : 'Internal Server Error'),
      status_code: delivery.status_code,
      event: delivery.event ?? 'push',
      action: delivery.action ?? null,
      installation_id: delivery.installation_id ?? null,
      repository_id: delivery.repository_id ?? 1296269,
      throttled_at: delivery.throttled_at ?? null,
    }));
    list.push(...added);
    list.sort((a, b) => b.id - a.id);
    return added;
  }

  deliveries(repository: string, hookId: number): FakeDelivery[] {
    return [...this.deliveryLog(repository, hookId)];
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

  private deliveryLog(repository: string, hookId: number): FakeDelivery[] {
    const key = `${repository.toLowerCase()}#${hookId}`;
    let list = this.hookDeliveries.get(key);
    if (!list) this.hookDeliveries.set(key, (list = []));
    return list;
  }

  private next(): number {
    return ++this.sequence;
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
    const url = new URL(req.url ?? '/', 'http://github.test');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname;
    const query = Object.fromEntries(url.searchParams);
    const text = await readBody(req);
    const record: RecordedGitHubRequest = { method, path, query, auth: 'none', status: 0, at: Date.now() };
    this.requests.push(record);
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-github-media-type': 'github.v3; format=json', ...headers });
      res.end(body === undefined ? '' : JSON.stringify(body));
    };
    const violation = (status: number, reason: string, errors?: unknown) => {
      this.violations.push({ method, path, ...(record.operationId ? { operationId: record.operationId } : {}), reason, ...(errors ? { errors } : {}) });
      reply(status, { message: status === 404 ? 'Not Found' : 'Invalid request.', documentation_url: DOCS, ...(errors ? { errors } : {}) });
    };

    // 1. The operation: method + path template.
    const match = this.spec.operations.find((operation) => operation.method === method && operation.regex.test(path));
    if (!match) return violation(404, `no operation ${method} ${path} in GitHub's OpenAPI description`);
    record.operationId = match.op.operationId;
    const values = match.regex.exec(path)!.slice(1).map((value) => decodeURIComponent(value));
    const pathParams = Object.fromEntries(match.params.map((name, i) => [name, values[i]!]));

    // 2. Parameters: path parameter types, and no query parameter the operation does not take.
    const parameters = (match.op.parameters ?? []).map((parameter) => deref(parameter, this.spec.doc) as ParameterObject);
    for (const parameter of parameters.filter((p) => p.in === 'path')) {
      const schema = parameter.schema as { type?: string } | undefined;
      if (schema?.type === 'integer' && !/^\d+$/.test(pathParams[parameter.name] ?? '')) return violation(422, `path parameter ${parameter.name} must be an integer`);
    }
    const known = new Set(parameters.filter((p) => p.in === 'query').map((p) => p.name));
    const unknown = Object.keys(query).filter((name) => !known.has(name));
    if (unknown.length) return violation(422, `unknown query parameter(s) ${unknown.join(', ')}`);

    // 3. The body, against the operation's requestBody schema.
    let body: unknown;
    const bodySchema = match.op.requestBody?.content?.['application/json']?.schema;
    if (text.trim()) {
      try {
        body = JSON.parse(text);
      } catch {
        return violation(400, 'body is not JSON');
      }
      record.body = body;
      if (!bodySchema) return violation(422, 'the operation takes no body');
      const validate = this.validator(match.op.operationId, bodySchema);
      if (!validate(body)) return violation(422, 'body does not match the requestBody schema', validate.errors);
      const description = (body as { description?: unknown }).description;
      if (typeof description === 'string' && description.length > 140) return violation(422, 'description is longer than 140 characters');
    } else if (match.op.requestBody?.required) {
      return violation(422, 'the operation requires a body');
    }

    // 4. Auth.
    const authorization = req.headers.authorization ?? '';
    const credential = authorization.replace(/^(token|bearer)\s+/i, '');
    if (match.op.operationId === 'apps/create-installation-access-token') {
      record.auth = this.validJwt(credential) ? 'jwt' : 'invalid';
      if (record.auth === 'invalid') return reply(401, { message: 'A JSON web token could not be decoded', documentation_url: DOCS });
    } else if (credential) {
      record.auth = this.issuedTokens.has(credential) ? 'installation' : this.options.token === undefined || credential === this.options.token ? 'token' : 'invalid';
      if (record.auth === 'invalid') return reply(401, { message: 'Bad credentials', documentation_url: DOCS });
    } else if (this.options.token !== undefined) {
      return reply(401, { message: 'Requires authentication', documentation_url: DOCS });
    }

    // 5. A scripted failure.
    const failure = this.takeFailure(match.op.operationId);
    if (failure) return this.fail(failure, reply);

    // 6. The answer.
    this.answer(match.op.operationId, pathParams, query, body as Record<string, unknown> | undefined, reply, record);
  }

  private validator(operationId: string, schema: unknown): Validator {
    let validate = this.validators.get(operationId);
    if (!validate) {
      validate = this.spec.ajv.compile(deref(schema, this.spec.doc));
      this.validators.set(operationId, validate);
    }
    return validate;
  }

  private validJwt(credential: string): boolean {
    const parts = credential.split('.');
    if (parts.length !== 3) return false;
    try {
      const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as { alg?: string };
      const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { iss?: unknown; exp?: number; iat?: number };
      if (header.alg !== 'RS256') return false;
      if (this.options.appId !== undefined && String(payload.iss) !== String(this.options.appId)) return false;
      return typeof payload.exp === 'number' && payload.exp * 1000 > Date.now();
    } catch {
      return false;
    }
  }

  private takeFailure(operationId: string): InjectedGitHubFailure | undefined {
    const index = this.failures.findIndex((failure) => !failure.operationId || failure.operationId === operationId);
    if (index < 0) return undefined;
    const failure = this.failures[index]!;
    if ((failure.times ?? 1) <= 1) this.failures.splice(index, 1);
    else this.failures[index] = { ...failure, times: (failure.times ?? 1) - 1 };
    return failure;
  }

  /** GitHub's own failure answers (docs: "Rate limits for the REST API"). */
  private fail(failure: InjectedGitHubFailure, reply: (status: number, body: unknown, headers?: Record<string, string>) => void): void {
    const wait = failure.retryAfter ?? 60;
    if (failure.status >= 500) return reply(failure.status, { message: 'Server Error' });
    if (failure.secondary) {
      return reply(
        failure.status,
        {
          message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.',
          documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
        },
        { 'retry-after': String(wait) },
      );
    }
    const reset = Math.ceil(Date.now() / 1000 + wait);
    reply(
      failure.status,
      { message: 'API rate limit exceeded for installation ID 1.', documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits' },
      { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '0', 'x-ratelimit-used': '5000', 'x-ratelimit-reset': String(reset), 'x-ratelimit-resource': 'core' },
    );
  }

  private answer(
    operationId: string,
    params: Record<string, string>,
    query: Record<string, string>,
    body: Record<string, unknown> | undefined,
    reply: (status: number, body: unknown, headers?: Record<string, string>) => void,
    record: RecordedGitHubRequest,
  ): void {
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const repoUrl = `${this.url}/repos/${params.owner}/${params.repo}`;
    switch (operationId) {
      case 'repos/create-commit-status': {
        const status: FakeCommitStatus = {
          id: this.next(),
          state: String(body!.state),
          context: typeof body!.context === 'string' ? body!.context : 'default',
          description: typeof body!.description === 'string' ? body!.description : null,
          target_url: typeof body!.target_url === 'string' ? body!.target_url : null,
          created_at: now,
        };
        const key = `${params.owner}/${params.repo}@${params.sha}`.toLowerCase();
        this.commitStatuses.set(key, [...(this.commitStatuses.get(key) ?? []), status]);
        return reply(201, this.statusJson(repoUrl, params.sha!, status), { location: `${repoUrl}/statuses/${params.sha}` });
      }
      case 'repos/list-commit-statuses-for-ref': {
        const all = this.statuses(params.owner!, params.repo!, params.ref!).reverse();
        const perPage = Number(query.per_page ?? 30);
        const page = Number(query.page ?? 1);
        return reply(200, all.slice((page - 1) * perPage, page * perPage).map((status) => this.statusJson(repoUrl, params.ref!, status)));
      }
      case 'repos/get-combined-status-for-ref': {
        const latest = new Map<string, FakeCommitStatus>();
        for (const status of this.statuses(params.owner!, params.repo!, params.ref!)) latest.set(status.context, status);
        const statuses = [...latest.values()];
        const state = statuses.some((s) => s.state === 'failure' || s.state === 'error') ? 'failure' : statuses.some((s) => s.state === 'pending') || !statuses.length ? 'pending' : 'success';
        return reply(200, {
          state,
          statuses: statuses.map((status) => this.statusJson(repoUrl, params.ref!, status)),
          sha: params.ref,
          total_count: statuses.length,
          repository: { id: 1296269, name: params.repo, full_name: `${params.owner}/${params.repo}`, url: repoUrl },
          commit_url: `${repoUrl}/commits/${params.ref}`,
          url: `${repoUrl}/commits/${params.ref}/status`,
        });
      }
      case 'repos/create-deployment': {
        const deployment: FakeDeployment = {
          id: this.next(),
          owner: params.owner!,
          repo: params.repo!,
          sha: String(body!.ref),
          ref: String(body!.ref),
          environment: typeof body!.environment === 'string' ? body!.environment : 'production',
          task: typeof body!.task === 'string' ? body!.task : 'deploy',
          description: typeof body!.description === 'string' ? body!.description : null,
          payload: body!.payload ?? {},
          statuses: [],
        };
        this.deploymentList.push(deployment);
        const json = example(this.spec.doc, 'deployment-simple-example');
        Object.assign(json, {
          url: `${repoUrl}/deployments/${deployment.id}`,
          id: deployment.id,
          sha: deployment.sha,
          ref: deployment.ref,
          task: deployment.task,
          payload: deployment.payload,
          original_environment: deployment.environment,
          environment: deployment.environment,
          description: deployment.description,
          created_at: now,
          updated_at: now,
          statuses_url: `${repoUrl}/deployments/${deployment.id}/statuses`,
          repository_url: repoUrl,
          transient_environment: body!.transient_environment === true,
          production_environment: typeof body!.production_environment === 'boolean' ? body!.production_environment : deployment.environment === 'production',
        });
        return reply(201, json);
      }
      case 'repos/create-deployment-status': {
        const deployment = this.deploymentList.find((d) => d.id === Number(params.deployment_id) && d.owner === params.owner && d.repo === params.repo);
        if (!deployment) return reply(404, { message: 'Not Found', documentation_url: DOCS });
        const status: FakeDeploymentStatus = {
          id: this.next(),
          state: String(body!.state),
          description: typeof body!.description === 'string' ? body!.description : '',
          ...(typeof body!.log_url === 'string' ? { log_url: body!.log_url } : {}),
          created_at: now,
        };
        deployment.statuses.push(status);
        const json = example(this.spec.doc, 'deployment-status');
        Object.assign(json, {
          url: `${repoUrl}/deployments/${deployment.id}/statuses/${status.id}`,
          id: status.id,
          state: status.state,
          description: status.description,
          environment: typeof body!.environment === 'string' ? body!.environment : deployment.environment,
          target_url: status.log_url ?? '',
          log_url: status.log_url ?? '',
          environment_url: '',
          created_at: now,
          updated_at: now,
          deployment_url: `${repoUrl}/deployments/${deployment.id}`,
          repository_url: repoUrl,
        });
        return reply(201, json);
      }
      case 'repos/list-webhook-deliveries': {
        const repository = `${params.owner}/${params.repo}`;
        let list = this.deliveryLog(repository, Number(params.hook_id));
        if (query.status === 'success') list = list.filter((d) => d.status_code >= 200 && d.status_code <= 399);
        if (query.status === 'failure') list = list.filter((d) => d.status_code >= 400 && d.status_code <= 599);
        const before = query.cursor ? Number(query.cursor.replace(/^v1_/, '')) : Infinity;
        const perPage = Math.min(Number(query.per_page ?? 30), 100);
        const page = list.filter((d) => d.id < before).slice(0, perPage);
        const rest = list.filter((d) => d.id < before).length > page.length;
        const headers: Record<string, string> = {};
        if (rest && page.length) {
          const next = new URL(`${this.url}${record.path}`);
          next.searchParams.set('per_page', String(perPage));
          if (query.status) next.searchParams.set('status', query.status);
          next.searchParams.set('cursor', `v1_${page.at(-1)!.id}`);
          headers.link = `<${next.toString()}>; rel="next"`;
        }
        return reply(200, page, headers);
      }
      case 'repos/redeliver-webhook-delivery': {
        const repository = `${params.owner}/${params.repo}`;
        const hookId = Number(params.hook_id);
        const original = this.deliveryLog(repository, hookId).find((d) => d.id === Number(params.delivery_id));
        if (!original) return reply(404, { message: 'Not Found', documentation_url: DOCS });
        this.redeliveries.push({ owner: params.owner!, repo: params.repo!, hookId, deliveryId: original.id, guid: original.guid });
        const statusCode = this.options.redeliveryStatusCode ?? 200;
        this.addDeliveries(repository, hookId, [{ ...original, id: undefined, redelivery: true, status_code: statusCode, status: undefined, delivered_at: now }]);
        return reply(202, {});
      }
      case 'apps/create-installation-access-token': {
        const token = `ghs_${randomUUID().replace(/-/g, '')}`;
        this.issuedTokens.add(token);
        const json = example(this.spec.doc, 'installation-token');
        Object.assign(json, {
          token,
          expires_at: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          permissions: { statuses: 'write', deployments: 'write', repository_hooks: 'read' },
          repository_selection: 'all',
        });
        delete json.repositories;
        return reply(201, json);
      }
      default:
        this.unhandled.push(operationId);
        return reply(404, { message: 'Not Found', documentation_url: DOCS });
    }
  }

  private statusJson(repoUrl: string, sha: string, status: FakeCommitStatus): Record<string, unknown> {
    return {
      ...structuredClone(this.template),
      url: `${repoUrl}/statuses/${sha}`,
      id: status.id,
      node_id: Buffer.from(`Status${status.id}`).toString('base64'),
      state: status.state,
      description: status.description,
      target_url: status.target_url,
      context: status.context,
      created_at: status.created_at,
      updated_at: status.created_at,
    };
  }
}
