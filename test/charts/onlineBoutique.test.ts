// Renders charts/online-boutique with values.yaml and with each environment's
// values, validates every manifest, and checks what the chart promises.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseDocument, isMap, isScalar } from 'yaml';

import { applyImagesToChart } from '../../domain/chart/chartEdit.js';

import {
  ENVS,
  SERVICES,
  byKind,
  chartDir,
  containersOf,
  envNamespace,
  envValueFiles,
  find,
  readYaml,
  render,
  validateManifest,
  type Env,
  type Manifest,
} from './helmRender.js';

const SERVING = SERVICES.filter((s) => s !== 'loadgenerator');

// microservices-demo's documented facts (kubernetes-manifests/*.yaml, helm-chart/):
// container port, Service port, probe kind.
const FACTS: Record<string, { containerPort: number; servicePort: number; probe: 'grpc' | 'http' }> = {
  adservice: { containerPort: 9555, servicePort: 9555, probe: 'grpc' },
  cartservice: { containerPort: 7070, servicePort: 7070, probe: 'grpc' },
  checkoutservice: { containerPort: 5050, servicePort: 5050, probe: 'grpc' },
  currencyservice: { containerPort: 7000, servicePort: 7000, probe: 'grpc' },
  emailservice: { containerPort: 8080, servicePort: 5000, probe: 'grpc' },
  frontend: { containerPort: 8080, servicePort: 80, probe: 'http' },
  paymentservice: { containerPort: 50051, servicePort: 50051, probe: 'grpc' },
  productcatalogservice: { containerPort: 3550, servicePort: 3550, probe: 'grpc' },
  recommendationservice: { containerPort: 8080, servicePort: 8080, probe: 'grpc' },
  shippingservice: { containerPort: 50051, servicePort: 50051, probe: 'grpc' },
};
const UPSTREAM_ENV: Record<string, Record<string, string>> = {
  frontend: {
    PRODUCT_CATALOG_SERVICE_ADDR: 'productcatalogservice:3550',
    CURRENCY_SERVICE_ADDR: 'currencyservice:7000',
    CART_SERVICE_ADDR: 'cartservice:7070',
    RECOMMENDATION_SERVICE_ADDR: 'recommendationservice:8080',
    SHIPPING_SERVICE_ADDR: 'shippingservice:50051',
    CHECKOUT_SERVICE_ADDR: 'checkoutservice:5050',
    AD_SERVICE_ADDR: 'adservice:9555',
  },
  checkoutservice: {
    PRODUCT_CATALOG_SERVICE_ADDR: 'productcatalogservice:3550',
    SHIPPING_SERVICE_ADDR: 'shippingservice:50051',
    PAYMENT_SERVICE_ADDR: 'paymentservice:50051',
    EMAIL_SERVICE_ADDR: 'emailservice:5000',
    CURRENCY_SERVICE_ADDR: 'currencyservice:7000',
    CART_SERVICE_ADDR: 'cartservice:7070',
  },
  recommendationservice: { PRODUCT_CATALOG_SERVICE_ADDR: 'productcatalogservice:3550' },
  cartservice: { REDIS_ADDR: 'redis-cart:6379' },
  loadgenerator: { FRONTEND_ADDR: 'frontend:80', USERS: '10' },
};

const DIGEST = (c: string): string => `sha256:${c.repeat(64)}`;

const rendered = new Map<Env, Manifest[]>();
let tmp: string;

beforeAll(async () => {
  for (const env of ENVS) rendered.set(env, await render({ valueFiles: envValueFiles(env), namespace: envNamespace(env) }));
  tmp = mkdtempSync(path.join(os.tmpdir(), 'baton-chart-test-'));
}, 180_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function docs(env: Env): Manifest[] {
  const d = rendered.get(env);
  if (!d) throw new Error(`no render for ${env}`);
  return d;
}

function envOf(container: { env?: { name: string; value?: string }[] }): Record<string, string | undefined> {
  return Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
}

function enabledServices(env: Env): string[] {
  return env === 'prod' ? SERVICES.filter((s) => s !== 'loadgenerator') : [...SERVICES];
}

describe.each(ENVS)('online-boutique rendered with %s values', (env) => {
  test('every manifest is valid (kubernetes-models, CRD checks, no unknown fields)', () => {
    expect(docs(env).length).toBeGreaterThan(0);
    for (const d of docs(env)) expect(() => validateManifest(d)).not.toThrow();
  });

  test('every object lands in the release namespace', () => {
    for (const d of docs(env)) expect(`${d.kind}/${d.metadata.name}:${d.metadata.namespace}`).toBe(`${d.kind}/${d.metadata.name}:${envNamespace(env)}`);
  });

  test('one Deployment per enabled service (plus redis-cart), one Service per listening service', () => {
    const enabled = enabledServices(env);
    const deployments = byKind(docs(env), 'Deployment').map((d) => d.metadata.name).sort();
    expect(deployments).toEqual([...enabled, 'redis-cart'].sort());
    const services = byKind(docs(env), 'Service').map((d) => d.metadata.name).sort();
    // loadgenerator listens on nothing (upstream has no Service for it either).
    expect(services).toEqual([...SERVING, 'redis-cart'].sort());
    for (const name of enabled) {
      expect(byKind(docs(env), 'Deployment').filter((d) => d.metadata.name === name)).toHaveLength(1);
      if (name !== 'loadgenerator') expect(byKind(docs(env), 'Service').filter((d) => d.metadata.name === name)).toHaveLength(1);
    }
  });

  test('an HPA for every service except loadgenerator, targeting its Deployment', () => {
    const hpas = byKind(docs(env), 'HorizontalPodAutoscaler');
    expect(hpas.map((h) => h.metadata.name).sort()).toEqual([...SERVING].sort());
    for (const h of hpas) {
      expect(h.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: h.metadata.name });
      expect(h.spec.minReplicas).toBeLessThanOrEqual(h.spec.maxReplicas);
      expect(h.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: expect.any(Number) } } }]);
      // The HPA owns replicas: the Deployment must not fight it.
      expect(find(docs(env), 'Deployment', h.metadata.name).spec.replicas).toBeUndefined();
    }
  });

  test('a PodDisruptionBudget for every service except loadgenerator, selecting its pods', () => {
    const pdbs = byKind(docs(env), 'PodDisruptionBudget');
    expect(pdbs.map((p) => p.metadata.name).sort()).toEqual([...SERVING].sort());
    for (const p of pdbs) {
      const dep = find(docs(env), 'Deployment', p.metadata.name);
      expect(dep.spec.template.metadata.labels).toMatchObject(p.spec.selector.matchLabels);
    }
  });

  test('no image uses the latest tag, and every image is pinned by tag or digest', () => {
    for (const d of byKind(docs(env), 'Deployment')) {
      for (const c of containersOf(d)) {
        const image: string = c.image;
        expect(image).not.toMatch(/:latest(@|$)/);
        expect(image).toMatch(/(@sha256:[a-f0-9]{64}|:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$/);
      }
    }
  });

  test('every container has CPU and memory requests, and a restrictive security context', () => {
    for (const d of byKind(docs(env), 'Deployment')) {
      const pod = d.spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(containersOf(d).length).toBeGreaterThan(0);
      for (const c of containersOf(d)) {
        const where = `${d.metadata.name}/${c.name}`;
        expect({ where, requests: c.resources?.requests }).toEqual({ where, requests: { cpu: expect.anything(), memory: expect.anything() } });
        expect({ where, sc: c.securityContext }).toMatchObject({
          where,
          sc: { allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
        });
      }
    }
  });

  test('Services select exactly the pods of their Deployment, on the right ports', () => {
    const deployments = byKind(docs(env), 'Deployment');
    for (const s of byKind(docs(env), 'Service')) {
      const matches = deployments.filter((d) => Object.entries(s.spec.selector as Record<string, string>).every(([k, v]) => d.spec.template.metadata.labels[k] === v));
      expect({ service: s.metadata.name, selects: matches.map((d) => d.metadata.name) }).toEqual({
        service: s.metadata.name,
        selects: [s.metadata.name === 'frontend-external' ? 'frontend' : s.metadata.name],
      });
      const dep = matches[0] as Manifest;
      const containerPorts = dep.spec.template.spec.containers.flatMap((c: { ports?: { containerPort: number }[] }) => (c.ports ?? []).map((p) => p.containerPort));
      for (const p of s.spec.ports) expect(containerPorts).toContain(p.targetPort);
    }
  });

  test('ports, probes and environment follow microservices-demo', () => {
    for (const [name, f] of Object.entries(FACTS)) {
      if (!enabledServices(env).includes(name)) continue;
      const dep = find(docs(env), 'Deployment', name);
      const c = dep.spec.template.spec.containers[0];
      expect(c.ports.map((p: { containerPort: number }) => p.containerPort)).toEqual([f.containerPort]);
      expect(envOf(c).PORT).toBe(String(f.containerPort));
      expect(find(docs(env), 'Service', name).spec.ports).toEqual([expect.objectContaining({ port: f.servicePort, targetPort: f.containerPort })]);
      for (const probe of [c.readinessProbe, c.livenessProbe]) {
        if (f.probe === 'grpc') expect(probe.grpc).toEqual({ port: f.containerPort });
        else expect(probe.httpGet).toMatchObject({ path: '/_healthz', port: f.containerPort });
      }
    }
    for (const [name, expected] of Object.entries(UPSTREAM_ENV)) {
      if (!enabledServices(env).includes(name)) continue;
      const dep = find(docs(env), 'Deployment', name);
      const c = dep.spec.template.spec.containers[0];
      const want = env === 'dev' && name === 'loadgenerator' ? { ...expected, USERS: '5' } : expected;
      expect(envOf(c)).toMatchObject(want);
    }
  });

  test('every address a service dials is a rendered Service on that port', () => {
    const services = new Map(byKind(docs(env), 'Service').map((s) => [s.metadata.name, s.spec.ports.map((p: { port: number }) => p.port)]));
    // The 11 services' containers (redis-cart's exporter dials localhost inside its pod).
    for (const d of byKind(docs(env), 'Deployment').filter((x) => (SERVICES as readonly string[]).includes(x.metadata.name))) {
      for (const c of containersOf(d)) {
        for (const [k, v] of Object.entries(envOf(c))) {
          if (!k.endsWith('_ADDR') || v === undefined) continue;
          const m = /^([a-z0-9-]+):(\d+)$/.exec(v);
          expect({ env: k, value: v, ok: !!m }).toEqual({ env: k, value: v, ok: true });
          expect({ env: k, ports: services.get(m![1]!) }).toEqual({ env: k, ports: expect.arrayContaining([Number(m![2])]) });
        }
      }
    }
  });

  test('the frontend is routed through the regional Gateway; no LoadBalancer Service then', () => {
    const route = find(docs(env), 'HTTPRoute', 'frontend');
    if (env === 'default') {
      // Standalone, the chart brings its own Gateway.
      const gw = find(docs(env), 'Gateway', 'boutique');
      expect(gw.apiVersion).toBe('gateway.networking.k8s.io/v1');
      expect(gw.spec.gatewayClassName).toBe('gke-l7-regional-external-managed');
      expect(route.spec.parentRefs).toEqual([expect.objectContaining({ kind: 'Gateway', name: 'boutique', namespace: envNamespace(env), sectionName: gw.spec.listeners[0].name })]);
    } else {
      // Deployed, it attaches to the one Gateway Terraform owns (modules/ingress), on every listener.
      expect(byKind(docs(env), 'Gateway')).toHaveLength(0);
      expect(route.spec.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'baton-frontend', namespace: 'gateway' }]);
      // prod serves every host name of the Gateway; dev only its own, which takes precedence
      // over a route without host names, so it never takes prod's traffic.
      expect(route.spec.hostnames).toEqual(env === 'dev' ? ['dev.boutique.internal'] : undefined);
    }
    expect(route.spec.rules[0].backendRefs).toEqual([{ name: 'frontend', port: 80 }]);
    expect(find(docs(env), 'HealthCheckPolicy', 'frontend').spec.default.config.httpHealthCheck).toEqual({ port: 8080, requestPath: '/_healthz' });
    expect(byKind(docs(env), 'Service').filter((s) => s.spec.type === 'LoadBalancer')).toHaveLength(0);
  });

  test('PodMonitoring (Managed Prometheus) scrapes the redis exporter, on a declared port', () => {
    const pms = byKind(docs(env), 'PodMonitoring');
    expect(pms.map((p) => p.metadata.name)).toEqual(['redis-cart']);
    const pm = pms[0] as Manifest;
    expect(pm.apiVersion).toBe('monitoring.googleapis.com/v1');
    const dep = find(docs(env), 'Deployment', 'redis-cart');
    expect(dep.spec.template.metadata.labels).toMatchObject(pm.spec.selector.matchLabels);
    const names = containersOf(dep).flatMap((c: { ports?: { name: string }[] }) => (c.ports ?? []).map((p) => p.name));
    expect(names).toContain(pm.spec.endpoints[0].port);
  });
});

describe('per-environment settings', () => {
  test('HPA min/max/target come from values, with per-service overrides', () => {
    const hpa = (env: Env, name: string): Manifest => find(docs(env), 'HorizontalPodAutoscaler', name);
    expect(hpa('default', 'adservice').spec).toMatchObject({ minReplicas: 1, maxReplicas: 5 });
    expect(hpa('dev', 'adservice').spec).toMatchObject({ minReplicas: 1, maxReplicas: 3 });
    expect(hpa('prod', 'adservice').spec).toMatchObject({ minReplicas: 2, maxReplicas: 10 });
    expect(hpa('prod', 'adservice').spec.metrics[0].resource.target.averageUtilization).toBe(60);
    expect(hpa('prod', 'frontend').spec).toMatchObject({ minReplicas: 3, maxReplicas: 15 });
  });

  test('prod runs no load generator', () => {
    expect(byKind(docs('prod'), 'Deployment').map((d) => d.metadata.name)).not.toContain('loadgenerator');
  });

  test('loadgenerator has a fixed replica count and no HPA', () => {
    expect(find(docs('default'), 'Deployment', 'loadgenerator').spec.replicas).toBe(1);
    expect(byKind(docs('default'), 'HorizontalPodAutoscaler').map((h) => h.metadata.name)).not.toContain('loadgenerator');
  });
});

describe('image references (contract with chartBump)', () => {
  test('without a digest the image is repository:tag', () => {
    const c = find(docs('default'), 'Deployment', 'frontend').spec.template.spec.containers[0];
    expect(c.image).toBe('us-central1-docker.pkg.dev/google-samples/microservices-demo/frontend:v0.10.3');
  });

  test('with a digest the image is repository@digest; the tag stays in a label and an annotation', async () => {
    const digest = DIGEST('a');
    const out = await render({ set: [`services.frontend.image.digest=${digest}`, 'services.frontend.image.tag=v0.10.4'] });
    for (const d of out) validateManifest(d);
    const dep = find(out, 'Deployment', 'frontend');
    const c = dep.spec.template.spec.containers[0];
    expect(c.image).toBe(`us-central1-docker.pkg.dev/google-samples/microservices-demo/frontend@${digest}`);
    expect(dep.spec.template.metadata.labels['app.kubernetes.io/version']).toBe('v0.10.4');
    expect(dep.spec.template.metadata.annotations).toMatchObject({ 'online-boutique.baton/image-tag': 'v0.10.4', 'online-boutique.baton/image-digest': digest });
    // Other services keep their tag.
    expect(find(out, 'Deployment', 'cartservice').spec.template.spec.containers[0].image).toMatch(/cartservice:v0\.10\.3$/);
  });

  test('a values file written like chartBump writes it pins every service by digest', async () => {
    const doc = parseDocument(readFileSync(path.join(chartDir, 'values.yaml'), 'utf8'));
    SERVICES.forEach((name, i) => {
      doc.setIn(['services', name, 'image', 'repository'], `us-central1-docker.pkg.dev/proj/boutique/${name}`);
      doc.setIn(['services', name, 'image', 'tag'], `main-${i}`);
      doc.setIn(['services', name, 'image', 'digest'], DIGEST('0123456789abcdef'[i] ?? 'f'));
    });
    const chartCopy = path.join(tmp, 'bumped-chart');
    rmSync(chartCopy, { recursive: true, force: true });
    cpSync(chartDir, chartCopy, { recursive: true });
    writeFileSync(path.join(chartCopy, 'values.yaml'), doc.toString());
    const out = await render({ chart: chartCopy });
    SERVICES.forEach((name, i) => {
      const c = find(out, 'Deployment', name).spec.template.spec.containers.find((x: { name: string }) => x.name !== 'frontend-check');
      expect(c.image).toBe(`us-central1-docker.pkg.dev/proj/boutique/${name}@${DIGEST('0123456789abcdef'[i] ?? 'f')}`);
    });
  });
});

describe('gateway fallback and metrics switches', () => {
  test('with the Gateway disabled, the frontend gets a LoadBalancer Service and no HTTPRoute', async () => {
    const out = await render({ set: ['gateway.enabled=false'] });
    for (const d of out) validateManifest(d);
    expect(byKind(out, 'HTTPRoute')).toHaveLength(0);
    expect(byKind(out, 'Gateway')).toHaveLength(0);
    const lb = find(out, 'Service', 'frontend-external');
    expect(lb.spec.type).toBe('LoadBalancer');
    expect(lb.spec.ports).toEqual([expect.objectContaining({ port: 80, targetPort: 8080 })]);
  });

  test('an existing Gateway can be referenced instead of created', async () => {
    const out = await render({ set: ['gateway.create=false', 'gateway.name=shared', 'gateway.namespace=gateways'] });
    expect(byKind(out, 'Gateway')).toHaveLength(0);
    expect(find(out, 'HTTPRoute', 'frontend').spec.parentRefs[0]).toMatchObject({ name: 'shared', namespace: 'gateways' });
  });

  test('--set with a list index is rendered by helm: gateway.hostnames[0]', async () => {
    const out = await render({ set: ['gateway.hostnames[0]=shop.example.com', 'gateway.hostnames[1]=www.example.com'] });
    expect(find(out, 'HTTPRoute', 'frontend').spec.hostnames).toEqual(['shop.example.com', 'www.example.com']);
  });

  test('enabling metrics on a service renders its PodMonitoring', async () => {
    const out = await render({ set: ['services.frontend.metrics.enabled=true', 'services.frontend.metrics.port=9090'] });
    const pm = find(out, 'PodMonitoring', 'frontend');
    validateManifest(pm);
    expect(pm.spec.endpoints).toEqual([{ port: 9090, path: '/metrics', interval: '30s' }]);
  });

  test('without in-cluster redis, cartservice dials the configured address', async () => {
    const out = await render({ set: ['redis.enabled=false', 'services.cartservice.redisAddr=10.0.0.3:6379'] });
    expect(byKind(out, 'Deployment').map((d) => d.metadata.name)).not.toContain('redis-cart');
    expect(envOf(find(out, 'Deployment', 'cartservice').spec.template.spec.containers[0]).REDIS_ADDR).toBe('10.0.0.3:6379');
  });
});

describe('chart files', () => {
  test('Chart.yaml is what chartBump expects', () => {
    const chart = readYaml(path.join(chartDir, 'Chart.yaml')) as Record<string, unknown>;
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'online-boutique' });
    expect(chart.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(typeof chart.appVersion).toBe('string');
    expect(chart.dependencies).toBeUndefined();
  });

  test('values.yaml: every service under services.<name> with image {repository, tag, digest}, documented with @param', () => {
    const text = readFileSync(path.join(chartDir, 'values.yaml'), 'utf8');
    const doc = parseDocument(text);
    expect(doc.errors).toEqual([]);
    const services = doc.get('services');
    expect(isMap(services)).toBe(true);
    for (const name of SERVICES) {
      const image = doc.getIn(['services', name, 'image']);
      expect(isMap(image)).toBe(true);
      if (!isMap(image)) continue;
      expect(image.items.map((p) => (isScalar(p.key) ? p.key.value : p.key))).toEqual(['repository', 'tag', 'digest']);
      expect(doc.getIn(['services', name, 'image', 'digest'])).toMatch(/^(sha256:[a-f0-9]{64})?$/);
      expect(text).toContain(`@param services.${name} `);
    }
  });

  test('each environment values file pins every service\'s image, as values.yaml does (the environment\'s release)', () => {
    const base = parseDocument(readFileSync(path.join(chartDir, 'values.yaml'), 'utf8'));
    for (const env of ENVS.filter((e) => e !== 'default')) {
      const doc = parseDocument(readFileSync(path.join(chartDir, `values-${env}.yaml`), 'utf8'));
      expect(doc.errors).toEqual([]);
      for (const name of SERVICES) {
        const image = doc.getIn(['services', name, 'image']);
        // chartBump finds services.<name>.image and edits exactly these three keys in place.
        expect({ env, name, keys: isMap(image) ? image.items.map((p) => (isScalar(p.key) ? p.key.value : p.key)) : image }).toEqual({ env, name, keys: ['repository', 'tag', 'digest'] });
        expect(doc.getIn(['services', name, 'image', 'digest'])).toMatch(/^(sha256:[a-f0-9]{64})?$/);
        expect(doc.getIn(['services', name, 'image', 'repository'])).toBe(base.getIn(['services', name, 'image', 'repository']));
      }
    }
  });

  test('a release written into one environment\'s values file, as chartBump writes it, moves that environment only', async () => {
    const chartCopy = path.join(tmp, 'release-in-dev');
    rmSync(chartCopy, { recursive: true, force: true });
    cpSync(chartDir, chartCopy, { recursive: true });
    const texts = { chartYaml: readFileSync(path.join(chartCopy, 'Chart.yaml'), 'utf8'), values: readFileSync(path.join(chartCopy, 'values-dev.yaml'), 'utf8') };
    const images = [
      { service: 'frontend', repository: 'europe-west1-docker.pkg.dev/proj/images/frontend', tag: 'abc1234', digest: DIGEST('a') },
      { service: 'cartservice', repository: 'europe-west1-docker.pkg.dev/proj/images/cartservice', tag: 'abc1234', digest: DIGEST('b') },
    ];
    const bumped = applyImagesToChart(texts, images, { valuesFile: 'values-dev.yaml' });
    expect(bumped.changed).toBe(true);
    // Only the pins changed: the header comment and every other line stay as they were.
    expect(bumped.texts.values.split('\n').filter((line, i) => line !== texts.values.split('\n')[i])).toHaveLength(6);
    expect(bumped.texts.values).toContain('## The release of dev:');
    writeFileSync(path.join(chartCopy, 'values-dev.yaml'), bumped.texts.values);
    const image = (out: Manifest[], name: string) => find(out, 'Deployment', name).spec.template.spec.containers[0].image;
    const dev = await render({ chart: chartCopy, valueFiles: [path.join(chartCopy, 'values-dev.yaml')], namespace: envNamespace('dev') });
    expect(image(dev, 'frontend')).toBe(`europe-west1-docker.pkg.dev/proj/images/frontend@${DIGEST('a')}`);
    expect(image(dev, 'cartservice')).toBe(`europe-west1-docker.pkg.dev/proj/images/cartservice@${DIGEST('b')}`);
    const prod = await render({ chart: chartCopy, valueFiles: [path.join(chartCopy, 'values-prod.yaml')], namespace: envNamespace('prod') });
    expect(image(prod, 'frontend')).toBe(image(docs('prod'), 'frontend'));
    expect(image(prod, 'frontend')).toBe('us-central1-docker.pkg.dev/google-samples/microservices-demo/frontend:v0.10.3');
  });
});
