/**
 * Rendered Kubernetes manifests: parse helm's output, and validate each object against the
 * Kubernetes OpenAPI schemas (kubernetes-models), the Gateway API CRDs
 * (@kubernetes-models/gateway-api) and GKE's CRDs (@kubernetes-models/gke). Those schemas accept
 * unknown fields silently, so the fields our templates write by hand are also checked against a
 * list of known keys: a misspelt `readinessProbe` key fails here, not in the cluster.
 */
import { parseAllDocuments } from 'yaml';

import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { Gateway } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway';
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { HealthCheckPolicy } from '@kubernetes-models/gke/networking.gke.io/v1/HealthCheckPolicy';

/** A loosely typed manifest: callers read nested fields freely. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: any; [key: string]: any };

/** Parses a multi-document YAML stream (helm template's output); YAML errors throw. Empty documents are dropped. */
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

type Validator = (doc: Manifest) => void;

/** `new Model(doc).validate()` for a kubernetes-models class. */
function model(Model: new (data: never) => { validate(): void }): Validator {
  return (d) => new Model(d as never).validate();
}

function need(cond: unknown, msg: string): void {
  if (!cond) throw new Error(msg);
}

/** apiVersion/kind → validator. Schemas of Kubernetes itself, of the Gateway API and of GKE. */
const VALIDATORS: Record<string, Validator> = {
  'apps/v1/Deployment': model(Deployment),
  'v1/Service': model(Service),
  'v1/ServiceAccount': model(ServiceAccount),
  'v1/Secret': model(Secret),
  'v1/ConfigMap': model(ConfigMap),
  'v1/Namespace': model(Namespace),
  'autoscaling/v2/HorizontalPodAutoscaler': model(HorizontalPodAutoscaler),
  'policy/v1/PodDisruptionBudget': model(PodDisruptionBudget),
  'batch/v1/CronJob': model(CronJob),
  'batch/v1/Job': model(Job),
  'rbac.authorization.k8s.io/v1/Role': model(Role),
  'rbac.authorization.k8s.io/v1/RoleBinding': model(RoleBinding),
  'gateway.networking.k8s.io/v1/Gateway': model(Gateway),
  'gateway.networking.k8s.io/v1/HTTPRoute': model(HTTPRoute),
  'networking.gke.io/v1/HealthCheckPolicy': model(HealthCheckPolicy),
  // Managed Prometheus' PodMonitoring has no published model: the fields its CRD requires.
  'monitoring.googleapis.com/v1/PodMonitoring': (d) => {
    need(d.spec?.selector && (d.spec.selector.matchLabels || d.spec.selector.matchExpressions), 'PodMonitoring: spec.selector is required');
    need(Array.isArray(d.spec?.endpoints) && d.spec.endpoints.length > 0, 'PodMonitoring: spec.endpoints is required');
    for (const e of d.spec.endpoints) {
      need(e.port !== undefined && e.port !== '', 'PodMonitoring: endpoints[].port is required');
      if (e.interval !== undefined) need(/^[0-9]+(ms|s|m|h)$/.test(e.interval), `PodMonitoring: interval ${e.interval}`);
    }
  },
};

/** The kinds validateManifest knows, as apiVersion/kind. */
export const VALIDATED_KINDS: readonly string[] = Object.keys(VALIDATORS);

// Known keys of the objects templates write by hand, so that a misspelt field
// (which the schemas accept silently) fails too.
const CONTAINER_KEYS = new Set(['name', 'image', 'imagePullPolicy', 'command', 'args', 'workingDir', 'ports', 'env', 'envFrom', 'resources', 'resizePolicy', 'restartPolicy', 'volumeMounts', 'volumeDevices', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'terminationMessagePath', 'terminationMessagePolicy', 'securityContext', 'stdin', 'stdinOnce', 'tty']);
const POD_SPEC_KEYS = new Set(['containers', 'initContainers', 'ephemeralContainers', 'volumes', 'serviceAccountName', 'automountServiceAccountToken', 'terminationGracePeriodSeconds', 'securityContext', 'restartPolicy', 'nodeSelector', 'affinity', 'tolerations', 'topologySpreadConstraints', 'priorityClassName', 'imagePullSecrets', 'hostNetwork', 'hostPID', 'hostIPC', 'dnsPolicy', 'enableServiceLinks', 'activeDeadlineSeconds', 'schedulerName', 'runtimeClassName', 'shareProcessNamespace', 'hostname', 'subdomain']);
const PROBE_KEYS = new Set(['exec', 'httpGet', 'tcpSocket', 'grpc', 'initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold', 'terminationGracePeriodSeconds']);
const TOP_KEYS = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'data', 'stringData', 'type', 'automountServiceAccountToken', 'immutable', 'rules', 'roleRef', 'subjects']);

function checkKeys(obj: Record<string, unknown> | undefined, allowed: Set<string>, where: string): void {
  if (!obj) return;
  for (const k of Object.keys(obj)) need(allowed.has(k), `${where}: unknown field "${k}"`);
}

/** The pod template's spec of a workload, if it has one. */
export function podSpecOf(doc: Manifest): Manifest['spec'] | undefined {
  if (doc.kind === 'Deployment' || doc.kind === 'StatefulSet' || doc.kind === 'DaemonSet' || doc.kind === 'Job') return doc.spec?.template?.spec;
  if (doc.kind === 'CronJob') return doc.spec?.jobTemplate?.spec?.template?.spec;
  return undefined;
}

/** Every container of a pod template, init containers included. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function containersOf(doc: Manifest): any[] {
  const pod = podSpecOf(doc);
  return pod ? [...(pod.initContainers ?? []), ...(pod.containers ?? [])] : [];
}

/** Validates one manifest; throws with kind/name in the message. */
export function validateManifest(doc: Manifest): void {
  const id = `${doc.apiVersion}/${doc.kind}`;
  const where = `${doc.kind}/${doc.metadata?.name}`;
  try {
    need(typeof doc.metadata?.name === 'string' && doc.metadata.name.length > 0, 'metadata.name is required');
    checkKeys(doc, TOP_KEYS, 'object');
    const v = VALIDATORS[id];
    need(v, `no schema for ${id} (local/helm/manifests.ts knows ${VALIDATED_KINDS.length} kinds)`);
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

/** Validation problems of several manifests, one line each (empty when all are valid). */
export function manifestProblems(docs: readonly Manifest[]): string[] {
  const problems: string[] = [];
  for (const d of docs) {
    try {
      validateManifest(d);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  return problems;
}
