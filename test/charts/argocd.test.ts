// Argo CD manifests: the AppProject, the repository Secret and one Application
// per environment (Terraform makes them from charts/argocd/application.yaml and the poc's
// var.environments) consume the chart from Artifact Registry (OCI) with auto-sync,
// prune and self-heal, each into its own namespace with its own values file, and the
// project allows exactly what the chart renders.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

import { Application } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application';
import { AppProject } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject';

import { applicationFor, argoDir, pocEnvironments, type TfEnvironment } from './argoApps.js';
import { chartDir, parseManifests, readYaml, render, validateManifest, type Manifest } from './helmRender.js';

const all: Manifest[] = readdirSync(argoDir)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseManifests(readFileSync(path.join(argoDir, f), 'utf8')));
const project = all.find((d) => d.kind === 'AppProject') as Manifest;
const apps = all.filter((d) => d.kind === 'Application');
const repoSecret = all.find((d) => d.kind === 'Secret') as Manifest;
const chartName = (readYaml(path.join(chartDir, 'Chart.yaml')) as { name: string }).name;
let environments: TfEnvironment[];

beforeAll(async () => {
  environments = await pocEnvironments();
}, 60_000);

/** Argo CD's own CRD schemas (@kubernetes-models/argo-cd): throws with what is wrong. */
function validateArgo(doc: Manifest): void {
  if (doc.kind === 'Application') new Application(doc as never).validate();
  else if (doc.kind === 'AppProject') new AppProject(doc as never).validate();
  else throw new Error(`not an Argo CD kind: ${doc.kind}`);
}

describe('Argo CD schemas (@kubernetes-models/argo-cd)', () => {
  test.each(all.filter((d) => d.apiVersion === 'argoproj.io/v1alpha1').map((d) => [`${d.kind}/${d.metadata.name}`, d] as const))('%s is valid', (_name, doc) => {
    expect(() => validateArgo(doc)).not.toThrow();
  });

  // Deliberately broken copies: the schema must catch each.
  const app = apps.find((a) => a.metadata.name === 'online-boutique-dev') as Manifest;
  const BROKEN: [string, Manifest, RegExp][] = [
    ['prune as a string', { ...structuredClone(app), spec: { ...structuredClone(app.spec), syncPolicy: { automated: { prune: 'yes', selfHeal: true } } } }, /syncPolicy\/automated\/prune must be boolean/],
    ['no destination', { ...structuredClone(app), spec: { ...structuredClone(app.spec), destination: undefined } }, /spec must have required property destination/],
    ['valueFiles as a string', { ...structuredClone(app), spec: { ...structuredClone(app.spec), source: { ...structuredClone(app.spec.source), helm: { valueFiles: 'values-dev.yaml' } } } }, /valueFiles must be array/],
    ['a retry limit as a string', { ...structuredClone(app), spec: { ...structuredClone(app.spec), syncPolicy: { ...structuredClone(app.spec.syncPolicy), retry: { limit: 'five' } } } }, /retry\/limit must be integer/],
    ['an AppProject whose destinations are not a list', { ...structuredClone(project), spec: { ...structuredClone(project.spec), destinations: { server: 'x' } } }, /destinations must be array/],
  ];
  test.each(BROKEN)('a broken copy is refused: %s', (_what, doc, message) => {
    expect(() => validateArgo(JSON.parse(JSON.stringify(doc)) as Manifest)).toThrow(message);
  });
});

describe('charts/argocd', () => {
  test('holds one AppProject, one repository Secret and the Application every environment shares', () => {
    expect(project).toBeDefined();
    expect(project.apiVersion).toBe('argoproj.io/v1alpha1');
    expect(repoSecret).toBeDefined();
    expect(apps.map((a) => a.metadata.name)).toEqual(['online-boutique-dev']);
    for (const d of all) expect(d.metadata.namespace).toBe('argocd');
  });

  test('the repository Secret is the classic Helm-over-OCI form and holds no credential', () => {
    validateManifest(repoSecret);
    expect(repoSecret.metadata.labels).toMatchObject({ 'argocd.argoproj.io/secret-type': 'repository' });
    expect(repoSecret.stringData).toMatchObject({ type: 'helm', enableOCI: 'true', username: 'oauth2accesstoken' });
    expect(repoSecret.stringData.url).not.toMatch(/^oci:\/\//);
    expect(repoSecret.stringData.password).toBeUndefined();
    expect(repoSecret.data).toBeUndefined();
  });

  test('as a file (kubectl apply), application.yaml is the first environment\'s Application, and appproject.yaml admits every environment\'s namespace', () => {
    expect(environments.map((e) => e.name)).toEqual(['dev', 'prod']);
    expect(apps[0]).toEqual(applicationFor(environments[0]!, apps[0]));
    expect(project.spec.destinations).toEqual(environments.map((e) => ({ server: apps[0]!.spec.destination.server, namespace: e.namespace })));
  });
});

describe('the Applications Terraform makes, one per environment of the poc', () => {
  test('each environment has its own Application name, namespace and values file', () => {
    const made = environments.map((e) => applicationFor(e));
    for (const key of [(a: Manifest) => a.metadata.name, (a: Manifest) => a.spec.destination.namespace, (a: Manifest) => a.spec.source.helm.valueFiles[0]]) {
      expect(new Set(made.map(key)).size).toBe(made.length);
    }
  });

  test.each(['dev', 'prod'])('the %s Application is valid and syncs the chart from the OCI repository automatically, with its own values file', (name) => {
    const environment = environments.find((e) => e.name === name)!;
    const app = applicationFor(environment);
    expect(() => validateArgo(app)).not.toThrow();
    expect(app.metadata.name).toBe(environment.application);
    expect(app.metadata.labels).toMatchObject({ 'baton/environment': name });
    expect(app.spec.project).toBe(project.metadata.name);
    const src = app.spec.source;
    expect(src.chart).toBe(chartName);
    expect(src.repoURL).toBe(repoSecret.stringData.url);
    expect(src.repoURL).toMatch(/^[a-z0-9-]+-docker\.pkg\.dev\//);
    // A semver range: the highest chart chartBump published, never an older one. Ranges need
    // Argo CD 2.6 or later (argo-cd PR #10641), and the file says so.
    expect(src.targetRevision).toMatch(/\*|[<>]=?/);
    expect(readFileSync(path.join(argoDir, 'application.yaml'), 'utf8')).toMatch(/Argo CD 2\.6 or later/);
    expect(src.helm.valueFiles).toEqual([`values-${name}.yaml`]);
    expect(existsSync(path.join(chartDir, environment.values_file))).toBe(true);
    expect(app.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
    expect(app.spec.syncPolicy.syncOptions).toContain('CreateNamespace=true');
    expect(app.spec.destination.namespace).toBe(`boutique-${name}`);
    expect(project.spec.destinations).toContainEqual({ server: app.spec.destination.server, namespace: app.spec.destination.namespace });
    expect(project.spec.sourceRepos).toContain(src.repoURL);
  });

  test.each(['dev', 'prod'])('the AppProject whitelists every kind the chart renders with %s values, and no Gateway', async (name) => {
    const environment = environments.find((e) => e.name === name)!;
    const allowed = new Set<string>((project.spec.namespaceResourceWhitelist as { group: string; kind: string }[]).map((r) => `${r.group}/${r.kind}`));
    const rendered = await render({ valueFiles: [path.join(chartDir, environment.values_file)], namespace: environment.namespace });
    const groupOf = (d: Manifest): string => (d.apiVersion.includes('/') ? d.apiVersion.split('/')[0]! : '');
    const kinds = new Set(rendered.map((d) => `${groupOf(d)}/${d.kind}`));
    for (const k of kinds) expect({ kind: k, allowed: allowed.has(k) }).toEqual({ kind: k, allowed: true });
    // The Gateway has one owner, Terraform (modules/ingress): Argo CD may not create one.
    expect(allowed.has('gateway.networking.k8s.io/Gateway')).toBe(false);
  });

  test('the AppProject allows no cluster-scoped kind but Namespace', () => {
    expect(project.spec.clusterResourceWhitelist).toEqual([{ group: '', kind: 'Namespace' }]);
  });
});
