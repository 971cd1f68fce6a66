import type { ReleaseImage } from '../../shared/contracts/index.js';

/**
 * A run's release (issue #15): the images it built, plus, for every service it did not build,
 * the image of the first environment's latest release, marked with the run that built it. The
 * mark is what keeps a service from moving back: chartBump writes a kept image only where
 * nothing newer runs (see `domain/environments/release.ts` for the rules on whole releases).
 */
export function runRelease(
  run: { runId: string; services: readonly string[]; builds: Readonly<Record<string, { image?: { repository: string; tag: string; digest: string } }>> },
  previous: { runId: string; order: string; images: readonly ReleaseImage[] } | undefined,
): ReleaseImage[] {
  const built = run.services.flatMap((service) => {
    const image = run.builds[service]?.image;
    return image ? [{ service, repository: image.repository, tag: image.tag, digest: image.digest }] : [];
  });
  const kept = (previous?.images ?? [])
    .filter((image) => !built.some((own) => own.service === image.service))
    .map((image) => ({ ...image, builtBy: image.builtBy ?? { runId: previous!.runId, order: previous!.order } }));
  return [...built, ...kept].sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
}

/** service → digest, the shape the pure promotion rules and `--json` use. */
export function releaseDigests(images: readonly Pick<ReleaseImage, 'service' | 'digest'>[]): Record<string, string> {
  return Object.fromEntries(images.map((image) => [image.service, image.digest]));
}
