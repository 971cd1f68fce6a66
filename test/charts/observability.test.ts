// Observability files that Terraform's observability module file()s from
// charts/observability: Alloy, Loki values, Grafana provisioning and
// dashboards, the datasource-syncer CronJob.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

import { parseManifests, readJson, readYaml, validateManifest, type Manifest } from './helmRender.js';
import { queryErrors, variableQueryExpr, type QueryLanguage } from './queries.js';
import { loadTree, strings, type TfTree } from '../terraform/hclTree.js';

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
    if (v.type === 'query') out.push({ expr: variableQueryExpr(typeof v.query === 'string' ? v.query : v.query.query), ds: v.datasource, where: `${d.uid} variable ${v.name}` });
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
  test('there are three: golden signals, DORA, and baton\'s own health', () => {
    expect(dashboards.map(([, d]) => d.uid).sort()).toEqual(['baton-dora', 'baton-health', 'boutique-golden-signals']);
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
      // The official grammar of the data source's language, no error nodes.
      const language: QueryLanguage = ds!.type === 'loki' ? 'logql' : 'promql';
      expect({ where: q.where, expr: q.expr, errors: queryErrors(language, q.expr) }).toEqual({ where: q.where, expr: q.expr, errors: [] });
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

describe('query grammars (@prometheus-io/lezer-promql, @grafana/lezer-logql)', () => {
  test('every dashboard has PromQL, and the golden signals have LogQL, all parsed', () => {
    const all = dashboards.flatMap(([, d]) => queriesOf(d));
    expect(all.filter((q) => provisioned.get(q.ds.uid)?.type === 'prometheus').length).toBeGreaterThan(20);
    expect(all.filter((q) => provisioned.get(q.ds.uid)?.type === 'loki').length).toBeGreaterThan(0);
  });

  // Deliberately broken queries: the grammars must refuse each.
  test.each([
    ['promql', 'a missing parenthesis', 'sum by (service_name (rate(run_googleapis_com:request_count[$__rate_interval]))'],
    ['promql', 'a doubled equals sign in a matcher', 'up{job=="baton"}'],
    ['promql', 'an unquoted label value', 'up{job=baton}'],
    ['promql', 'a dangling operator', 'sum(up) /'],
    ['logql', 'a stream selector without braces', 'namespace="boutique-dev" |= "error"'],
    ['logql', 'an unclosed selector', '{namespace="boutique-dev" |= "error"'],
    ['logql', 'a line filter without its string', '{namespace="boutique-dev"} |~'],
  ] as const)('%s: %s', (language, _what, expr) => {
    expect(queryErrors(language, expr)).not.toEqual([]);
  });

  test('Grafana variables are substituted before parsing; an unknown one fails', () => {
    expect(queryErrors('promql', 'rate(x[$__rate_interval]) / ($__range_s / 86400)')).toEqual([]);
    expect(() => queryErrors('promql', 'rate(x[$__rate_intervall])')).toThrow(/unknown Grafana variable \$__rate_intervall/);
  });
});

describe('alerts on baton itself have a Grafana panel each', () => {
  let tree: TfTree;
  const health = dashboards.find(([, d]) => d.uid === 'baton-health')?.[1];

  beforeAll(async () => {
    tree = await loadTree(path.join(process.cwd(), 'terraform'));
  }, 60_000);

  /** Cloud Monitoring metric type → its name in Managed Prometheus' PromQL (run.googleapis.com/request_count → run_googleapis_com:request_count). */
  function promName(metricType: string): string {
    const slash = metricType.indexOf('/');
    return `${metricType.slice(0, slash).replace(/\./g, '_')}:${metricType.slice(slash + 1).replace(/[/.]/g, '_')}`;
  }

  test('dead letters, stuck runs and the functions\' error rate: same metric in the alert and in its panel', () => {
    const alerts = tree.dirs['modules/alerts'];
    expect(alerts).toBeDefined();
    const policies = alerts!.resources.google_monitoring_alert_policy ?? {};
    expect(Object.keys(policies).sort()).toEqual(['dead_letters', 'function_errors', 'runs_stuck']);
    // HCL source of the filters: metric.type = \"<type>\" (escaped quotes inside HCL strings).
    const text = [...strings(alerts!.locals as never), ...strings(policies as never)].join('\n');
    const metricTypes = [...new Set([...text.matchAll(/metric\.type = \\?"([^"\\]+)\\?"/g)].map((m) => m[1]!))];
    const resolved = metricTypes.map((t) => t.replace('${google_logging_metric.runs_stuck.name}', String(alerts!.variables.stuck_metric_name!.default)));
    expect(resolved.sort()).toEqual(['logging.googleapis.com/user/baton_runs_stuck', 'pubsub.googleapis.com/subscription/num_undelivered_messages', 'run.googleapis.com/request_count']);
    expect(health).toBeDefined();
    for (const [name, policy] of Object.entries(policies)) {
      const display = String(policy.display_name).replace('${each.key}', '<target>');
      const panels = panelsOf(health).filter((p: Json) => String(p.description ?? '').includes(`“${display}”`));
      expect({ policy: name, panels: panels.length }).toEqual({ policy: name, panels: 1 });
    }
    for (const t of resolved) {
      const exprs = queriesOf(health).map((q) => q.expr).join('\n');
      expect({ metric: t, inPanels: exprs.includes(promName(t)) }).toEqual({ metric: t, inPanels: true });
    }
    // The dead-letter panel and alert select the same subscriptions, the error panel the same services.
    expect(String(alerts!.locals.dead_letter_filter)).toContain('monitoring.regex.full_match(\\".*${var.dead_letter_suffix}\\")');
    expect(alerts!.variables.dead_letter_suffix!.default).toBe('-dead-letter');
    expect(queriesOf(health).some((q) => q.expr.includes('subscription_id=~".+-dead-letter"'))).toBe(true);
    expect(queriesOf(health).some((q) => q.expr.includes('response_code_class="5xx"') && q.expr.includes('service_name=~"baton-.+"'))).toBe(true);
  });

  test('the stuck-run metric counts the reconciler\'s run-stuck line, by pipeline and stage', () => {
    const alerts = tree.dirs['modules/alerts']!;
    const filter = String(alerts.locals.stuck_log_filter);
    for (const needle of ['jsonPayload.component=\\"baton\\"', 'jsonPayload.event=\\"run-stuck\\"', 'severity=WARNING']) expect(filter).toContain(needle);
    const metric = alerts.resources.google_logging_metric!.runs_stuck!;
    expect(metric.label_extractors).toEqual({ pipeline: 'EXTRACT(jsonPayload.pipeline)', stage: 'EXTRACT(jsonPayload.stage)' });
    expect(queriesOf(health).some((q) => /sum by \(pipeline, stage\)/.test(q.expr) && q.expr.includes('logging_googleapis_com:user_baton_runs_stuck'))).toBe(true);
  });

  test('envs/poc wires the alerts to the functions it deploys', () => {
    const call = tree.dirs['envs/poc']!.modules.alerts;
    expect(call).toMatchObject({ source: '../../modules/alerts', function_names: '${module.functions.function_names}' });
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
