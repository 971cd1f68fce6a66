import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, affectedServices, loadConfig, matchPipeline, parseConfig, requireKey } from '../../shared/config/pipelineConfig.js';
import { tempDir } from '../support/runtimes.js';

const MINIMAL = `
pipelines:
  - name: shop
    repository: acme/shop
    branches: ["main", "release/*"]
    services:
      - name: frontend
        path: src/frontend/
      - name: everything
        path: ""
`;

describe('pipeline config', () => {
  test('a file with only the keys DESIGN.md fixes loads, with defaults', () => {
    const config = parseConfig(MINIMAL, 'baton.yaml');
    expect(config.pipelines[0]).toMatchObject({ name: 'shop', kind: 'app' });
    expect(config.bot.email).toMatch(/@/);
  });

  test.each([
    ['not YAML', 'pipelines: [', '(root)'],
    ['no pipelines', 'pipelines: []', 'pipelines'],
    ['a service without a path', MINIMAL.replace('        path: src/frontend/\n', ''), 'pipelines[0].services[0].path'],
    ['branches not a list', MINIMAL.replace('branches: ["main", "release/*"]', 'branches: main'), 'pipelines[0].branches'],
    ['a bad service name', MINIMAL.replace('name: frontend', 'name: Front End'), 'pipelines[0].services[0].name'],
    ['a duplicate pipeline', `${MINIMAL}${MINIMAL.replace('pipelines:\n', '')}`, 'pipelines[1].name'],
    ['a webhook id that is not a number', `${MINIMAL}    webhook: { hookId: "settings/hooks/12" }\n`, 'pipelines[0].webhook.hookId'],
    ['a webhook id that is not whole', `${MINIMAL}    webhook: { hookId: 12.5 }\n`, 'pipelines[0].webhook.hookId'],
    ['a webhook of an unknown host', `${MINIMAL}    webhook: { hookId: 12, provider: bitbucket }\n`, 'pipelines[0].webhook.provider'],
    ['a misspelt webhook key', `${MINIMAL}    webhook: { hook_id: 12 }\n`, 'pipelines[0].webhook.hookId: missing'],
    ['an Argo CD server with no application to sync, and no environments', `${MINIMAL}    deploy: { argocd: { url: https://argocd.internal } }\n`, 'pipelines[0].deploy.argocd.application: missing'],
  ])('an error names the file and the field: %s', (_name, text, field) => {
    expect(() => parseConfig(text, '/etc/baton/baton.yaml')).toThrow(ConfigError);
    expect(() => parseConfig(text, '/etc/baton/baton.yaml')).toThrow(`BATON_CONFIG /etc/baton/baton.yaml: ${field}:`);
  });

  test('with environments the Argo CD server needs no application of its own: each environment names one', () => {
    const text = `${MINIMAL}    deploy: { argocd: { url: https://argocd.internal } }\n    environments:\n      - { name: dev, promotion: auto, argocd: { application: shop-dev }, values: values-dev.yaml }\n`;
    expect(parseConfig(text, 'baton.yaml').pipelines[0]!.deploy?.argocd).toEqual({ url: 'https://argocd.internal' });
  });

  test('the sweep reads a pipeline webhook id, GitHub unless it says otherwise', () => {
    const config = parseConfig(`${MINIMAL}    webhook: { hookId: 12345678 }\n`, 'baton.yaml');
    expect(config.pipelines[0]!.webhook).toEqual({ hookId: 12345678 });
  });

  test('a key a stage needs is named with the file when missing', () => {
    const config = parseConfig(MINIMAL, 'baton.yaml');
    expect(() => requireKey(config, config.pipelines[0]!, 'mirror.url', config.pipelines[0]!.mirror?.url, 'repoMirror')).toThrow(
      'BATON_CONFIG baton.yaml: pipelines[0].mirror.url: missing; repoMirror needs it',
    );
  });

  test('loadConfig reads BATON_CONFIG and says how to fix a missing one', () => {
    expect(() => loadConfig({})).toThrow(/BATON_CONFIG is not set/);
    expect(() => loadConfig({ BATON_CONFIG: '/nonexistent/baton.yaml' })).toThrow(/nonexistent\/baton.yaml: \(file\): cannot be read/);
    const file = join(tempDir(), 'baton.yaml');
    writeFileSync(file, MINIMAL);
    expect(loadConfig({ BATON_CONFIG: file }).file).toBe(file);
  });

  test('branch globs and repository names match as documented', () => {
    const config = parseConfig(MINIMAL, 'baton.yaml');
    expect(matchPipeline(config, 'ACME/shop', 'main')?.name).toBe('shop');
    expect(matchPipeline(config, 'acme/shop', 'release/2.1')?.name).toBe('shop');
    expect(matchPipeline(config, 'acme/shop', 'feature/x')).toBeUndefined();
    expect(matchPipeline(config, 'acme/shop', 'v1.0', true)).toBeUndefined();
  });

  test('a service is affected when a changed path starts with its path; "" is the whole repository', () => {
    const pipeline = parseConfig(MINIMAL, 'baton.yaml').pipelines[0]!;
    expect(affectedServices(pipeline, ['src/frontend/main.go'])).toEqual(['frontend', 'everything']);
    expect(affectedServices(pipeline, ['README.md'])).toEqual(['everything']);
  });
});
