/**
 * Does the cluster run the release? "Synced" only says Argo CD applied the manifests; the
 * proof is in the live Pods. Argo CD's resource tree (`GET /api/v1/applications/{name}/resource-tree`)
 * lists every Pod of the Application with `images`: the images of its init and app containers
 * as the Pod spec names them (`controller/cache/info.go`, `populatePodInfo`), so with a chart
 * that pins digests they read `repository@sha256:…` (or `repository:tag@sha256:…`).
 *
 * A Pod belongs to a service by the chart's selector labels (`networkingInfo.labels`:
 * `app.kubernetes.io/component`, else `app`), else by its ReplicaSet's Deployment name. Pods of
 * services outside `expected` (Redis, the load generator) are ignored.
 *
 * - `missing`: a service of the release with no Pod running its digest (not rolled out, or
 *   its Pods are gone);
 * - `stale`: a Pod of a release service that runs none of the release's digest: an old
 *   ReplicaSet still draining, a Pod still terminating, or an image pinned by tag only.
 *
 * `ok` only when both are empty: every Pod of every service runs exactly what was released.
 */
export type TreeResourceRef = { group?: string; version?: string; kind?: string; namespace?: string; name?: string; uid?: string };

/** The parts of Argo CD's `v1alpha1ResourceNode` this reads. */
export type TreeNode = TreeResourceRef & {
  parentRefs?: TreeResourceRef[];
  images?: string[];
  info?: Array<{ name?: string; value?: string }>;
  networkingInfo?: { labels?: Record<string, string> };
  health?: { status?: string; message?: string };
};

export type LiveTree = { nodes?: TreeNode[] };

export type StalePod = { service: string; pod: string; images: string[]; expected: string };
export type LiveImagesMatch = {
  ok: boolean;
  missing: Array<{ service: string; digest: string }>;
  stale: StalePod[];
  /** Pods seen per release service. */
  pods: Record<string, number>;
};

export const SERVICE_LABELS = ['app.kubernetes.io/component', 'app'] as const;
const DIGEST_SUFFIX = /@(sha256:[0-9a-f]{64})$/;

/** The digest an image reference pins, or undefined for a tag-only reference. */
export function imageDigest(image: string): string | undefined {
  return DIGEST_SUFFIX.exec(image)?.[1];
}

/** The service a Pod node belongs to: its selector label, else its ReplicaSet's Deployment (`<deployment>-<pod-template-hash>`). */
export function serviceOfPod(pod: TreeNode): string | undefined {
  const labels = pod.networkingInfo?.labels ?? {};
  for (const label of SERVICE_LABELS) if (labels[label]) return labels[label];
  const replicaSet = pod.parentRefs?.find((ref) => ref.kind === 'ReplicaSet')?.name;
  return replicaSet?.replace(/-[a-z0-9]+$/, '');
}

export function liveImagesMatch(tree: LiveTree, expected: Readonly<Record<string, string>>, options: { serviceOf?: (pod: TreeNode) => string | undefined } = {}): LiveImagesMatch {
  const serviceOf = options.serviceOf ?? serviceOfPod;
  const pods: Record<string, number> = Object.fromEntries(Object.keys(expected).map((service) => [service, 0]));
  const running = new Set<string>();
  const stale: StalePod[] = [];
  for (const node of tree.nodes ?? []) {
    if (node.kind !== 'Pod') continue;
    const service = serviceOf(node);
    if (service === undefined || !Object.hasOwn(expected, service)) continue;
    pods[service] = (pods[service] ?? 0) + 1;
    const digest = expected[service]!;
    const images = node.images ?? [];
    if (images.some((image) => imageDigest(image) === digest)) running.add(service);
    else stale.push({ service, pod: node.name ?? '(unnamed)', images, expected: digest });
  }
  const missing = Object.entries(expected)
    .filter(([service]) => !running.has(service))
    .map(([service, digest]) => ({ service, digest }));
  return { ok: missing.length === 0 && stale.length === 0, missing, stale, pods };
}

/** One line for logs and Slack, e.g. `frontend: no pod runs sha256:ab12…; 1 stale pod (frontend-7d9f-x2: …@sha256:99aa…)`. */
export function describeLiveImages(match: LiveImagesMatch): string {
  if (match.ok) return 'every pod runs the release';
  const short = (digest: string) => `${digest.slice(0, 19)}…`;
  const parts = [
    ...match.missing.map(({ service, digest }) => `${service}: no pod runs ${short(digest)}`),
    ...match.stale.map(({ service, pod, images }) => `${service}: pod ${pod} runs ${images.map((image) => (imageDigest(image) ? `${image.split('@')[0]}@${short(imageDigest(image)!)}` : image)).join(', ') || 'no image'}`),
  ];
  return parts.join('; ');
}
