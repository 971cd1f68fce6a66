/**
 * A deploy preview: what Argo CD would apply for a published chart, computed with the real helm.
 * The chart is pulled from its OCI registry exactly as published (`helm pull`), rendered with
 * `helm template` and the environment's values files from inside the pulled chart (like an
 * Application's `helm.valueFiles`), validated against the Kubernetes schemas, and every container
 * image is checked to be pinned by digest, and by the digest that was just built.
 *
 *   const preview = await previewChart({ ociRef: 'oci://127.0.0.1:5000/charts/online-boutique', version: '0.1.1', plainHttp: true,
 *                                        valuesFiles: ['values-dev.yaml'], expectedDigests: { frontend: 'sha256:…' } });
 *   console.log(formatPreview(preview).join('\n'));   // preview.problems is empty when all is well
 *
 * Nothing here talks to a cluster; nothing imports from functions/ or cli/.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { HelmError, runHelm } from './helm.js';
import { containersOf, manifestProblems, parseManifests, podSpecOf, type Manifest } from './manifests.js';

export type PreviewOptions = {
  /** `oci://host[:port]/path/chart`, without the version. */
  ociRef: string;
  /** Chart version (the OCI tag). */
  version: string;
  /** The registry speaks plain HTTP (the local docker-registry). */
  plainHttp?: boolean;
  /** Values files, relative to the pulled chart (like Argo CD's `helm.valueFiles`) or absolute. */
  valuesFiles?: string[];
  /** Release namespace (default `default`) and name (default the chart's name). */
  namespace?: string;
  releaseName?: string;
  /**
   * Digests that were just built, by service: the Deployment (or container) of that name must run
   * `…@<digest>`. A service that the chart does not render is a problem too.
   */
  expectedDigests?: Record<string, string>;
  /** Count an image without a digest as a problem (default true). False still lists it in `unpinned`. */
  requireDigests?: boolean;
};

export type ChartPreview = {
  chart: { name: string; version: string; appVersion?: string };
  /** Rendered objects per kind, e.g. { Deployment: 12, Service: 11, … }. */
  kinds: Record<string, number>;
  /** Every container image (init containers included), sorted, without duplicates. */
  images: string[];
  /** Images not pinned by a sha256 digest. */
  unpinned: string[];
  /** Everything wrong, one line each: schema errors, unpinned images, digests that differ from the build. Empty means what Argo CD would apply is valid and pinned. */
  problems: string[];
  /** The rendered objects themselves. */
  manifests: Manifest[];
};

/** `repo@sha256:<64 hex>` or `repo:tag@sha256:<64 hex>`. */
const PINNED = /^[^\s@]+@sha256:[a-f0-9]{64}$/;

function digestOf(image: string): string | undefined {
  const at = image.lastIndexOf('@');
  return at === -1 ? undefined : image.slice(at + 1);
}

/** Pulls, renders and checks a published chart. Throws only when helm itself fails (pull or template); every other finding is in `problems`. */
export async function previewChart(options: PreviewOptions): Promise<ChartPreview> {
  const work = mkdtempSync(join(tmpdir(), 'baton-preview-'));
  try {
    const pull = ['pull', options.ociRef, '--version', options.version, '--untar', '--untardir', work, ...(options.plainHttp ? ['--plain-http'] : [])];
    await runHelm(pull, { check: true });
    const [chartName] = readdirSync(work);
    if (!chartName) throw new Error(`failed to preview ${options.ociRef}:${options.version}: helm pull left no chart`);
    const chartDir = join(work, chartName);
    const meta = parseYaml(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8'), { version: '1.1' }) as { name: string; version: string; appVersion?: string };

    const values: string[] = [];
    for (const file of options.valuesFiles ?? []) {
      const path = isAbsolute(file) ? file : join(chartDir, file);
      if (!existsSync(path)) throw new Error(`failed to preview ${options.ociRef}:${options.version}: values file ${file} is not in the chart`);
      values.push('-f', path);
    }
    const template = ['template', options.releaseName ?? meta.name, chartDir, '--namespace', options.namespace ?? 'default', ...values];
    const rendered = await runHelm(template, { check: true });
    const chart = { name: meta.name, version: meta.version, ...(meta.appVersion !== undefined ? { appVersion: String(meta.appVersion) } : {}) };
    return summarize(chart, parseManifests(rendered.stdout), options);
  } catch (error) {
    if (error instanceof HelmError) throw new Error(`failed to preview ${options.ociRef}:${options.version}: ${error.message}`, { cause: error });
    throw error;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The checks of previewChart on manifests already rendered. */
export function summarize(chart: ChartPreview['chart'], manifests: Manifest[], options: Pick<PreviewOptions, 'expectedDigests' | 'requireDigests'> = {}): ChartPreview {
  const kinds: Record<string, number> = {};
  for (const m of manifests) kinds[m.kind] = (kinds[m.kind] ?? 0) + 1;
  const problems = manifestProblems(manifests);

  const images = new Set<string>();
  for (const m of manifests) for (const c of containersOf(m)) if (typeof c.image === 'string') images.add(c.image);
  const sorted = [...images].sort();
  const unpinned = sorted.filter((image) => !PINNED.test(image));
  if (options.requireDigests !== false) for (const image of unpinned) problems.push(`image ${image} is not pinned by digest`);

  for (const [service, digest] of Object.entries(options.expectedDigests ?? {})) {
    // The workload named after the service; its main containers (init containers run other images).
    const containers = manifests.filter((m) => m.metadata?.name === service).flatMap((m) => (podSpecOf(m)?.containers ?? []) as { name: string; image: string }[]);
    if (!containers.length) {
      problems.push(`service ${service}: no workload named ${service} is rendered`);
      continue;
    }
    for (const c of containers) {
      if (digestOf(String(c.image)) !== digest) problems.push(`service ${service}: runs ${c.image}, not the built digest ${digest}`);
    }
  }
  return { chart, kinds, images: sorted, unpinned, problems, manifests };
}

/** A few human lines: the chart, the objects per kind, the images and whether they are pinned, then each problem. */
export function formatPreview(preview: ChartPreview): string[] {
  const kinds = Object.entries(preview.kinds)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, n]) => `${n} ${kind}`)
    .join(', ');
  const total = Object.values(preview.kinds).reduce((a, b) => a + b, 0);
  const lines = [
    `preview of ${preview.chart.name} ${preview.chart.version}${preview.chart.appVersion ? ` (app ${preview.chart.appVersion})` : ''}: ${total} objects: ${kinds}`,
    `images: ${preview.images.length}, ${preview.unpinned.length ? `${preview.unpinned.length} not pinned by digest` : 'all pinned by digest'}`,
  ];
  for (const image of preview.images) lines.push(`  ${image}`);
  lines.push(preview.problems.length ? `${preview.problems.length} problem(s):` : 'valid against the Kubernetes schemas; nothing was applied (preview only)');
  for (const p of preview.problems) lines.push(`  ${p}`);
  return lines;
}
