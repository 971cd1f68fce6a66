/**
 * One service's new image, as chartBump writes it into the chart: the repository, a tag for
 * people to read and the digest the chart pins (DESIGN.md, "Deploy by digest").
 */
export type ImageUpdate = {
  service: string;
  /** Image repository without tag or digest; undefined keeps the one in the values. */
  repository?: string;
  tag: string;
  digest: string;
};

export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;
/** The OCI distribution spec's tag grammar. */
export const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const SERVICE_PATTERN = /^[a-z0-9][a-z0-9-]*$/;

export class ImageUpdateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageUpdateError';
  }
}

export function validateImageUpdate(update: ImageUpdate): ImageUpdate {
  if (!SERVICE_PATTERN.test(update.service)) throw new ImageUpdateError(`invalid service name "${update.service}": lower-case letters, digits and dashes`);
  if (!TAG_PATTERN.test(update.tag)) throw new ImageUpdateError(`invalid tag "${update.tag}" for service ${update.service}: expected [A-Za-z0-9_][A-Za-z0-9._-]{0,127}`);
  if (!DIGEST_PATTERN.test(update.digest)) throw new ImageUpdateError(`malformed digest "${update.digest}" for service ${update.service}: expected sha256:<64 lower-case hex>`);
  if (update.repository !== undefined && !/^[^\s:@]+(:\d+)?(\/[^\s:@]+)+$/.test(update.repository)) {
    throw new ImageUpdateError(`invalid image repository "${update.repository}" for service ${update.service}: expected host/path without tag or digest`);
  }
  return update;
}

/** Parses the CLI's `<service>=<tag>@sha256:<digest>` (optionally `<service>=<repository>:<tag>@…`). */
export function parseImageFlag(flag: string): ImageUpdate {
  const match = /^([^=]+)=(.+)@([^@]+)$/.exec(flag);
  if (!match) throw new ImageUpdateError(`invalid --image "${flag}": expected <service>=<tag>@sha256:<digest>`);
  const [, service, reference, digest] = match as unknown as [string, string, string, string];
  const colon = reference.lastIndexOf(':');
  const slash = reference.lastIndexOf('/');
  const withRepository = slash > -1 && colon > slash;
  const update: ImageUpdate = withRepository
    ? { service, repository: reference.slice(0, colon), tag: reference.slice(colon + 1), digest }
    : { service, tag: reference, digest };
  return validateImageUpdate(update);
}

/** The tag every image shares (one run builds one commit), or undefined when they differ. */
export function commonTag(images: readonly ImageUpdate[]): string | undefined {
  const tags = new Set(images.map((image) => image.tag));
  return tags.size === 1 ? images[0]!.tag : undefined;
}
