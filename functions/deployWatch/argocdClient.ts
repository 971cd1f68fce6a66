import { redactedError } from '../../shared/log/redact.js';

/**
 * A small Argo CD API client: the calls deployWatch needs. `GET /api/v1/applications/{name}`
 * returns the Application; with `?refresh=normal` Argo CD also re-reads its sources at once
 * instead of at its next poll (2–3 minutes). Authenticated with a bearer token
 * (`ARGOCD_AUTH_TOKEN`, the name the argocd CLI uses); the token never reaches an error.
 */
export type ApplicationStatus = {
  /** `Synced`, `OutOfSync` or `Unknown`. */
  sync: string;
  /** `Healthy`, `Progressing`, `Degraded`, `Suspended`, `Missing` or `Unknown`. */
  health: string;
  /** Revision the Application is synced to (for a Helm chart source, the chart version). */
  revision?: string;
  /** Every source's revision, for multi-source Applications. */
  revisions?: string[];
  /** Phase of the last sync operation: `Running`, `Succeeded`, `Failed`, `Error`, `Terminating`. */
  operationPhase?: string;
  /** Revision the last sync operation targeted. */
  operationRevision?: string;
  /** Health or operation message, for people. */
  message?: string;
};

export class ArgoCdApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ArgoCdApiError';
  }

  /** Auth and not-found errors do not heal by retrying. */
  get permanent(): boolean {
    return this.status === 401 || this.status === 403 || this.status === 404;
  }
}

type ApplicationJson = {
  status?: {
    sync?: { status?: string; revision?: string; revisions?: string[] };
    health?: { status?: string; message?: string };
    operationState?: { phase?: string; message?: string; syncResult?: { revision?: string; revisions?: string[] } };
  };
};

export function applicationStatus(app: ApplicationJson): ApplicationStatus {
  const status = app.status ?? {};
  const operation = status.operationState;
  return {
    sync: status.sync?.status ?? 'Unknown',
    health: status.health?.status ?? 'Unknown',
    ...(status.sync?.revision ? { revision: status.sync.revision } : {}),
    ...(status.sync?.revisions?.length ? { revisions: status.sync.revisions } : {}),
    ...(operation?.phase ? { operationPhase: operation.phase } : {}),
    ...(operation?.syncResult?.revision ? { operationRevision: operation.syncResult.revision } : {}),
    ...(status.health?.message || operation?.message ? { message: status.health?.message ?? operation?.message } : {}),
  };
}

export type ArgoCdClientOptions = { fetch?: typeof fetch; requestTimeoutMs?: number };

/** `v1alpha1ResourceRef`: identifies one live Kubernetes object. */
export type ResourceRef = { group?: string; version?: string; kind?: string; namespace?: string; name?: string; uid?: string };

/**
 * `v1alpha1ResourceNode` (argo-cd `assets/swagger.json`): a live object of the Application and
 * its children. The API embeds the ResourceRef inline (Go `json:",inline"`, as the UI's
 * `ResourceNode extends ResourceRef` reads it); the swagger document draws it as a nested
 * `resourceRef`, so both forms are read. For a Pod, `images` are its containers' images as the
 * spec names them, and `networkingInfo.labels` its labels.
 */
export type ResourceNode = ResourceRef & {
  parentRefs?: ResourceRef[];
  info?: Array<{ name?: string; value?: string }>;
  networkingInfo?: { labels?: Record<string, string>; targetLabels?: Record<string, string>; targetRefs?: ResourceRef[]; externalURLs?: string[] };
  images?: string[];
  health?: { status?: string; message?: string };
  resourceVersion?: string;
  createdAt?: string;
};

/** `v1alpha1ApplicationTree`: the Application's live objects (`nodes`), plus orphans when the project asks for them. */
export type ApplicationTree = { nodes: ResourceNode[]; orphanedNodes: ResourceNode[] };

type ResourceNodeJson = ResourceNode & { resourceRef?: ResourceRef };

function resourceNode(node: ResourceNodeJson): ResourceNode {
  const { resourceRef, ...rest } = node;
  return resourceRef ? { ...resourceRef, ...rest } : rest;
}

export function applicationTree(json: { nodes?: ResourceNodeJson[] | null; orphanedNodes?: ResourceNodeJson[] | null }): ApplicationTree {
  return { nodes: (json.nodes ?? []).map(resourceNode), orphanedNodes: (json.orphanedNodes ?? []).map(resourceNode) };
}

export class ArgoCdClient {
  private readonly base: string;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;

  constructor(
    baseUrl: string,
    private readonly token: string,
    options: ArgoCdClientOptions = {},
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? fetch;
    this.timeoutMs = options.requestTimeoutMs ?? 15_000;
  }

  /** Asks Argo CD to re-read the Application's sources now, and returns its status. */
  refresh(application: string): Promise<ApplicationStatus> {
    return this.get(application, 'refresh', '?refresh=normal');
  }

  status(application: string): Promise<ApplicationStatus> {
    return this.get(application, 'read');
  }

  /**
   * The Application's live objects (`GET /api/v1/applications/{name}/resource-tree`), with the
   * images each Pod runs: what `liveImagesMatch` compares with the release.
   */
  async resourceTree(application: string): Promise<ApplicationTree> {
    const tree = await this.getJson<Parameters<typeof applicationTree>[0]>(`${encodeURIComponent(application)}/resource-tree`, `read the resource tree of Argo CD application ${application}`);
    return applicationTree(tree);
  }

  private async get(application: string, verb: string, query = ''): Promise<ApplicationStatus> {
    return applicationStatus(await this.getJson<ApplicationJson>(`${encodeURIComponent(application)}${query}`, `${verb} Argo CD application ${application}`));
  }

  /** GET `/api/v1/applications/<path>` as JSON; errors say `failed to <what>`, with the token redacted. */
  private async getJson<T>(path: string, what: string): Promise<T> {
    const url = `${this.base}/api/v1/applications/${path}`;
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        headers: { authorization: `Bearer ${this.token}`, accept: 'application/json' },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw redactedError(`failed to ${what}`, error);
    }
    if (!response.ok) {
      const detail = (await response.text().catch(() => '')).slice(0, 200);
      throw new ArgoCdApiError(redactedError(`failed to ${what}: HTTP ${response.status}`, detail || undefined).message, response.status);
    }
    return (await response.json()) as T;
  }
}
