import { createHash } from 'node:crypto';
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
 *
 * Resource tree (`GET /api/v1/applications/{name}/resource-tree`): per service a Deployment, its
 * ReplicaSet and `replicas` Pods, shaped like Argo CD's `v1alpha1ApplicationTree` (Pods carry
 * `images` and their labels in `networkingInfo.labels`, as the chart sets them). Before the
 * sync is done the Pods run `initialImages`; while it progresses the old Pods still run next to
 * the new ones (a rolling update); once done only the new ones run `images`, except for
 * `degraded` (the new Pods crash-loop next to the old ones) and `never` (only the old ones).
 * `setLiveImages` pins what is live directly.
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
  /** Live images (service → `repository@sha256:…`) before the sync is done. */
  initialImages?: Record<string, string>;
  /** Live images once the sync is done. Default `initialImages`. */
  images?: Record<string, string>;
  /** Pods per service. Default 1. */
  replicas?: number;
  /** Namespace of the live objects. Default `online-boutique`. */
  namespace?: string;
};

/** What `setLiveImages` pins: the images of the Pods that run, and optionally old Pods still draining next to them. */
export type LiveImages = { images: Record<string, string>; draining?: Record<string, string> };

export type RecordedArgoCall = { method: string; path: string; query: Record<string, string>; authorization?: string };

type AppState = { script: FakeApplicationScript; refreshed: boolean; polls: number; failures: number; live?: LiveImages };

export type FakeArgoCd = {
  url: string;
  calls: RecordedArgoCall[];
  setApplication(name: string, script: FakeApplicationScript): void;
  /**
   * What Argo CD's automated sync does with a new chart: the Application moves to `revision` and,
   * after one status read, is Synced and Healthy with `images` live (the old ones before). Unlike
   * `setApplication` it keeps a refresh already asked for, so it may come before or after
   * deployWatch's refresh.
   */
  sync(name: string, target: { revision: string; images: Record<string, string>; outcome?: 'healthy' | 'degraded' }): void;
  /** Pins the live Pods' images of an Application, whatever its script says (a manual `kubectl set image`, a drifted cluster). */
  setLiveImages(name: string, live: LiveImages): void;
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

function isDone(state: AppState): boolean {
  return state.refreshed && state.polls >= (state.script.pollsUntilDone ?? 2);
}

/** Deterministic ids, so a tree reads the same on every call. */
function hashOf(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

function uidOf(text: string): string {
  const hex = hashOf(text, 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

type PodSet = { service: string; image: string; health: 'Healthy' | 'Degraded' | 'Progressing' };

function podSets(state: AppState): PodSet[] {
  const { script } = state;
  const sets: PodSet[] = [];
  const add = (images: Record<string, string> | undefined, health: PodSet['health']) => {
    for (const [service, image] of Object.entries(images ?? {})) sets.push({ service, image, health });
  };
  if (state.live) {
    add(state.live.draining, 'Healthy');
    add(state.live.images, 'Healthy');
    return sets;
  }
  const initial = script.initialImages;
  const target = script.images ?? initial;
  const rolling = (health: PodSet['health']) => {
    // A rolling update keeps the old Pods next to the new ones until the new ones are ready.
    add(initial, 'Healthy');
    for (const [service, image] of Object.entries(target ?? {})) if (initial?.[service] !== image) sets.push({ service, image, health });
  };
  if (!state.refreshed || script.outcome === 'never') add(initial, 'Healthy');
  else if (!isDone(state)) rolling('Progressing');
  else if (script.outcome === 'degraded') rolling('Degraded');
  else add(target, 'Healthy');
  return sets;
}

/** The Application's live objects as Argo CD's `v1alpha1ApplicationTree` (ResourceRef fields inline, as the API serves them). */
function resourceTreeJson(name: string, state: AppState): Record<string, unknown> {
  const namespace = state.script.namespace ?? 'online-boutique';
  const createdAt = '2026-01-01T00:00:00Z';
  const nodes: Array<Record<string, unknown>> = [];
  const deployments = new Set<string>();
  for (const set of podSets(state)) {
    if (!deployments.has(set.service)) {
      deployments.add(set.service);
      nodes.push({
        group: 'apps',
        version: 'v1',
        kind: 'Deployment',
        namespace,
        name: set.service,
        uid: uidOf(`${name}/${set.service}`),
        info: [{ name: 'Revision', value: 'Rev:1' }],
        resourceVersion: '1',
        health: { status: 'Healthy' },
        createdAt,
      });
    }
    const hash = hashOf(set.image, 10);
    const replicaSet = `${set.service}-${hash}`;
    nodes.push({
      group: 'apps',
      version: 'v1',
      kind: 'ReplicaSet',
      namespace,
      name: replicaSet,
      uid: uidOf(`${name}/${replicaSet}`),
      parentRefs: [{ group: 'apps', kind: 'Deployment', namespace, name: set.service, uid: uidOf(`${name}/${set.service}`) }],
      info: [{ name: 'Revision', value: 'Rev:1' }],
      resourceVersion: '1',
      health: { status: set.health === 'Degraded' ? 'Degraded' : 'Healthy' },
      createdAt,
    });
    for (let replica = 0; replica < (state.script.replicas ?? 1); replica++) {
      const pod = `${replicaSet}-${hashOf(`${replicaSet}/${replica}`, 5)}`;
      const degraded = set.health === 'Degraded';
      nodes.push({
        version: 'v1',
        kind: 'Pod',
        namespace,
        name: pod,
        uid: uidOf(`${name}/${pod}`),
        parentRefs: [{ group: 'apps', kind: 'ReplicaSet', namespace, name: replicaSet, uid: uidOf(`${name}/${replicaSet}`) }],
        info: [
          { name: 'Status Reason', value: degraded ? 'CrashLoopBackOff' : set.health === 'Progressing' ? 'ContainerCreating' : 'Running' },
          { name: 'Node', value: 'gke-baton-pool-1-node-0' },
          { name: 'Containers', value: set.health === 'Healthy' ? '1/1' : '0/1' },
        ],
        networkingInfo: {
          labels: {
            app: set.service,
            'app.kubernetes.io/component': set.service,
            'app.kubernetes.io/name': 'online-boutique',
            'app.kubernetes.io/instance': name,
            'pod-template-hash': hash,
          },
        },
        images: [set.image],
        resourceVersion: '1',
        health: degraded ? { status: 'Degraded', message: 'back-off 5m0s restarting failed container' } : set.health === 'Progressing' ? { status: 'Progressing' } : { status: 'Healthy' },
        createdAt,
      });
    }
  }
  return { nodes };
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
    const tree = /^\/api\/v1\/applications\/([^/]+)\/resource-tree$/.exec(url.pathname);
    if (req.method === 'GET' && tree) {
      const name = decodeURIComponent(tree[1]!);
      const state = apps.get(name);
      if (!state) return reply(404, { error: `applications.argoproj.io "${name}" not found`, code: 5, message: `applications.argoproj.io "${name}" not found` });
      return reply(200, resourceTreeJson(name, state));
    }
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
    sync(name, target) {
      const previous = apps.get(name);
      const live = previous ? (isDone(previous) ? (previous.script.images ?? previous.script.initialImages) : previous.script.initialImages) : undefined;
      apps.set(name, {
        script: { outcome: target.outcome ?? 'healthy', pollsUntilDone: 1, initialRevision: previous?.script.revision ?? previous?.script.initialRevision ?? '0.0.1', revision: target.revision, images: target.images, ...(live ? { initialImages: live } : {}) },
        refreshed: previous?.refreshed ?? false,
        polls: 0,
        failures: 0,
      });
    },
    setLiveImages(name, live) {
      const state = apps.get(name);
      if (!state) throw new Error(`fake Argo CD: no application ${name}; setApplication first`);
      state.live = live;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
