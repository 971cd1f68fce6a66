import semver from 'semver';
import { parse } from 'yaml';
import { editYamlScalars } from './yamlEdit.js';

/**
 * `Chart.yaml`: read its metadata, and patch-bump `version` while setting `appVersion`, with
 * the same byte-preserving edit as the values file.
 */
export type ChartMetadata = {
  apiVersion: string;
  name: string;
  version: string;
  appVersion?: string;
  description?: string;
  type?: string;
  [field: string]: unknown;
};

export class ChartYamlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChartYamlError';
  }
}

export function readChartMetadata(text: string, label = 'Chart.yaml'): ChartMetadata {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    throw new ChartYamlError(`${label} is not valid YAML: ${(error as Error).message}`);
  }
  const meta = raw as Partial<ChartMetadata> | null;
  if (!meta || typeof meta !== 'object') throw new ChartYamlError(`${label} is not a mapping`);
  for (const field of ['apiVersion', 'name', 'version'] as const) {
    if (typeof meta[field] !== 'string' || !meta[field]) throw new ChartYamlError(`${label}: "${field}" is missing or not a string`);
  }
  if (!semver.valid(meta.version as string)) throw new ChartYamlError(`${label}: version "${meta.version}" is not semver (helm requires SemVer 2)`);
  return meta as ChartMetadata;
}

/** Patch-bumps `version` (1.2.3 → 1.2.4; a pre-release 1.3.0-rc.1 → 1.3.0) and sets `appVersion`. */
export function bumpChartYaml(text: string, appVersion: string | undefined, label = 'Chart.yaml'): { text: string; name: string; version: string; previousVersion: string } {
  const meta = readChartMetadata(text, label);
  const version = semver.inc(meta.version, 'patch');
  if (!version) throw new ChartYamlError(`${label}: cannot patch-bump version "${meta.version}"`);
  const edits = [{ path: ['version'], value: version }, ...(appVersion !== undefined ? [{ path: ['appVersion'], value: appVersion }] : [])];
  const edited = editYamlScalars(text, edits, label);
  return { text: edited.text, name: meta.name, version, previousVersion: meta.version };
}
