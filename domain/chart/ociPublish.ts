import type { OciRegistry } from '../../shared/oci/registryClient.js';
import { sha256Digest } from '../../shared/oci/registryClient.js';
import type { ChartMetadata } from './chartYaml.js';
import type { PackagedChart } from './package.js';

/**
 * Pushes a packaged chart to an OCI registry the way `helm push` does (Helm 3.8+; Artifact
 * Registry keeps charts in Docker-format repositories): an OCI image manifest whose config is
 * the chart's metadata as JSON and whose single layer is the `.tgz`, tagged with the chart
 * version. Nothing in it carries a timestamp (Helm adds `org.opencontainers.image.created`), so
 * the same chart always gets the same manifest digest and a re-publish is a no-op.
 */
export const HELM_CONFIG_MEDIA_TYPE = 'application/vnd.cncf.helm.config.v1+json';
export const HELM_CHART_LAYER_MEDIA_TYPE = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';
export const OCI_MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';

export type PublishedChart = {
  /** `oci://host/path/chart:version`. */
  ociRef: string;
  /** Repository inside the registry, `path/chart`. */
  repository: string;
  tag: string;
  manifestDigest: string;
  configDigest: string;
  layerDigest: string;
  /** The registry already held exactly this chart under the tag. */
  alreadyPublished: boolean;
};

export class ChartVersionConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChartVersionConflictError';
  }
}

/** `oci://host[:port]/path` → host and repository path (the path may be empty). */
export function parseChartRegistry(registry: string): { host: string; path: string } {
  const withoutScheme = registry.replace(/^oci:\/\//, '').replace(/\/+$/, '');
  const slash = withoutScheme.indexOf('/');
  const host = slash === -1 ? withoutScheme : withoutScheme.slice(0, slash);
  if (!host) throw new Error(`invalid chart registry "${registry}": expected oci://host/path`);
  return { host, path: slash === -1 ? '' : withoutScheme.slice(slash + 1) };
}

/** OCI tags cannot hold `+`; Helm writes SemVer build metadata with `_` instead. */
export function chartTag(version: string): string {
  return version.replace(/\+/g, '_');
}

// The field order of Helm's `chart.Metadata` Go struct, which `json.Marshal` follows.
const METADATA_FIELDS = [
  'name', 'home', 'sources', 'version', 'description', 'keywords', 'maintainers', 'icon', 'apiVersion',
  'condition', 'tags', 'appVersion', 'deprecated', 'annotations', 'kubeVersion', 'dependencies', 'type',
] as const;

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '' || value === false || (Array.isArray(value) && !value.length) || (typeof value === 'object' && !Array.isArray(value) && !Object.keys(value as object).length);
}

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value && typeof value === 'object') return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortedKeys((value as Record<string, unknown>)[key])]));
  return value;
}

/** The config blob: Chart.yaml's metadata as Helm marshals it (its fields, its order, no empties). */
export function helmConfigJson(metadata: ChartMetadata): Buffer {
  const config: Record<string, unknown> = {};
  for (const field of METADATA_FIELDS) {
    const value = metadata[field];
    if (!isEmpty(value)) config[field] = field === 'annotations' ? sortedKeys(value) : value;
  }
  return Buffer.from(JSON.stringify(config));
}

export function helmManifest(chart: PackagedChart, config: Buffer): Buffer {
  const annotations: Record<string, string> = {
    ...(chart.metadata.description ? { 'org.opencontainers.image.description': chart.metadata.description } : {}),
    'org.opencontainers.image.title': chart.name,
    'org.opencontainers.image.version': chart.version,
  };
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST_MEDIA_TYPE,
      config: { mediaType: HELM_CONFIG_MEDIA_TYPE, digest: sha256Digest(config), size: config.length },
      layers: [{ mediaType: HELM_CHART_LAYER_MEDIA_TYPE, digest: sha256Digest(chart.bytes), size: chart.bytes.length }],
      annotations,
    }),
  );
}

/**
 * Publishes `chart` to `oci://<registry host>/<path>/<chart name>:<version>`. A tag that already
 * holds this exact chart is left alone; a tag holding a different chart is a conflict (chart
 * versions are immutable once published), never overwritten.
 */
export async function publishChart(registry: OciRegistry, registryPath: string, chart: PackagedChart): Promise<PublishedChart> {
  const repository = registryPath ? `${registryPath}/${chart.name}` : chart.name;
  const tag = chartTag(chart.version);
  const ociRef = `oci://${registry.host}/${repository}:${tag}`;
  const config = helmConfigJson(chart.metadata);
  const manifest = helmManifest(chart, config);
  const manifestDigest = sha256Digest(manifest);
  // The tag check and both blob uploads are independent: run them together.
  const [existing, configDigest, layerDigest] = await Promise.all([
    registry.manifestDigest(repository, tag),
    registry.pushBlob(repository, config),
    registry.pushBlob(repository, chart.bytes),
  ]);
  const result = { ociRef, repository, tag, manifestDigest, configDigest, layerDigest };
  if (existing === manifestDigest) return { ...result, alreadyPublished: true };
  if (existing) {
    throw new ChartVersionConflictError(`failed to publish ${ociRef}: the registry already holds a different chart under this version (${existing}, this one is ${manifestDigest})`);
  }
  const pushed = await registry.putManifest(repository, tag, manifest, OCI_MANIFEST_MEDIA_TYPE);
  if (pushed !== manifestDigest) throw new Error(`failed to publish ${ociRef}: registry reports digest ${pushed}, expected ${manifestDigest}`);
  return { ...result, alreadyPublished: false };
}
