import semver from 'semver';
import { isScalar, parseDocument } from 'yaml';
import { editYamlScalars } from './yamlEdit.js';

// helm (and Argo CD) read Chart.yaml with Go's YAML 1.1 rules, where `1234567`, `0755` and
// `0b1010` are numbers; a numeric appVersion fails there with "cannot unmarshal number into Go
// struct field Metadata.appVersion of type string". Chart.yaml is read here the same way.
const HELM_YAML = { version: '1.1' } as const;

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
  return readMetadata(text, label, true);
}

function readMetadata(text: string, label: string, checkAppVersion: boolean): ChartMetadata {
  const doc = parseDocument(text, HELM_YAML);
  if (doc.errors.length) throw new ChartYamlError(`${label} is not valid YAML: ${doc.errors[0]!.message}`);
  const meta = doc.toJS() as Partial<ChartMetadata> | null;
  if (!meta || typeof meta !== 'object') throw new ChartYamlError(`${label} is not a mapping`);
  for (const field of ['apiVersion', 'name', 'version'] as const) {
    if (typeof meta[field] !== 'string' || !meta[field]) throw new ChartYamlError(`${label}: "${field}" is missing or not a string`);
  }
  if (checkAppVersion && meta.appVersion !== undefined && meta.appVersion !== null && typeof meta.appVersion !== 'string') {
    const node = doc.get('appVersion', true);
    const source = isScalar(node) && node.range ? text.slice(node.range[0], node.range[1]) : String(meta.appVersion);
    throw new ChartYamlError(`${label}: "appVersion" is read as a ${typeof meta.appVersion} (${source}), and helm and Argo CD refuse a chart whose appVersion is not a string; quote it: appVersion: "${source}"`);
  }
  if (!semver.valid(meta.version as string)) throw new ChartYamlError(`${label}: version "${meta.version}" is not semver (helm requires SemVer 2)`);
  return meta as ChartMetadata;
}

/** Patch-bumps `version` (1.2.3 → 1.2.4; a pre-release 1.3.0-rc.1 → 1.3.0) and sets `appVersion`. */
export function bumpChartYaml(text: string, appVersion: string | undefined, label = 'Chart.yaml'): { text: string; name: string; version: string; previousVersion: string } {
  // A new appVersion replaces the old one, so an unquoted numeric one is repaired, not refused.
  const meta = readMetadata(text, label, appVersion === undefined);
  const version = semver.inc(meta.version, 'patch');
  if (!version) throw new ChartYamlError(`${label}: cannot patch-bump version "${meta.version}"`);
  const edits = [{ path: ['version'], value: version }, ...(appVersion !== undefined ? [{ path: ['appVersion'], value: appVersion }] : [])];
  const edited = editYamlScalars(text, edits, label);
  const result = appVersion !== undefined ? quoteForHelm(edited.text, 'appVersion', appVersion) : edited.text;
  readChartMetadata(result, label);
  return { text: result, name: meta.name, version, previousVersion: meta.version };
}

/** Double-quotes a top-level scalar that YAML 1.1 (helm's reading) would not take as the string `value` (a short sha like 0b10110). */
function quoteForHelm(text: string, key: string, value: string): string {
  const node = parseDocument(text, HELM_YAML).get(key, true);
  if (!isScalar(node) || node.value === value || !node.range) return text;
  return `${text.slice(0, node.range[0])}${JSON.stringify(value)}${text.slice(node.range[1])}`;
}
