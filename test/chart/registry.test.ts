import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { x as extract } from 'tar';
import { readFileSync } from 'node:fs';
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
import { uniqueName, writeFixtureChart } from './fixtures.js';

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
