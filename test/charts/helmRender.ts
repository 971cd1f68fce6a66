// Test helpers for the charts: build scripts/helm-render (Go text/template +
// sprig v3, the engine helm uses), render a chart with values, parse and
// validate the manifests. No helm, no cluster, no network.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Secret } from 'kubernetes-models/v1/Secret';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';

/** Jest runs from the repository root. */
export const repoRoot = process.cwd();
export const chartDir = path.join(repoRoot, 'charts', 'online-boutique');

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

/** Environments with a values-<env>.yaml in the chart; "default" is values.yaml alone. */
export const ENVS = ['default', 'poc', 'prod'] as const;
export type Env = (typeof ENVS)[number];

export const APT_HINT = 'apt-get install -y golang-go golang-github-masterminds-sprig-dev';

// A loosely typed manifest: tests read nested fields freely.
 
export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: any; [key: string]: any };

export interface Renderer {
  bin: string;
  cleanup(): void;
}

/**
 * Builds helm-render into a fresh temp dir. Fails (never skips) when Go or
 * Debian's sprig sources are missing, with the packages CI must install.
 */
export function buildRenderer(): Renderer {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0) {
    throw new Error(`Go is required to render the charts without helm, but 'go' was not found. Install it with: ${APT_HINT}`);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'baton-helm-render-'));
  const bin = path.join(dir, 'helm-render');
  const res = spawnSync('bash', [path.join(repoRoot, 'scripts', 'helm-render', 'build.sh'), bin], {
    encoding: 'utf8',
    // A shared build cache makes the second and later builds take about a second.
    env: { ...process.env, GOCACHE: process.env.GOCACHE ?? path.join(os.tmpdir(), 'baton-helm-render-gocache') },
  });
  if (res.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`building scripts/helm-render failed (${APT_HINT}):\n${res.stderr}${res.stdout}`);
  }
  return { bin, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RenderOptions {
  chart?: string;
  valueFiles?: string[];
  set?: string[];
  namespace?: string;
  releaseName?: string;
}

export interface RenderResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function renderRaw(renderer: Renderer, opts: RenderOptions = {}): RenderResult {
  const args = ['--chart', opts.chart ?? chartDir, '--namespace', opts.namespace ?? 'boutique', '--release-name', opts.releaseName ?? 'online-boutique'];
  for (const f of opts.valueFiles ?? []) args.push('-f', f);
  for (const s of opts.set ?? []) args.push('--set', s);
  const res = spawnSync(renderer.bin, args, { encoding: 'utf8' });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** Renders and parses; throws with the renderer's error when rendering fails. */
export function render(renderer: Renderer, opts: RenderOptions = {}): Manifest[] {
  const res = renderRaw(renderer, opts);
  if (res.status !== 0) throw new Error(`helm-render failed: ${res.stderr}`);
  return parseManifests(res.stdout);
}

export function envValueFiles(env: Env): string[] {
  return env === 'default' ? [] : [path.join(chartDir, `values-${env}.yaml`)];
}

export function envNamespace(env: Env): string {
  return env === 'prod' ? 'boutique' : 'boutique-poc';
}

/** Parses a multi-document YAML stream; YAML errors fail the test. Empty documents are dropped. */
export function parseManifests(text: string): Manifest[] {
  const out: Manifest[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`invalid YAML in rendered output: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`rendered document is not a mapping: ${JSON.stringify(value)}`);
    out.push(value as Manifest);
  }
  return out;
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

// ---------------------------------------------------------------------------
// Validation

type Validator = (doc: Manifest) => void;

/** Kinds from kubernetes-models (OpenAPI schemas of Kubernetes itself). */
const MODEL_VALIDATORS: Record<string, Validator> = {
  'apps/v1/Deployment': (d) => new Deployment(d as never).validate(),
  'v1/Service': (d) => new Service(d as never).validate(),
  'v1/ServiceAccount': (d) => new ServiceAccount(d as never).validate(),
  'v1/Secret': (d) => new Secret(d as never).validate(),
  'autoscaling/v2/HorizontalPodAutoscaler': (d) => new HorizontalPodAutoscaler(d as never).validate(),
  'policy/v1/PodDisruptionBudget': (d) => new PodDisruptionBudget(d as never).validate(),
  'batch/v1/CronJob': (d) => new CronJob(d as never).validate(),
};

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function need(cond: unknown, msg: string): void {
  if (!cond) throw new Error(msg);
}

/**
 * CRDs without a kubernetes-models class: check apiVersion, kind and the
 * fields the controllers require (from the CRDs' own schemas).
 */
const CRD_VALIDATORS: Record<string, Validator> = {
  'gateway.networking.k8s.io/v1/Gateway': (d) => {
    need(typeof d.spec?.gatewayClassName === 'string' && d.spec.gatewayClassName, 'Gateway: spec.gatewayClassName is required');
    need(Array.isArray(d.spec?.listeners) && d.spec.listeners.length > 0, 'Gateway: spec.listeners must be a non-empty list');
    for (const l of d.spec.listeners) {
      need(DNS_LABEL.test(l.name), `Gateway: listener name ${l.name} is not a DNS label`);
      need(['HTTP', 'HTTPS', 'TLS', 'TCP', 'UDP'].includes(l.protocol), `Gateway: listener protocol ${l.protocol}`);
      need(Number.isInteger(l.port) && l.port > 0 && l.port < 65536, `Gateway: listener port ${l.port}`);
    }
  },
  'gateway.networking.k8s.io/v1/HTTPRoute': (d) => {
    need(Array.isArray(d.spec?.parentRefs) && d.spec.parentRefs.length > 0, 'HTTPRoute: spec.parentRefs is required');
    for (const p of d.spec.parentRefs) need(typeof p.name === 'string' && p.name, 'HTTPRoute: parentRefs[].name is required');
    need(Array.isArray(d.spec?.rules) && d.spec.rules.length > 0, 'HTTPRoute: spec.rules is required');
    for (const r of d.spec.rules) {
      for (const m of r.matches ?? []) {
        if (m.path) need(['Exact', 'PathPrefix', 'RegularExpression'].includes(m.path.type) && String(m.path.value).startsWith('/'), 'HTTPRoute: bad path match');
      }
      for (const b of r.backendRefs ?? []) {
        need(typeof b.name === 'string' && b.name, 'HTTPRoute: backendRefs[].name is required');
        need(Number.isInteger(b.port), 'HTTPRoute: backendRefs[].port is required for a Service backend');
      }
    }
  },
  'networking.gke.io/v1/HealthCheckPolicy': (d) => {
    need(d.spec?.targetRef?.kind === 'Service' && d.spec.targetRef.name, 'HealthCheckPolicy: spec.targetRef must name a Service');
    const cfg = d.spec?.default?.config;
    need(cfg && ['HTTP', 'HTTPS', 'HTTP2', 'GRPC', 'TCP'].includes(cfg.type), 'HealthCheckPolicy: spec.default.config.type');
    if (cfg.type === 'HTTP') need(String(cfg.httpHealthCheck?.requestPath ?? '').startsWith('/'), 'HealthCheckPolicy: requestPath');
  },
  'monitoring.googleapis.com/v1/PodMonitoring': (d) => {
    need(d.spec?.selector && (d.spec.selector.matchLabels || d.spec.selector.matchExpressions), 'PodMonitoring: spec.selector is required');
    need(Array.isArray(d.spec?.endpoints) && d.spec.endpoints.length > 0, 'PodMonitoring: spec.endpoints is required');
    for (const e of d.spec.endpoints) {
      need(e.port !== undefined && e.port !== '', 'PodMonitoring: endpoints[].port is required');
      if (e.interval !== undefined) need(/^[0-9]+(ms|s|m|h)$/.test(e.interval), `PodMonitoring: interval ${e.interval}`);
    }
  },
};

// Known keys of the objects templates write by hand, so that a misspelt field
// (which kubernetes-models' schemas accept silently) fails too.
const CONTAINER_KEYS = new Set(['name', 'image', 'imagePullPolicy', 'command', 'args', 'workingDir', 'ports', 'env', 'envFrom', 'resources', 'resizePolicy', 'restartPolicy', 'volumeMounts', 'volumeDevices', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'terminationMessagePath', 'terminationMessagePolicy', 'securityContext', 'stdin', 'stdinOnce', 'tty']);
const POD_SPEC_KEYS = new Set(['containers', 'initContainers', 'ephemeralContainers', 'volumes', 'serviceAccountName', 'automountServiceAccountToken', 'terminationGracePeriodSeconds', 'securityContext', 'restartPolicy', 'nodeSelector', 'affinity', 'tolerations', 'topologySpreadConstraints', 'priorityClassName', 'imagePullSecrets', 'hostNetwork', 'hostPID', 'hostIPC', 'dnsPolicy', 'enableServiceLinks', 'activeDeadlineSeconds', 'schedulerName', 'runtimeClassName', 'shareProcessNamespace', 'hostname', 'subdomain']);
const PROBE_KEYS = new Set(['exec', 'httpGet', 'tcpSocket', 'grpc', 'initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold', 'terminationGracePeriodSeconds']);
const TOP_KEYS = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'data', 'stringData', 'type', 'automountServiceAccountToken', 'immutable']);

function checkKeys(obj: Record<string, unknown> | undefined, allowed: Set<string>, where: string): void {
  if (!obj) return;
  for (const k of Object.keys(obj)) need(allowed.has(k), `${where}: unknown field "${k}"`);
}

export function podSpecOf(doc: Manifest): Manifest['spec'] | undefined {
  if (doc.kind === 'Deployment') return doc.spec?.template?.spec;
  if (doc.kind === 'CronJob') return doc.spec?.jobTemplate?.spec?.template?.spec;
  return undefined;
}

/** Validates one manifest; throws with kind/name in the message. */
export function validateManifest(doc: Manifest): void {
  const id = `${doc.apiVersion}/${doc.kind}`;
  const where = `${doc.kind}/${doc.metadata?.name}`;
  try {
    need(typeof doc.metadata?.name === 'string' && doc.metadata.name.length > 0, 'metadata.name is required');
    checkKeys(doc, TOP_KEYS, 'object');
    const v = MODEL_VALIDATORS[id] ?? CRD_VALIDATORS[id];
    need(v, `no validator for ${id}: add one to test/charts/helmRender.ts`);
    v!(doc);
    const pod = podSpecOf(doc);
    if (pod) {
      checkKeys(pod, POD_SPEC_KEYS, 'pod spec');
      for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
        checkKeys(c, CONTAINER_KEYS, `container ${c.name}`);
        checkKeys(c.readinessProbe, PROBE_KEYS, `container ${c.name} readinessProbe`);
        checkKeys(c.livenessProbe, PROBE_KEYS, `container ${c.name} livenessProbe`);
      }
    }
  } catch (err) {
    throw new Error(`${where} is invalid: ${(err as Error).message}`);
  }
}

/** Every container of a pod template, init containers included. */
 
export function containersOf(doc: Manifest): any[] {
  const pod = podSpecOf(doc);
  return pod ? [...(pod.initContainers ?? []), ...(pod.containers ?? [])] : [];
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
