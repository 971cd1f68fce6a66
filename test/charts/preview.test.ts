// The deploy preview (local/helm/preview.ts): the Online Boutique chart is bumped the way
// chartBump bumps it, packaged and pushed by baton to the local registry, then pulled back with
// helm pull --plain-http and rendered with helm template, as Argo CD would for the PoC.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';

import { formatPreview, previewChart, summarize } from '../../local/helm/preview.js';
import { applyImagesToChart } from '../../domain/chart/chartEdit.js';
import { publishChart } from '../../domain/chart/ociPublish.js';
import { packageChart } from '../../domain/chart/package.js';
import { OciRegistry } from '../../shared/oci/registryClient.js';
import { digestOf, uniqueName } from '../chart/fixtures.js';
import { tempDir } from '../support/runtimes.js';
import { SERVICES, chartDir, type Manifest } from './helmRender.js';

const host = process.env.BATON_REGISTRY ?? '127.0.0.1:5000';
const registry = new OciRegistry(host);
const ARGO_POC = { plainHttp: true, valuesFiles: ['values-dev.yaml'], namespace: 'boutique-dev', releaseName: 'online-boutique' };

/** Publishes a copy of the chart; `pin` bumps every service (and the third-party images) to a digest first. */
async function publish(pin: boolean): Promise<{ ociRef: string; version: string; digests: Record<string, string> }> {
  const dir = path.join(tempDir('baton-preview-chart-'), 'online-boutique');
  cpSync(chartDir, dir, { recursive: true });
  const digests = Object.fromEntries(SERVICES.map((s) => [s, digestOf(`build-${s}`)]));
  if (pin) {
    // chartBump pins the release in the environment's values file (dev's, as the Application reads it).
    const texts = { chartYaml: readFileSync(path.join(dir, 'Chart.yaml'), 'utf8'), values: readFileSync(path.join(dir, 'values-dev.yaml'), 'utf8') };
    const images = SERVICES.map((service) => ({ service, repository: `${host}/boutique/${service}`, tag: '1234567', digest: digests[service]! }));
    const bumped = applyImagesToChart(texts, images, { appVersion: '1234567', valuesFile: 'values-dev.yaml' });
    const values = parseDocument(readFileSync(path.join(dir, 'values.yaml'), 'utf8'));
    for (const p of [['redis', 'image'], ['redis', 'exporter', 'image'], ['services', 'loadgenerator', 'frontendCheck', 'image']]) values.setIn([...p, 'digest'], digestOf(p.join('.')));
    writeFileSync(path.join(dir, 'Chart.yaml'), bumped.texts.chartYaml);
    writeFileSync(path.join(dir, 'values-dev.yaml'), bumped.texts.values);
    writeFileSync(path.join(dir, 'values.yaml'), values.toString());
  }
  const chart = await packageChart(dir);
  const repoPath = `${uniqueName('baton-preview')}/charts`;
  await publishChart(registry, repoPath, chart);
  return { ociRef: `oci://${host}/${repoPath}/online-boutique`, version: chart.version, digests };
}

let pinned: Awaited<ReturnType<typeof publish>>;
let unpinned: Awaited<ReturnType<typeof publish>>;

beforeAll(async () => {
  pinned = await publish(true);
  unpinned = await publish(false);
}, 60_000);

describe('previewChart', () => {
  test('a bumped chart: what Argo CD would apply for the PoC, valid, every image pinned by the built digest', async () => {
    const preview = await previewChart({ ...ARGO_POC, ociRef: pinned.ociRef, version: pinned.version, expectedDigests: { frontend: pinned.digests.frontend!, cartservice: pinned.digests.cartservice! } });
    expect(preview.problems).toEqual([]);
    expect(preview.chart).toEqual({ name: 'online-boutique', version: '0.1.1', appVersion: '1234567' });
    expect(preview.kinds).toEqual({ Deployment: 12, Service: 11, ServiceAccount: 11, HorizontalPodAutoscaler: 10, PodDisruptionBudget: 10, HTTPRoute: 1, HealthCheckPolicy: 1, PodMonitoring: 1 });
    // The Gateway is Terraform's: Argo CD applies none.
    expect(preview.kinds.Gateway).toBeUndefined();
    expect(preview.unpinned).toEqual([]);
    expect(preview.images).toContain(`${host}/boutique/frontend@${pinned.digests.frontend}`);
    expect(preview.images).toHaveLength(14);
    const lines = formatPreview(preview);
    expect(lines[0]).toBe('preview of online-boutique 0.1.1 (app 1234567): 57 objects: 12 Deployment, 1 HealthCheckPolicy, 10 HorizontalPodAutoscaler, 1 HTTPRoute, 10 PodDisruptionBudget, 1 PodMonitoring, 11 Service, 11 ServiceAccount');
    expect(lines[1]).toBe('images: 14, all pinned by digest');
    expect(lines.at(-1)).toMatch(/valid against the Kubernetes schemas; nothing was applied \(preview only\)/);
  });

  test('a digest other than the one just built is a problem, and so is a service the chart does not render', async () => {
    const preview = await previewChart({ ...ARGO_POC, ociRef: pinned.ociRef, version: pinned.version, expectedDigests: { frontend: digestOf('another build'), wishlistservice: digestOf('x') } });
    expect(preview.problems).toEqual([
      `service frontend: runs ${host}/boutique/frontend@${pinned.digests.frontend}, not the built digest ${digestOf('another build')}`,
      'service wishlistservice: no workload named wishlistservice is rendered',
    ]);
  });

  test('images pinned by tag only are listed, and are problems unless requireDigests is false', async () => {
    const strict = await previewChart({ ...ARGO_POC, ociRef: unpinned.ociRef, version: unpinned.version });
    expect(strict.unpinned).toHaveLength(14);
    expect(strict.unpinned).toContain('us-central1-docker.pkg.dev/google-samples/microservices-demo/frontend:v0.10.3');
    expect(strict.problems).toContain('image redis:7.4-alpine is not pinned by digest');
    const lenient = await previewChart({ ...ARGO_POC, ociRef: unpinned.ociRef, version: unpinned.version, requireDigests: false });
    expect(lenient.problems).toEqual([]);
    expect(formatPreview(lenient)[1]).toBe('images: 14, 14 not pinned by digest');
  });

  test('a manifest the Kubernetes schemas refuse is a problem', () => {
    const bad: Manifest = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { replicas: 'two', selector: {}, template: { spec: { containers: [{ name: 'x', image: `r@${digestOf('x')}` }] } } } };
    const preview = summarize({ name: 'c', version: '1.0.0' }, [bad]);
    expect(preview.problems).toEqual([expect.stringMatching(/^Deployment\/x is invalid: .*replicas must be integer/)]);
  });

  test('a version that was never published, or a values file not in the chart, fails with what was asked', async () => {
    await expect(previewChart({ ...ARGO_POC, ociRef: pinned.ociRef, version: '9.9.9' })).rejects.toThrow(new RegExp(`failed to preview ${pinned.ociRef}:9\\.9\\.9: failed to run helm pull`));
    await expect(previewChart({ ...ARGO_POC, ociRef: pinned.ociRef, version: pinned.version, valuesFiles: ['values-staging.yaml'] })).rejects.toThrow(/values file values-staging\.yaml is not in the chart/);
  });
});
