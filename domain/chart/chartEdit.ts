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

export function applyImagesToChart(texts: ChartTexts, images: readonly ImageUpdate[], options: ChartEditOptions = {}): ChartEditResult {
  if (!images.length) throw new ImageUpdateError('no images given');
  const file = new YamlFile(texts.values, options.valuesFile ?? 'values.yaml');
  const values = file.edit(imageEdits(file, images, options));
  if (!values.changed) {
    const current = bumpChartYaml(texts.chartYaml, undefined);
    return { texts, changed: false, chart: current.name, version: current.previousVersion, previousVersion: current.previousVersion };
  }
  const chart = bumpChartYaml(texts.chartYaml, options.appVersion ?? commonTag(images));
  return { texts: { chartYaml: chart.text, values: values.text }, changed: true, chart: chart.name, version: chart.version, previousVersion: chart.previousVersion };
}
