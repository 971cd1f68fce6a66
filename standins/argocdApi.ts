import { createServer } from 'node:http';
import type { Server } from 'node:http';

/**
 * A local stand-in for Argo CD's HTTP API, for tests and the demo: a real HTTP server that
 * answers `GET /api/v1/applications/{name}[?refresh=normal]` with an Application whose status
 * follows a script, checks the bearer token, and records every call. Argo CD is a SaaS-like
 * boundary here; everything else in the tests is real.
 *
 * Script per Application: before a refresh it reports `initialRevision`, Synced and Healthy (the
 * old release). After a refresh, each status read counts a poll; once `pollsUntilDone` polls
 * have happened it reports `outcome` at `revision`: `healthy` (Synced + Healthy), `degraded`
 * (Synced + Degraded), or `never` (stays OutOfSync + Progressing, to exercise timeouts).
 */
export type FakeApplicationScript = {
  outcome?: 'healthy' | 'degraded' | 'never';
  pollsUntilDone?: number;
  /** Revision reported once done (the published chart version, or a digest). Default `initialRevision`. */
  revision?: string;
  initialRevision?: string;
  /** Answer this many requests with HTTP 500 first. */
  failFirst?: number;
  message?: string;
};

export type RecordedArgoCall = { method: string; path: string; query: Record<string, string>; authorization?: string };

type AppState = { script: FakeApplicationScript; refreshed: boolean; polls: number; failures: number };

export type FakeArgoCd = {
  url: string;
  calls: RecordedArgoCall[];
  setApplication(name: string, script: FakeApplicationScript): void;
  close(): Promise<void>;
};

function applicationJson(name: string, state: AppState): Record<string, unknown> {
  const { script } = state;
  const done = state.refreshed && state.polls >= (script.pollsUntilDone ?? 2);
  const initial = script.initialRevision ?? '0.0.1';
  let sync = { status: 'Synced', revision: initial };
  let health: Record<string, string> = { status: 'Healthy' };
  let operationState: Record<string, unknown> = { phase: 'Succeeded', syncResult: { revision: initial } };
  if (state.refreshed && !done) {
    sync = { status: 'OutOfSync', revision: initial };
    health = { status: 'Progressing' };
    operationState = { phase: 'Running', syncResult: { revision: initial } };
  } else if (done) {
    const revision = script.revision ?? initial;
    if (script.outcome === 'never') {
      sync = { status: 'OutOfSync', revision: initial };
      health = { status: 'Progressing' };
      operationState = { phase: 'Running' };
    } else if (script.outcome === 'degraded') {
      sync = { status: 'Synced', revision };
      health = { status: 'Degraded', message: script.message ?? 'Deployment "frontend" exceeded its progress deadline' };
      operationState = { phase: 'Succeeded', syncResult: { revision } };
    } else {
      sync = { status: 'Synced', revision };
      operationState = { phase: 'Succeeded', syncResult: { revision } };
    }
  }
  return {
    metadata: { name, namespace: 'argocd' },
    spec: { project: 'default', source: { repoURL: 'oci://registry.test/charts/online-boutique', path: '.', targetRevision: '*' } },
    status: { sync, health, operationState },
  };
}

export async function startFakeArgoCd(options: { token: string; applications?: Record<string, FakeApplicationScript> }): Promise<FakeArgoCd> {
  const apps = new Map<string, AppState>();
  const setApplication = (name: string, script: FakeApplicationScript) => apps.set(name, { script, refreshed: false, polls: 0, failures: 0 });
  for (const [name, script] of Object.entries(options.applications ?? {})) setApplication(name, script);
  const calls: RecordedArgoCall[] = [];

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    calls.push({ method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), authorization: req.headers.authorization });
    if (req.headers.authorization !== `Bearer ${options.token}`) return reply(401, { error: 'invalid session: token is invalid', code: 16, message: 'invalid session: token is invalid' });
    const match = /^\/api\/v1\/applications\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'GET' || !match) return reply(404, { error: 'Not Found', code: 5, message: 'Not Found' });
    const name = decodeURIComponent(match[1]!);
    const state = apps.get(name);
    if (!state) return reply(404, { error: `applications.argoproj.io "${name}" not found`, code: 5, message: `applications.argoproj.io "${name}" not found` });
    if (state.failures < (state.script.failFirst ?? 0)) {
      state.failures++;
      return reply(500, { error: 'internal error', code: 13, message: 'internal error' });
    }
    if (url.searchParams.get('refresh')) state.refreshed = true;
    else if (state.refreshed) state.polls++;
    reply(200, applicationJson(name, state));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    setApplication,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
