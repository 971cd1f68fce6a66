import { summarizePlan } from '../../shared/runtime/builders/planReport.js';


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

  test('an entry without a mode counts as managed', () => {
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
