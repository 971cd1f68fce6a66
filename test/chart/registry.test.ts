import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { x as extract } from 'tar';
import { parseAllDocuments } from 'yaml';
import { runHelm } from '../../local/helm/helm.js';
import { applyImagesToChart } from '../../domain/chart/chartEdit.js';
import { ChartYamlError } from '../../domain/chart/chartYaml.js';
import {
  ChartVersionConflictError,
  HELM_CHART_LAYER_MEDIA_TYPE,
  HELM_CONFIG_MEDIA_TYPE,
  OCI_MANIFEST_MEDIA_TYPE,
  publishChart,
} from '../../domain/chart/ociPublish.js';
import { packageChart } from '../../domain/chart/package.js';
import { OciRegistry, sha256Digest } from '../../shared/oci/registryClient.js';
import { tempDir } from '../support/runtimes.js';
import { digestOf, uniqueName, writeFixtureChart } from './fixtures.js';

/** Round trip through a real docker-registry: push with Helm's media types, pull back, compare. */
const host = process.env.BATON_REGISTRY ?? '127.0.0.1:5000';

describe('publishChart against docker-registry', () => {
  test('manifest, media types, layer digest and the tarball survive the round trip', async () => {
    const registry = new OciRegistry(host);
    const path = `${uniqueName('baton-test')}/charts`;
    const dir = writeFixtureChart(join(tempDir('baton-oci-'), 'shop'));
    const chart = await packageChart(dir);

    const published = await publishChart(registry, path, chart);
    expect(published).toMatchObject({ ociRef: `oci://${host}/${path}/shop:1.4.2`, repository: `${path}/shop`, tag: '1.4.2', alreadyPublished: false });

    const manifest = await registry.getManifest(`${path}/shop`, '1.4.2');
    expect(manifest).toBeDefined();
    expect(manifest!.digest).toBe(published.manifestDigest);
    expect(manifest!.mediaType).toBe(OCI_MANIFEST_MEDIA_TYPE);
    const json = manifest!.json as { schemaVersion: number; config: { mediaType: string; digest: string }; layers: Array<{ mediaType: string; digest: string; size: number }> };
    expect(json.schemaVersion).toBe(2);
    expect(json.config.mediaType).toBe(HELM_CONFIG_MEDIA_TYPE);
    expect(json.layers).toHaveLength(1);
    expect(json.layers[0]).toEqual({ mediaType: HELM_CHART_LAYER_MEDIA_TYPE, digest: sha256Digest(chart.bytes), size: chart.bytes.length });
    expect(JSON.stringify(json)).not.toMatch(/created/);

    const config = JSON.parse((await registry.getBlob(`${path}/shop`, json.config.digest)).toString('utf8'));
    expect(config).toEqual({ name: 'shop', version: '1.4.2', description: "A fixture chart for baton's chart tests.", apiVersion: 'v2', appVersion: '0000000', type: 'application' });

    const layer = await registry.getBlob(`${path}/shop`, json.layers[0]!.digest);
    expect(layer.equals(chart.bytes)).toBe(true);
    const out = tempDir('baton-oci-pull-');
    writeFileSync(join(out, 'pulled.tgz'), layer);
    await extract({ file: join(out, 'pulled.tgz'), cwd: out });
    expect(readFileSync(join(out, 'shop', 'values.yaml'), 'utf8')).toBe(readFileSync(join(dir, 'values.yaml'), 'utf8'));
    expect(readFileSync(join(out, 'shop', 'Chart.yaml'), 'utf8')).toBe(readFileSync(join(dir, 'Chart.yaml'), 'utf8'));
  });

  test('publishing the same chart again is a no-op; a different chart under the same version is refused', async () => {
    const registry = new OciRegistry(host);
    const path = `${uniqueName('baton-test')}/charts`;
    const dir = writeFixtureChart(join(tempDir('baton-oci-'), 'shop'));
    const first = await publishChart(registry, path, await packageChart(dir));
    const again = await publishChart(registry, path, await packageChart(dir));
    expect(again).toMatchObject({ alreadyPublished: true, manifestDigest: first.manifestDigest });

    writeFileSync(join(dir, 'values.yaml'), `${readFileSync(join(dir, 'values.yaml'), 'utf8')}extra: true\n`);
    await expect(publishChart(registry, path, await packageChart(dir))).rejects.toThrow(ChartVersionConflictError);
    expect(await registry.manifestDigest(`${path}/shop`, '1.4.2')).toBe(first.manifestDigest);
  });
});

/** One ConfigMap per service: objects helm lint --strict accepts (the fixture's template is a bare sketch). */
const LINTABLE_TEMPLATE = '{{- range $name, $svc := .Values.services }}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ $name }}\ndata:\n  tag: {{ $svc.image.tag | quote }}\n{{- end }}\n';

/** What Argo CD does with a published chart: `helm pull` it from the registry, then `helm template` it. */
async function pullAndTemplate(ociRef: string, version: string): Promise<{ chartYaml: string; rendered: unknown[]; dir: string }> {
  const out = tempDir('baton-helm-pull-');
  await runHelm(['pull', ociRef, '--version', version, '--plain-http', '--untar', '--untardir', out], { check: true });
  const [name] = readdirSync(out);
  const dir = join(out, name!);
  const template = await runHelm(['template', 'release', dir, '--namespace', 'shop'], { check: true });
  return { chartYaml: readFileSync(join(dir, 'Chart.yaml'), 'utf8'), rendered: parseAllDocuments(template.stdout).map((d) => d.toJS()).filter(Boolean), dir };
}

describe('the published chart, checked by helm', () => {
  test('helm pull --plain-http gets back exactly what baton packaged and pushed, and helm template renders it', async () => {
    const registry = new OciRegistry(host);
    const path = `${uniqueName('baton-test')}/charts`;
    const dir = writeFixtureChart(join(tempDir('baton-oci-'), 'shop'));
    const published = await publishChart(registry, path, await packageChart(dir));
    const pulled = await pullAndTemplate(`oci://${host}/${path}/shop`, '1.4.2');
    expect(pulled.chartYaml).toBe(readFileSync(join(dir, 'Chart.yaml'), 'utf8'));
    expect(readFileSync(join(pulled.dir, 'values.yaml'), 'utf8')).toBe(readFileSync(join(dir, 'values.yaml'), 'utf8'));
    expect(pulled.rendered).toEqual(['svc-0', 'svc-1', 'svc-2'].map((name) => ({ kind: 'Deployment', metadata: { name } })));
    const show = await runHelm(['show', 'chart', published.ociRef.replace(/:1\.4\.2$/, ''), '--version', '1.4.2', '--plain-http'], { check: true });
    expect(show.stdout).toMatch(/^appVersion: "0000000"$/m);
  });

  test('a bump to an all-digit short sha publishes appVersion as a string: helm pull, template and lint accept it', async () => {
    const registry = new OciRegistry(host);
    const path = `${uniqueName('baton-test')}/charts`;
    const dir = writeFixtureChart(join(tempDir('baton-oci-'), 'shop'));
    writeFileSync(join(dir, 'templates', 'deployment.yaml'), LINTABLE_TEMPLATE);
    const chartYamlPath = join(dir, 'Chart.yaml');
    const valuesPath = join(dir, 'values.yaml');
    // An unquoted appVersion, as a hand-written Chart.yaml may have it.
    writeFileSync(chartYamlPath, readFileSync(chartYamlPath, 'utf8').replace('appVersion: "0000000"', 'appVersion: v1'));
    for (const sha of ['1234567', '0b10110']) {
      const edit = applyImagesToChart(
        { chartYaml: readFileSync(chartYamlPath, 'utf8'), values: readFileSync(valuesPath, 'utf8') },
        [{ service: 'svc-0', tag: sha, digest: digestOf(sha) }],
        { appVersion: sha },
      );
      writeFileSync(chartYamlPath, edit.texts.chartYaml);
      writeFileSync(valuesPath, edit.texts.values);
      const chart = await packageChart(dir);
      expect(chart.metadata.appVersion).toBe(sha);
      const published = await publishChart(registry, path, chart);
      const manifest = (await registry.getManifest(`${path}/shop`, edit.version))!.json as { config: { digest: string } };
      expect(JSON.parse((await registry.getBlob(`${path}/shop`, manifest.config.digest)).toString('utf8')).appVersion).toBe(sha);
      const pulled = await pullAndTemplate(published.ociRef.slice(0, published.ociRef.lastIndexOf(':')), edit.version);
      expect(pulled.chartYaml).toContain(`appVersion: "${sha}"`);
      expect(pulled.rendered).toContainEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'svc-0' }, data: { tag: sha } });
      const lint = await runHelm(['lint', '--strict', pulled.dir]);
      expect({ status: lint.status, stdout: lint.stdout }).toEqual({ status: 0, stdout: expect.stringContaining('0 chart(s) failed') });
    }
  });

  test('a chart whose appVersion YAML reads as a number is refused before it is pushed, naming the field to quote', async () => {
    const dir = writeFixtureChart(join(tempDir('baton-oci-'), 'shop'));
    writeFileSync(join(dir, 'Chart.yaml'), readFileSync(join(dir, 'Chart.yaml'), 'utf8').replace('appVersion: "0000000"', 'appVersion: 1234567'));
    await expect(packageChart(dir)).rejects.toThrow(ChartYamlError);
    await expect(packageChart(dir)).rejects.toThrow(/"appVersion" is read as a number \(1234567\).*quote it: appVersion: "1234567"/);
    // helm itself agrees that such a chart is broken.
    const lint = await runHelm(['lint', '--strict', dir]);
    expect(lint.status).toBe(1);
    expect(lint.stdout).toMatch(/\[ERROR\] Chart\.yaml: appVersion should be of type string/);
  });
});
