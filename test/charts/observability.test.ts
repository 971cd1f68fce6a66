// Observability files that Terraform's observability module file()s from
// charts/observability: Alloy, Loki values, Grafana provisioning and
// dashboards, the datasource-syncer CronJob.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

import { parseManifests, readJson, readYaml, validateManifest, type Manifest } from './helmRender.js';

const obsDir = path.join(process.cwd(), 'charts', 'observability');
const dsDir = path.join(obsDir, 'grafana', 'provisioning', 'datasources');
const dashDir = path.join(obsDir, 'grafana', 'dashboards');

interface DataSource { name: string; uid: string; type: string; url: string; editable?: boolean; jsonData?: Record<string, unknown> }
const datasources: DataSource[] = readdirSync(dsDir)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => {
    const doc = readYaml(path.join(dsDir, f)) as { apiVersion: number; datasources: DataSource[] };
    expect(doc.apiVersion).toBe(1);
    return doc.datasources;
  });
const provisioned = new Map(datasources.map((d) => [d.uid, d]));

 
type Json = any;
const dashboards: [string, Json][] = readdirSync(dashDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => [f, readJson(path.join(dashDir, f))]);

function panelsOf(d: Json): Json[] {
  return (d.panels as Json[]).flatMap((p) => [p, ...((p.panels as Json[] | undefined) ?? [])]);
}

function queriesOf(d: Json): { expr: string; ds: Json; where: string }[] {
  const out: { expr: string; ds: Json; where: string }[] = [];
  for (const p of panelsOf(d)) {
    if (p.type === 'row') continue;
    for (const t of p.targets ?? []) out.push({ expr: t.expr, ds: t.datasource ?? p.datasource, where: `${d.uid} panel ${p.id} ${t.refId}` });
  }
  for (const v of d.templating?.list ?? []) {
    if (v.type === 'query') out.push({ expr: typeof v.query === 'string' ? v.query : v.query.query, ds: v.datasource, where: `${d.uid} variable ${v.name}` });
  }
  return out;
}

/** Brackets balance outside quoted strings (a cheap PromQL/LogQL syntax check). */
function balanced(expr: string): boolean {
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  const stack: string[] = [];
  let quote: string | null = null;
  for (let i = 0; i < expr.length; i++) {
    const ch = expr[i]!;
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = null;
      continue;
    }
    if (ch === '"' || ch === '`') quote = ch;
    else if ('([{'.includes(ch)) stack.push(ch);
    else if (ch in pairs && stack.pop() !== pairs[ch]) return false;
  }
  return stack.length === 0 && quote === null;
}

/** Removes Alloy (River) line comments, leaving "//" inside strings alone. */
function stripComments(src: string): string {
  return src
    .split('\n')
    .map((line) => {
      let quote = false;
      for (let i = 0; i < line.length; i++) {
        const ch = line[i];
        if (quote && ch === '\\') i++;
        else if (ch === '"') quote = !quote;
        else if (!quote && ch === '/' && line[i + 1] === '/') return line.slice(0, i);
      }
      return line;
    })
    .join('\n');
}

describe('Grafana provisioning', () => {
  test('provisions Loki and Managed Prometheus with unique uids', () => {
    expect(datasources.length).toBe(provisioned.size);
    expect(provisioned.get('loki')).toMatchObject({ type: 'loki' });
    expect(provisioned.get('loki')!.url).toMatch(/^http:\/\/loki-gateway\.loki\.svc/);
    const gmp = provisioned.get('gmp')!;
    expect(gmp).toMatchObject({ type: 'prometheus', editable: true });
    expect(gmp.url).toMatch(/^https:\/\/monitoring\.googleapis\.com\/v1\/projects\/[^/]+\/location\/global\/prometheus\/$/);
    expect(gmp.jsonData).toMatchObject({ httpMethod: 'GET' });
  });

  test('the dashboard provider loads a directory of JSON files', () => {
    const doc = readYaml(path.join(obsDir, 'grafana', 'provisioning', 'dashboards', 'dashboards.yaml')) as { apiVersion: number; providers: { type: string; options: { path: string } }[] };
    expect(doc.apiVersion).toBe(1);
    expect(doc.providers).toEqual([expect.objectContaining({ type: 'file', options: expect.objectContaining({ path: expect.stringMatching(/^\//) }) })]);
  });
});

describe('Grafana dashboards', () => {
  test('there are two: golden signals and DORA', () => {
    expect(dashboards.map(([, d]) => d.uid).sort()).toEqual(['baton-dora', 'boutique-golden-signals']);
  });

  test.each(dashboards)('%s is valid dashboard JSON', (_file, d) => {
    expect(typeof d.uid).toBe('string');
    expect(d.uid.length).toBeLessThanOrEqual(40);
    expect(typeof d.title).toBe('string');
    expect(Number.isInteger(d.schemaVersion)).toBe(true);
    expect(Array.isArray(d.panels)).toBe(true);
    const ids = panelsOf(d).map((p: Json) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panelsOf(d)) {
      expect(typeof p.type).toBe('string');
      expect(p.gridPos).toEqual({ x: expect.any(Number), y: expect.any(Number), w: expect.any(Number), h: expect.any(Number) });
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      if (p.type !== 'row') expect((p.targets ?? []).length).toBeGreaterThan(0);
    }
  });

  test.each(dashboards)('every query in %s names a provisioned data source of the right type', (_file, d) => {
    const qs = queriesOf(d);
    expect(qs.length).toBeGreaterThan(0);
    for (const q of qs) {
      const ds = provisioned.get(q.ds?.uid);
      expect({ where: q.where, uid: q.ds?.uid, provisioned: !!ds }).toEqual({ where: q.where, uid: q.ds?.uid, provisioned: true });
      expect({ where: q.where, type: q.ds.type }).toEqual({ where: q.where, type: ds!.type });
      expect({ where: q.where, expr: q.expr, balanced: typeof q.expr === 'string' && q.expr.length > 0 && balanced(q.expr) }).toEqual({ where: q.where, expr: q.expr, balanced: true });
    }
    for (const p of panelsOf(d)) if (p.type !== 'row') expect(provisioned.has(p.datasource?.uid)).toBe(true);
  });

  test('the DORA dashboard covers the four keys from the log-based metrics', () => {
    const d = dashboards.find(([, x]) => x.uid === 'baton-dora')![1];
    const exprs = queriesOf(d).map((q) => q.expr).join('\n');
    expect(exprs).toContain('logging_googleapis_com:user_baton_deployments');
    expect(exprs).toContain('logging_googleapis_com:user_baton_lead_time_seconds_bucket');
    expect(exprs).toContain('logging_googleapis_com:user_baton_time_to_restore_seconds_bucket');
    for (const q of queriesOf(d)) expect(provisioned.get(q.ds.uid)!.type).toBe('prometheus');
    const titles = panelsOf(d).map((p: Json) => String(p.title).toLowerCase()).join('\n');
    for (const key of ['deployment frequency', 'lead time for changes', 'change failure rate', 'time to restore']) expect(titles).toContain(key);
    // Status values come from deploy-finished: synced, degraded, timeout, failed, skipped.
    for (const m of exprs.matchAll(/status(=~|=)"([^"]+)"/g)) {
      for (const s of m[2]!.split('|')) expect(['synced', 'degraded', 'timeout', 'failed', 'skipped']).toContain(s);
    }
    expect(exprs).toMatch(/status=~"degraded\|timeout\|failed"/);
  });

  test('the golden-signals dashboard shows traffic, errors, latency and saturation, and logs from Loki', () => {
    const d = dashboards.find(([, x]) => x.uid === 'boutique-golden-signals')![1];
    const titles = panelsOf(d).map((p: Json) => String(p.title).toLowerCase()).join('\n');
    for (const word of ['requests per second', 'error', 'latency', 'cpu', 'memory']) expect(titles).toContain(word);
    const types = new Set(queriesOf(d).map((q) => provisioned.get(q.ds.uid)!.type));
    expect(types).toEqual(new Set(['prometheus', 'loki']));
    for (const q of queriesOf(d).filter((x) => x.ds.uid === 'loki')) expect(q.expr).toMatch(/\{namespace=/);
  });
});

describe('Alloy', () => {
  const config = readFileSync(path.join(obsDir, 'alloy', 'config.alloy'), 'utf8');
  const code = stripComments(config);

  test('collects /var/log/pods in CRI format into Loki', () => {
    expect(code).toContain('/var/log/pods/');
    expect(code).toMatch(/stage\.cri\s*\{\s*\}/);
    expect(code).toMatch(/loki\.source\.file\s+"/);
    const url = /url\s*=\s*"([^"]+)"/.exec(code)?.[1];
    expect(url).toMatch(/\/loki\/api\/v1\/push$/);
    // Alloy pushes where Grafana reads.
    expect(url!.startsWith(provisioned.get('loki')!.url)).toBe(true);
  });

  test('labels streams with namespace, pod and container', () => {
    for (const label of ['namespace', 'pod', 'container']) expect(code).toMatch(new RegExp(`target_label\\s*=\\s*"${label}"`));
  });

  test('is structurally sound: balanced braces, and every referenced component is defined', () => {
    expect(balanced(code)).toBe(true);
    const defined = new Set([...code.matchAll(/^([a-z_]+(?:\.[a-z_]+)+)\s+"([^"]+)"\s*\{/gm)].map((m) => `${m[1]}.${m[2]}`));
    expect(defined.size).toBeGreaterThanOrEqual(5);
    const refs = [...code.matchAll(/\b((?:discovery|local|loki)\.[a-z_.]+?\.[a-z_]+)\.(targets|output|receiver)\b/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(0);
    for (const r of refs) expect({ ref: r, defined: defined.has(r) }).toEqual({ ref: r, defined: true });
  });
});

describe('Loki values', () => {
  const text = readFileSync(path.join(obsDir, 'loki', 'values.yaml'), 'utf8');
  const values = readYaml(path.join(obsDir, 'loki', 'values.yaml')) as Json;

  test('runs SingleBinary on filesystem storage with one replica, and says why', () => {
    expect(values.deploymentMode).toBe('SingleBinary');
    expect(values.loki.commonConfig.replication_factor).toBe(1);
    expect(values.loki.storage.type).toBe('filesystem');
    expect(values.singleBinary.replicas).toBe(1);
    for (const t of ['backend', 'read', 'write']) expect(values[t].replicas).toBe(0);
    expect(values.loki.schemaConfig.configs[0]).toMatchObject({ store: 'tsdb', schema: 'v13' });
    expect(values.gateway.enabled).toBe(true);
    expect(text).toMatch(/Why SingleBinary/);
  });
});

describe('datasource-syncer', () => {
  const docs: Manifest[] = parseManifests(readFileSync(path.join(obsDir, 'datasource-syncer', 'cronjob.yaml'), 'utf8'));

  test('is a valid CronJob that refreshes the provisioned Managed Prometheus data source', () => {
    for (const d of docs) validateManifest(d);
    const cron = docs.find((d) => d.kind === 'CronJob') as Manifest;
    expect(cron).toBeDefined();
    const pod = cron.spec.jobTemplate.spec.template.spec;
    const c = pod.containers[0];
    expect(c.image).toMatch(/datasource-syncer:v[0-9]/);
    const uids = (c.args as string[]).find((a) => a.startsWith('--datasource-uids='))!.split('=')[1]!.split(',');
    for (const uid of uids) expect(provisioned.get(uid)?.type).toBe('prometheus');
    // The Grafana token comes from a Secret, never from the manifest.
    expect(c.args).toContain('--grafana-api-token=$(GRAFANA_API_TOKEN)');
    expect(c.env).toContainEqual({ name: 'GRAFANA_API_TOKEN', valueFrom: { secretKeyRef: expect.objectContaining({ key: expect.any(String) }) } });
    // Tokens live one hour: refresh well within that.
    expect(cron.spec.schedule).toMatch(/^\*\/([1-9]|[1-5][0-9]) \* \* \* \*$/);
    expect(pod.serviceAccountName).toBe(docs.find((d) => d.kind === 'ServiceAccount')!.metadata.name);
    expect(c.resources.requests).toEqual({ cpu: expect.anything(), memory: expect.anything() });
  });
});
