/**
 * Splits image and chart references: `host[:port]/path/name[:tag][@sha256:…]`, with an optional
 * `oci://` scheme (how Helm and Argo CD write chart references).
 */
export type ParsedReference = { host: string; repository: string; tag?: string; digest?: string };

export function parseReference(reference: string): ParsedReference {
  const withoutScheme = reference.replace(/^oci:\/\//, '');
  const [namePart, digest] = withoutScheme.split('@') as [string, string | undefined];
  const slash = namePart.indexOf('/');
  if (slash <= 0) throw new Error(`invalid reference "${reference}": expected host/repository`);
  const host = namePart.slice(0, slash);
  let repository = namePart.slice(slash + 1);
  let tag: string | undefined;
  const colon = repository.lastIndexOf(':');
  if (colon > -1) {
    tag = repository.slice(colon + 1);
    repository = repository.slice(0, colon);
  }
  if (!repository) throw new Error(`invalid reference "${reference}": empty repository`);
  return { host, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** `oci://host/path` + `chart` + `version` → `oci://host/path/chart:version`. */
export function chartReference(registry: string, chart: string, version: string): string {
  const base = registry.startsWith('oci://') ? registry : `oci://${registry}`;
  return `${base.replace(/\/+$/, '')}/${chart}:${version}`;
}
