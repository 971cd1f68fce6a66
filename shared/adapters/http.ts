import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Runtime } from '../runtime/runtime.js';

/**
 * Transport-free HTTP: stage logic takes an `HttpRequest` and returns an `HttpResponse`, so the
 * same code runs under functions-framework (express) in Cloud Functions and under a bare
 * `node:http` server in the embedded runtime.
 */
export type HttpRequest = {
  method: string;
  path: string;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  /** The exact bytes received: what signatures are computed over. */
  rawBody: Buffer;
};

export type HttpResponse = {
  status: number;
  headers?: Record<string, string>;
  /** JSON-serialised unless a string. */
  body?: unknown;
};

export type HttpTarget = (request: HttpRequest, runtime: Runtime) => Promise<HttpResponse>;

/** Webhook bodies above this get 413 (GitHub itself never sends more than 25 MB). */
export const MAX_BODY_BYTES = 25 * 1024 * 1024;

export function tooLarge(): HttpResponse {
  return { status: 413, body: { error: `request body exceeds ${MAX_BODY_BYTES} bytes` } };
}

function flattenHeaders(headers: IncomingMessage['headers']): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

function send(res: ServerResponse, response: HttpResponse): void {
  const isText = typeof response.body === 'string';
  const payload = response.body === undefined ? '' : isText ? (response.body as string) : JSON.stringify(response.body);
  res.writeHead(response.status, {
    'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json',
    ...response.headers,
  });
  res.end(payload);
}

/**
 * Reads a request body, refusing (413) from `Content-Length` before reading anything, and
 * while streaming once the limit is passed, so an oversized body is never buffered or parsed.
 */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return 'too-large';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export type Route = { method: 'POST' | 'GET'; path: string; target: HttpTarget };

/** The embedded runtime's HTTP server: one route per HTTP target, plus `GET /healthz`. */
export function serveHttp(routes: Route[], runtime: Runtime, port = 0, host = '127.0.0.1'): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'GET' && path === '/healthz') return send(res, { status: 200, body: { ok: true } });
    const route = routes.find((candidate) => candidate.path === path);
    if (!route) return send(res, { status: 404, body: { error: `no target at ${path}` } });
    if (req.method !== route.method) return send(res, { status: 405, body: { error: `use ${route.method}` } });
    readBody(req, MAX_BODY_BYTES)
      .then(async (body) => {
        if (body === 'too-large') {
          res.setHeader('connection', 'close');
          return send(res, tooLarge());
        }
        const response = await route.target({ method: req.method ?? 'POST', path, headers: flattenHeaders(req.headers), rawBody: body }, runtime);
        send(res, response);
      })
      .catch((error: unknown) => {
        runtime.log.error('http target failed', { path, error });
        if (!res.headersSent) send(res, { status: 500, body: { error: 'internal error' } });
      });
  });
  return new Promise((resolve) => {
    server.listen(port, host, () => {
      const address = server.address();
      const actualPort = typeof address === 'object' && address ? address.port : port;
      resolve({ server, url: `http://${host}:${actualPort}` });
    });
  });
}

type ExpressLikeRequest = { method: string; path?: string; url?: string; headers: IncomingMessage['headers']; rawBody?: Buffer };
type ExpressLikeResponse = { status(code: number): ExpressLikeResponse; set(headers: Record<string, string>): ExpressLikeResponse; send(body: string): void };

/**
 * Adapts an `HttpTarget` to functions-framework's express handler. The framework has already
 * read the body (Cloud Run caps requests at 32 MiB); the declared length is still checked first,
 * so an oversized webhook gets 413 before baton parses it.
 */
export function functionsFrameworkHttp(load: () => Promise<HttpTarget>, runtime: () => Runtime) {
  return async (req: ExpressLikeRequest, res: ExpressLikeResponse): Promise<void> => {
    const reply = (response: HttpResponse) => {
      const isText = typeof response.body === 'string';
      res
        .status(response.status)
        .set({ 'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json', ...response.headers })
        .send(response.body === undefined ? '' : isText ? (response.body as string) : JSON.stringify(response.body));
    };
    const rawBody = req.rawBody ?? Buffer.alloc(0);
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES || rawBody.length > MAX_BODY_BYTES) return reply(tooLarge());
    const rt = runtime();
    try {
      const target = await load();
      reply(await target({ method: req.method, path: req.path ?? req.url ?? '/', headers: flattenHeaders(req.headers), rawBody }, rt));
    } catch (error) {
      rt.log.error('http target failed', { error });
      reply({ status: 500, body: { error: 'internal error' } });
    }
  };
}
