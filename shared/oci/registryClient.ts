import { createHash } from 'node:crypto';
import { redactedError } from '../log/redact.js';

/**
 * A small client for the OCI distribution API (what Artifact Registry and Debian's
 * docker-registry both speak): resolve a tag to its manifest digest, read manifests and blobs,
 * and push blobs and manifests. It follows the registry's auth challenge: Basic, or Bearer
 * through the token endpoint the registry names, with the credentials given (Artifact Registry:
 * user `oauth2accesstoken`, password an OAuth access token). Credentials never reach an error.
 */
export type RegistryCredentials = { username: string; password: string };

export type RegistryOptions = {
  /** Credentials, fetched per request burst (access tokens expire). Undefined: anonymous. */
  credentials?: () => Promise<RegistryCredentials | undefined>;
  /** Plain HTTP. Default: on for loopback hosts (a local docker-registry), off elsewhere. */
  plainHttp?: boolean;
  fetch?: typeof fetch;
};

export type Manifest = { digest: string; mediaType: string; bytes: Buffer; json: Record<string, unknown> };

export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];

export function sha256Digest(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function isLoopbackHost(host: string): boolean {
  const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return name === 'localhost' || name === '::1' || /^127\./.test(name);
}

export class OciRegistry {
  private readonly base: string;
  private readonly fetchImpl: typeof fetch;
  private readonly tokens = new Map<string, string>();

  constructor(
    readonly host: string,
    private readonly options: RegistryOptions = {},
  ) {
    const plain = options.plainHttp ?? isLoopbackHost(host);
    this.base = `${plain ? 'http' : 'https'}://${host}`;
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** The digest the registry holds for `reference` (a tag or digest), or undefined if it has none. */
  async manifestDigest(repository: string, reference: string): Promise<string | undefined> {
    const response = await this.request('HEAD', repository, `/v2/${repository}/manifests/${reference}`, { accept: MANIFEST_MEDIA_TYPES.join(', ') }, 'pull');
    if (response.status === 404) return undefined;
    if (!response.ok) throw new Error(`failed to resolve ${this.host}/${repository}:${reference}: HTTP ${response.status}`);
    const digest = response.headers.get('docker-content-digest');
    if (digest) return digest;
    // Some registries omit the header on HEAD; the digest is then the hash of the body.
    return (await this.getManifest(repository, reference))?.digest;
  }

  async getManifest(repository: string, reference: string): Promise<Manifest | undefined> {
    const response = await this.request('GET', repository, `/v2/${repository}/manifests/${reference}`, { accept: MANIFEST_MEDIA_TYPES.join(', ') }, 'pull');
    if (response.status === 404) return undefined;
    if (!response.ok) throw new Error(`failed to read manifest ${this.host}/${repository}:${reference}: HTTP ${response.status}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    const json = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    return {
      digest: response.headers.get('docker-content-digest') ?? sha256Digest(bytes),
      mediaType: response.headers.get('content-type') ?? String(json.mediaType ?? ''),
      bytes,
      json,
    };
  }

  async getBlob(repository: string, digest: string): Promise<Buffer> {
    const response = await this.request('GET', repository, `/v2/${repository}/blobs/${digest}`, {}, 'pull');
    if (!response.ok) throw new Error(`failed to read blob ${digest} from ${this.host}/${repository}: HTTP ${response.status}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    if (sha256Digest(bytes) !== digest) throw new Error(`blob ${digest} from ${this.host}/${repository} does not match its digest`);
    return bytes;
  }

  /** Uploads a blob (monolithic POST then PUT) unless the registry already has it. Returns its digest. */
  async pushBlob(repository: string, data: Buffer): Promise<string> {
    const digest = sha256Digest(data);
    const exists = await this.request('HEAD', repository, `/v2/${repository}/blobs/${digest}`, {}, 'push,pull');
    if (exists.ok) return digest;
    const started = await this.request('POST', repository, `/v2/${repository}/blobs/uploads/`, { 'content-length': '0' }, 'push,pull');
    if (started.status !== 202) throw new Error(`failed to start blob upload to ${this.host}/${repository}: HTTP ${started.status}`);
    const location = started.headers.get('location');
    if (!location) throw new Error(`failed to start blob upload to ${this.host}/${repository}: no Location header`);
    // Location is opaque: it may be relative and may already carry a query string.
    const uploadUrl = new URL(location, this.base);
    uploadUrl.searchParams.set('digest', digest);
    const put = await this.request('PUT', repository, uploadUrl.toString(), { 'content-type': 'application/octet-stream', 'content-length': String(data.length) }, 'push,pull', data);
    if (put.status !== 201) throw new Error(`failed to upload blob ${digest} to ${this.host}/${repository}: HTTP ${put.status}`);
    return digest;
  }

  /** Puts a manifest under `reference` (a tag) and returns the digest the registry reports. */
  async putManifest(repository: string, reference: string, manifest: Buffer, mediaType: string): Promise<string> {
    const response = await this.request('PUT', repository, `/v2/${repository}/manifests/${reference}`, { 'content-type': mediaType }, 'push,pull', manifest);
    if (response.status !== 201) {
      const detail = await response.text().catch(() => '');
      throw redactedError(`failed to push manifest ${this.host}/${repository}:${reference}: HTTP ${response.status}`, detail.slice(0, 300) || undefined);
    }
    return response.headers.get('docker-content-digest') ?? sha256Digest(manifest);
  }

  private async request(method: string, repository: string, pathOrUrl: string, headers: Record<string, string>, actions: string, body?: Buffer): Promise<Response> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.base}${pathOrUrl}`;
    const scope = `repository:${repository}:${actions}`;
    const send = (authorization?: string) =>
      this.fetchImpl(url, {
        method,
        headers: { ...headers, ...(authorization ? { authorization } : {}) },
        ...(body ? { body: new Uint8Array(body) } : {}),
      }).catch((error: unknown) => {
        throw redactedError(`failed to reach registry ${this.host}`, error);
      });
    const cached = this.tokens.get(scope);
    let response = await send(cached);
    if (response.status !== 401) return response;
    const authorization = await this.authorize(response.headers.get('www-authenticate') ?? '', scope);
    if (!authorization) return response;
    this.tokens.set(scope, authorization);
    response = await send(authorization);
    return response;
  }

  /** Answers a 401 challenge: Basic with the credentials, or a Bearer token from the realm. */
  private async authorize(challenge: string, scope: string): Promise<string | undefined> {
    const credentials = await this.options.credentials?.();
    const basic = credentials ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` : undefined;
    if (/^basic/i.test(challenge)) return basic;
    if (!/^bearer/i.test(challenge)) return undefined;
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((match) => [match[1]!, match[2]!]));
    if (!params.realm) return undefined;
    const tokenUrl = new URL(params.realm);
    if (params.service) tokenUrl.searchParams.set('service', params.service);
    tokenUrl.searchParams.set('scope', params.scope ?? scope);
    const response = await this.fetchImpl(tokenUrl, { headers: basic ? { authorization: basic } : {} }).catch((error: unknown) => {
      throw redactedError(`failed to get a registry token from ${tokenUrl.host}`, error);
    });
    if (!response.ok) throw new Error(`failed to get a registry token from ${tokenUrl.host}: HTTP ${response.status}`);
    const body = (await response.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    return token ? `Bearer ${token}` : undefined;
  }
}
