// values.schema.json accepts values.yaml and every environment's values, and
// rejects known-bad values. helm applies the same schema at install time.
import path from 'node:path';
import AjvModule from 'ajv';

import { ENVS, SERVICES, chartDir, envValueFiles, mergeValues, readJson, readYaml } from './helmRender.js';

const Ajv = AjvModule.default;
const schema = readJson(path.join(chartDir, 'values.schema.json')) as Record<string, unknown>;
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
const validate = ajv.compile(schema);
const defaults = readYaml(path.join(chartDir, 'values.yaml'));

function withOverride(over: unknown): unknown {
  return mergeValues(structuredClone(defaults), over);
}

function errorsOf(values: unknown): string {
  return validate(values) ? '' : ajv.errorsText(validate.errors);
}

describe('values.schema.json', () => {
  test('is a draft-07 schema that ajv compiles in strict mode', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(typeof validate).toBe('function');
  });

  test.each(ENVS)('accepts values.yaml merged with the %s environment values', (env) => {
    let values = structuredClone(defaults);
    for (const f of envValueFiles(env)) values = mergeValues(values, readYaml(f));
    expect(errorsOf(values)).toBe('');
  });

  test('knows exactly the 11 services', () => {
    const props = (schema.properties as Record<string, { properties: Record<string, unknown>; required: string[] }>).services!;
    expect(Object.keys(props.properties).sort()).toEqual([...SERVICES].sort());
    expect([...props.required].sort()).toEqual([...SERVICES].sort());
  });

  test('accepts a digest with its tag, as chartBump writes it', () => {
    expect(errorsOf(withOverride({ services: { frontend: { image: { tag: 'v0.10.4', digest: `sha256:${'ab'.repeat(32)}` } } } }))).toBe('');
  });

  test('accepts a digest without a tag', () => {
    expect(errorsOf(withOverride({ services: { frontend: { image: { tag: '', digest: `sha256:${'0'.repeat(64)}` } } } }))).toBe('');
  });

  // [what, override merged over values.yaml, where the error must point]
  const BAD: [string, unknown, string][] = [
    ['a digest that is too short', { services: { frontend: { image: { digest: 'sha256:abc123' } } } }, '/services/frontend/image/digest'],
    ['a digest with uppercase hex', { services: { frontend: { image: { digest: `sha256:${'AB'.repeat(32)}` } } } }, '/services/frontend/image/digest'],
    ['a digest with another algorithm', { services: { frontend: { image: { digest: `sha512:${'a'.repeat(64)}` } } } }, '/services/frontend/image/digest'],
    ['a digest without its algorithm', { services: { frontend: { image: { digest: 'a'.repeat(64) } } } }, '/services/frontend/image/digest'],
    ['the tag latest', { services: { cartservice: { image: { tag: 'latest' } } } }, '/services/cartservice/image/tag'],
    ['the tag latest on the loadgenerator', { services: { loadgenerator: { image: { tag: 'latest' } } } }, '/services/loadgenerator/image/tag'],
    ['the tag latest on the busybox init image', { services: { loadgenerator: { frontendCheck: { image: { tag: 'latest' } } } } }, '/services/loadgenerator/frontendCheck/image/tag'],
    ['an empty tag without a digest', { services: { adservice: { image: { tag: '' } } } }, '/services/adservice/image/tag'],
    ['a tag with a colon', { services: { adservice: { image: { tag: 'v1:2' } } } }, '/services/adservice/image/tag'],
    ['a repository that carries a tag', { services: { adservice: { image: { repository: 'gcr.io/x/adservice:v1' } } } }, '/services/adservice/image/repository'],
    ['an extra key in image', { services: { adservice: { image: { pullPolicy: 'Always' } } } }, '/services/adservice/image'],
    ['a missing image key', { services: { adservice: { image: { digest: null } } } }, '/services/adservice/image'],
    ['an unknown service', { services: { wishlistservice: { enabled: true } } }, '/services'],
    ['a service without resources', { services: { emailservice: { resources: null } } }, '/services/emailservice'],
    ['resources without a memory request', { services: { emailservice: { resources: { requests: { memory: null } } } } }, '/services/emailservice/resources/requests'],
    ['a malformed CPU quantity', { services: { emailservice: { resources: { requests: { cpu: '100 millicores' } } } } }, '/services/emailservice/resources/requests/cpu'],
    ['a port out of range', { services: { adservice: { containerPort: 70000 } } }, '/services/adservice/containerPort'],
    ['a port given as a string', { services: { adservice: { servicePort: '9555' } } }, '/services/adservice/servicePort'],
    ['an unknown probe type', { services: { adservice: { probes: { type: 'exec' } } } }, '/services/adservice/probes/type'],
    ['an http probe without a path', { services: { frontend: { probes: { path: null } } } }, '/services/frontend/probes'],
    ['an upstream that is not a service', { services: { frontend: { upstreams: { AD_SERVICE_ADDR: 'adsservice' } } } }, '/services/frontend/upstreams/AD_SERVICE_ADDR'],
    ['a non-string env value', { services: { currencyservice: { env: { DISABLE_PROFILER: 1 } } } }, '/services/currencyservice/env/DISABLE_PROFILER'],
    ['a CPU target above 100%', { autoscaling: { targetCPUUtilizationPercentage: 150 } }, '/autoscaling/targetCPUUtilizationPercentage'],
    ['minReplicas 0', { services: { frontend: { autoscaling: { minReplicas: 0 } } } }, '/services/frontend/autoscaling/minReplicas'],
    ['an unknown autoscaling key', { autoscaling: { targetMemory: 80 } }, '/autoscaling'],
    ['an unknown gateway class', { gateway: { className: 'nginx' } }, '/gateway/className'],
    ['privilege escalation', { containerSecurityContext: { allowPrivilegeEscalation: true } }, '/containerSecurityContext/allowPrivilegeEscalation'],
    ['a writable root filesystem', { containerSecurityContext: { readOnlyRootFilesystem: false } }, '/containerSecurityContext/readOnlyRootFilesystem'],
    ['running as root allowed', { podSecurityContext: { runAsNonRoot: false } }, '/podSecurityContext/runAsNonRoot'],
    ['added capabilities', { containerSecurityContext: { capabilities: { add: ['NET_ADMIN'] } } }, '/containerSecurityContext/capabilities/add'],
    ['metrics enabled without a port', { services: { frontend: { metrics: { enabled: true } } } }, '/services/frontend/metrics'],
    ['a misspelt top-level key', { autoscalling: { enabled: true } }, 'data must NOT have additional properties'],
    ['a misspelt service key', { services: { frontend: { replicaCount: 3 } } }, '/services/frontend'],
  ];

  test.each(BAD)('rejects %s', (_label, over, where) => {
    const errors = errorsOf(withOverride(over));
    expect(errors).not.toBe('');
    expect(errors).toContain(where.startsWith('/') ? `data${where}` : where);
  });

  test('rejects values without the services map', () => {
    const v = structuredClone(defaults) as Record<string, unknown>;
    delete v.services;
    expect(errorsOf(v)).toMatch(/services/);
  });
});
