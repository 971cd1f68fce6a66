import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarizePlan } from '../../domain/terraform/planSummary.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const hasPython = spawnSync('python3', ['--version']).status === 0;

const rc = (address: string, actions: string[], mode = 'managed') => ({ address, mode, type: 't', name: 'n', change: { actions } });

describe('summarizePlan', () => {
  test('counts like terraform plan: replacements are an add and a destroy', () => {
    const plan = {
      format_version: '1.2',
      resource_changes: [
        rc('module.pubsub.google_pubsub_topic.main["push-received"]', ['create']),
        rc('module.gke.google_container_cluster.main', ['update']),
        rc('module.bastion.google_compute_instance.main', ['delete', 'create']),
        rc('module.functions.google_cloudfunctions2_function.main["chartBump"]', ['create', 'delete']),
        rc('module.network.google_compute_firewall.iap_ssh', ['delete']),
        rc('module.cloudbuild.google_storage_bucket.logs', ['no-op']),
        rc('data.google_project.main', ['read'], 'data'),
        rc('module.old.google_pubsub_topic.x', ['forget']),
      ],
    };
    expect(summarizePlan(plan)).toEqual({
      add: 3,
      change: 1,
      destroy: 3,
      replace: 2,
      destroyed: [
        'module.bastion.google_compute_instance.main',
        'module.functions.google_cloudfunctions2_function.main["chartBump"]',
        'module.network.google_compute_firewall.iap_ssh',
      ],
    });
  });

  test('no changes', () => {
    expect(summarizePlan({ format_version: '1.2' })).toEqual({ add: 0, change: 0, destroy: 0, replace: 0, destroyed: [] });
    expect(summarizePlan({ resource_changes: [rc('a.b', ['no-op'])] })).toEqual({ add: 0, change: 0, destroy: 0, replace: 0, destroyed: [] });
  });

  test('works on the reduced plan.json, which has no mode on some entries', () => {
    expect(summarizePlan({ resource_changes: [{ address: 'a.b', change: { actions: ['delete'] } }] })).toEqual({
      add: 0,
      change: 0,
      destroy: 1,
      replace: 0,
      destroyed: ['a.b'],
    });
  });

  test.each([
    ['not an object', 'plan', /expected the JSON object/],
    ['an array', [], /expected the JSON object/],
    ['resource_changes not an array', { resource_changes: {} }, /not an array/],
    ['an entry without address', { resource_changes: [{ change: { actions: ['create'] } }] }, /resource_changes\[0\] has no address/],
    ['an entry without actions', { resource_changes: [{ address: 'a.b', change: {} }] }, /a\.b has no change\.actions/],
    ['empty actions', { resource_changes: [{ address: 'a.b', change: { actions: [] } }] }, /a\.b has no change\.actions/],
    ['an unknown action, which could hide a destroy', { resource_changes: [rc('a.b', ['obliterate'])] }, /unknown actions obliterate/],
  ])('rejects %s', (_label, input, message) => {
    expect(() => summarizePlan(input)).toThrow(message);
  });
});

describe('terraform/scripts/reduce-plan.py (plan.json as uploaded)', () => {
  (hasPython ? test : test.skip)('keeps what summarizePlan needs and drops every value', async () => {
    const full = {
      format_version: '1.2',
      terraform_version: '1.11.4',
      prior_state: { values: { root_module: { resources: [{ address: 'data.google_client_config.current', values: { access_token: 'ya29.secret' } }] } } },
      resource_changes: [
        { ...rc('module.x.google_secret_manager_secret.main["A"]', ['delete', 'create']), change: { actions: ['delete', 'create'], before: { token: 'ya29.secret' }, after: {} } },
        { ...rc('module.x.google_pubsub_topic.main["t"]', ['update']), change: { actions: ['update'], before: { labels: {} }, after: { labels: { a: 'b' } } } },
        rc('data.google_client_config.current', ['read'], 'data'),
      ],
    };
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'baton-plan-'));
    try {
      await fs.writeFile(path.join(dir, 'full.json'), JSON.stringify(full));
      const r = spawnSync('python3', [path.join(repoRoot, 'terraform/scripts/reduce-plan.py'), path.join(dir, 'full.json'), path.join(dir, 'plan.json')], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      const text = await fs.readFile(path.join(dir, 'plan.json'), 'utf8');
      expect(text).not.toContain('ya29');
      expect(summarizePlan(JSON.parse(text))).toEqual(summarizePlan(full));
      expect(summarizePlan(JSON.parse(text))).toEqual({ add: 1, change: 1, destroy: 1, replace: 1, destroyed: ['module.x.google_secret_manager_secret.main["A"]'] });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
