import { bumpChartYaml } from './chartYaml.js';
import type { ImageUpdate } from './imageUpdate.js';
import { ImageUpdateError, commonTag, validateImageUpdate } from './imageUpdate.js';
import { DEFAULT_IMAGE_PATH, formatValuesPath, imagePathFor } from './valuesPath.js';
import type { ScalarEdit } from './yamlEdit.js';
import { YamlFile } from './yamlEdit.js';

/**
 * The chart bump as a pure text transform, shared by chartBump and `baton bump-chart`: set
 * each service's image repository, tag and digest in the values file, then patch-bump
 * `Chart.yaml`'s version and set its `appVersion`. When the values already hold every image
 * (a redelivery, a re-run) nothing changes, not even the version.
 */
export type ChartTexts = { chartYaml: string; values: string };

export type ChartEditOptions = {
  /** Values file name, for messages. Default `values.yaml`. */
  valuesFile?: string;
  /** Template of a service's image block; default `services.{service}.image`. */
  imagePath?: string;
  /** `appVersion` to set; default the tag the images share, else left alone. */
  appVersion?: string;
};

export type ChartEditResult = {
  texts: ChartTexts;
  changed: boolean;
  chart: string;
  /** The new version when changed, else the current one. */
  version: string;
  previousVersion: string;
};

export function imageEdits(values: string | YamlFile, images: readonly ImageUpdate[], options: ChartEditOptions = {}): ScalarEdit[] {
  const label = options.valuesFile ?? 'values.yaml';
  const file = typeof values === 'string' ? new YamlFile(values, label) : values;
  const edits: ScalarEdit[] = [];
  const seen = new Set<string>();
  for (const image of images) {
    validateImageUpdate(image);
    if (seen.has(image.service)) throw new ImageUpdateError(`service ${image.service} is given twice`);
    seen.add(image.service);
    const path = imagePathFor(options.imagePath ?? DEFAULT_IMAGE_PATH, image.service);
    if (!file.has(path)) {
      throw new ImageUpdateError(`unknown service "${image.service}": ${formatValuesPath(path)} not found in ${label}`);
    }
    if (image.repository !== undefined) edits.push({ path: [...path, 'repository'], value: image.repository });
    edits.push({ path: [...path, 'tag'], value: image.tag }, { path: [...path, 'digest'], value: image.digest });
  }
  return edits;
}

/** A service's image block as a values file holds it, unchecked: what a rollback writes back (an upstream tag may have no digest). */
export type ImageBlock = { service: string; repository: string; tag: string; digest: string };

/** The image blocks of `services` in a values file (those it has). */
export function imageBlocks(values: string, services: readonly string[], options: Pick<ChartEditOptions, 'imagePath' | 'valuesFile'> = {}): ImageBlock[] {
  const file = new YamlFile(values, options.valuesFile ?? 'values.yaml');
  return services.flatMap((service) => {
    const path = imagePathFor(options.imagePath ?? DEFAULT_IMAGE_PATH, service);
    const field = (name: string) => {
      const value = file.doc.getIn([...path, name]);
      return typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
    };
    return file.has(path) ? [{ service, repository: field('repository'), tag: field('tag'), digest: field('digest') }] : [];
  });
}

export function applyImagesToChart(texts: ChartTexts, images: readonly ImageUpdate[], options: ChartEditOptions = {}, restored: readonly ImageBlock[] = []): ChartEditResult {
  if (!images.length && !restored.length) throw new ImageUpdateError('no images given');
  const file = new YamlFile(texts.values, options.valuesFile ?? 'values.yaml');
  const restore = restored.flatMap((block) => {
    const path = imagePathFor(options.imagePath ?? DEFAULT_IMAGE_PATH, block.service);
    return [
      { path: [...path, 'repository'], value: block.repository },
      { path: [...path, 'tag'], value: block.tag },
      { path: [...path, 'digest'], value: block.digest },
    ];
  });
  const values = file.edit([...imageEdits(file, images, options), ...restore]);
  if (!values.changed) {
    const current = bumpChartYaml(texts.chartYaml, undefined);
    return { texts, changed: false, chart: current.name, version: current.previousVersion, previousVersion: current.previousVersion };
  }
  const chart = bumpChartYaml(texts.chartYaml, options.appVersion ?? (images.length ? commonTag(images) : undefined));
  return { texts: { chartYaml: chart.text, values: values.text }, changed: true, chart: chart.name, version: chart.version, previousVersion: chart.previousVersion };
}
