import { redactedError } from '../../shared/log/redact.js';

/**
 * A small Argo CD API client: the two calls deployWatch needs. `GET /api/v1/applications/{name}`
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

  private async get(application: string, verb: string, query = ''): Promise<ApplicationStatus> {
    const url = `${this.base}/api/v1/applications/${encodeURIComponent(application)}${query}`;
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        headers: { authorization: `Bearer ${this.token}`, accept: 'application/json' },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw redactedError(`failed to ${verb} Argo CD application ${application}`, error);
    }
    if (!response.ok) {
      const detail = (await response.text().catch(() => '')).slice(0, 200);
      throw new ArgoCdApiError(redactedError(`failed to ${verb} Argo CD application ${application}: HTTP ${response.status}`, detail || undefined).message, response.status);
    }
    return applicationStatus((await response.json()) as ApplicationJson);
  }
}
