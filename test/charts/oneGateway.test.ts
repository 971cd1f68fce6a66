// One Gateway for the PoC. Both charts that reach the cluster are rendered the way their owners
// install them: terraform/modules/ingress/chart with exactly the values envs/poc's module "ingress"
// hands to helm_release (local.chart_values, evaluated from the Terraform files and a tfvars), and
// charts/online-boutique as each environment's Argo CD Application installs it (dev and prod, in
// one cluster). Together they must hold exactly one Gateway, with the reserved address, the host
// names and the certificate; each environment's frontend HTTPRoute attaches to it, prod on every
// host name and dev only on its own.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';

import { loadTree, parseTf, type Json, type TfTree } from '../terraform/hclTree.js';
import { evaluate, moduleContext } from '../terraform/evaluate.js';
import { applicationFor, pocEnvironments, type TfEnvironment } from './argoApps.js';
import { byKind, chartDir, find, ingressChartDir, render, repoRoot, validateManifest, type Manifest } from './helmRender.js';

const tfRoot = path.join(repoRoot, 'terraform');
let tree: TfTree;
let tfvars: Record<string, Json>;
let tmp: string;
let environments: TfEnvironment[];

beforeAll(async () => {
  environments = await pocEnvironments();
  tree = await loadTree(tfRoot);
  tfvars = (await parseTf('terraform.tfvars', readFileSync(path.join(tfRoot, 'envs/poc/terraform.tfvars.example'), 'utf8'))) as Record<string, Json>;
  tmp = mkdtempSync(path.join(os.tmpdir(), 'baton-one-gateway-'));
}, 60_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

type Install = { release: string; namespace: string; chart: string; valueFiles: string[] };

/** What envs/poc's module "ingress" installs, for these root variables. */
function terraformInstall(vars: Record<string, Json>): { install: Install; addressName: string } {
  const ctx = moduleContext(tree, 'envs/poc', 'ingress', vars);
  const release = ctx.dir.resources.helm_release?.main;
  if (!release) throw new Error('modules/ingress: helm_release.main is missing');
  expect(release.values).toEqual(['${yamlencode(local.chart_values)}']);
  expect(release.chart).toBe('${path.module}/chart');
  const values = evaluate(ctx.dir.locals.chart_values!, ctx);
  const file = path.join(tmp, `ingress-values-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify(values));
  const install = { release: String(evaluate(release.name!, ctx)), namespace: String(evaluate(release.namespace!, ctx)), chart: ingressChartDir, valueFiles: [file] };
  return { install, addressName: String(evaluate(ctx.dir.resources.google_compute_address!.main!.name!, ctx)) };
}

/** What Argo CD installs for one environment's Application (modules/cicd). */
function argoInstall(env: 'dev' | 'prod'): Install {
  const app = applicationFor(environments.find((e) => e.name === env)!);
  const helm = app.spec.source.helm;
  return { release: helm.releaseName ?? app.metadata.name, namespace: app.spec.destination.namespace, chart: chartDir, valueFiles: (helm.valueFiles as string[]).map((f) => path.join(chartDir, f)) };
}

async function renderInstall(i: Install): Promise<Manifest[]> {
  return render({ chart: i.chart, releaseName: i.release, namespace: i.namespace, valueFiles: i.valueFiles });
}

async function pocCluster(vars: Record<string, Json>): Promise<{ docs: Manifest[]; addressName: string }> {
  const tf = terraformInstall(vars);
  const docs = [...(await renderInstall(tf.install)), ...(await renderInstall(argoInstall('dev'))), ...(await renderInstall(argoInstall('prod')))];
  for (const d of docs) validateManifest(d);
  return { docs, addressName: tf.addressName };
}

describe('the PoC has exactly one Gateway', () => {
  test('with the example tfvars: one Gateway, Terraform\'s, holding the reserved address; the frontend attaches to it', async () => {
    const { docs, addressName } = await pocCluster(tfvars);
    const gateways = byKind(docs, 'Gateway');
    expect(gateways.map((g) => `${g.metadata.namespace}/${g.metadata.name}`)).toEqual(['gateway/baton-frontend']);
    const gw = gateways[0]!;
    expect(gw.spec.addresses).toEqual([{ type: 'NamedAddress', value: addressName }]);
    const routes = byKind(docs, 'HTTPRoute');
    expect(routes.map((r) => `${r.metadata.namespace}/${r.metadata.name}`)).toEqual(['boutique-dev/frontend', 'boutique-prod/frontend']);
    for (const route of routes) expect(route.spec.parentRefs).toEqual([expect.objectContaining({ kind: 'Gateway', name: gw.metadata.name, namespace: gw.metadata.namespace })]);
    // prod answers on every host name; dev only on its own, which is more specific, so the two
    // never compete for a request.
    expect(routes.map((r) => r.spec.hostnames)).toEqual([['dev.boutique.internal'], undefined]);
    // Every listener admits routes from the app's namespace.
    for (const l of gw.spec.listeners) expect(l.allowedRoutes.namespaces.from).toBe('All');
    // No second load balancer: no LoadBalancer Service either.
    expect(byKind(docs, 'Service').filter((s) => s.spec.type === 'LoadBalancer')).toEqual([]);
  });

  test('with host names and a certificate, both are on that one Gateway', async () => {
    const { docs } = await pocCluster({ ...tfvars, frontend_hostnames: ['shop.example.com', 'www.example.com'], frontend_certificate: 'shop-cert' });
    const gateways = byKind(docs, 'Gateway');
    expect(gateways).toHaveLength(1);
    const listeners = gateways[0]!.spec.listeners as { name: string; hostname?: string; protocol: string; port: number; tls?: { options: Record<string, string> } }[];
    expect(listeners.map((l) => [l.protocol, l.port, l.hostname])).toEqual([
      ['HTTP', 80, 'shop.example.com'],
      ['HTTPS', 443, 'shop.example.com'],
      ['HTTP', 80, 'www.example.com'],
      ['HTTPS', 443, 'www.example.com'],
    ]);
    for (const l of listeners.filter((x) => x.protocol === 'HTTPS')) expect(l.tls?.options).toEqual({ 'networking.gke.io/pre-shared-certs': 'shop-cert' });
    // prod's route names no listener and no host: it serves every host name of the Gateway.
    const route = byKind(docs, 'HTTPRoute').find((r) => r.metadata.namespace === 'boutique-prod')!;
    expect(route.spec.parentRefs[0].sectionName).toBeUndefined();
    expect(route.spec.hostnames).toBeUndefined();
  });

  test('prod attaches to the same kind of Terraform-owned Gateway and makes none', async () => {
    const docs = await renderInstall(argoInstall('prod'));
    expect(byKind(docs, 'Gateway')).toEqual([]);
    expect(find(docs, 'HTTPRoute', 'frontend').spec.parentRefs[0]).toMatchObject({ name: 'baton-frontend', namespace: 'gateway' });
  });

  test('the count can fail: the chart creating its own Gateway again makes two', async () => {
    const tf = terraformInstall(tfvars);
    const argo = argoInstall('dev');
    const docs = [...(await renderInstall(tf.install)), ...(await render({ chart: argo.chart, releaseName: argo.release, namespace: argo.namespace, valueFiles: argo.valueFiles, set: ['gateway.create=true', 'gateway.name=boutique', 'gateway.namespace='] }))];
    expect(byKind(docs, 'Gateway')).toHaveLength(2);
  });
});
