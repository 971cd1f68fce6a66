import type { StageRuntime, TopicHandler } from '../../shared/stage/declaration.js';
import { applySubstitutions, finishApply, startApply } from './apply.js';
import type { TerraformApplyDeps } from './apply.js';

/** terraformApply's handler: approvals start the apply; Cloud Build's notifications end it. */
export function terraformApplyHandler(runtime: StageRuntime<'deploy-finished'>): TopicHandler<'approval-decided' | 'cloud-builds', 'deploy-finished'> {
  const ledger = runtime.ledger();
  const deps: TerraformApplyDeps = {
    config: runtime.config(),
    ledger,
    log: runtime.log.child({ stage: 'terraformApply' }),
    builderFor: (pipeline) => runtime.builder(pipeline),
    now: () => runtime.now(),
    instanceId: runtime.instanceId,
    singleProcess: runtime.mode === 'embedded',
    applyRecord: async (build) => {
      const stored = await ledger.builds.get(build.id);
      if (stored) return stored.kind === 'terraform-apply' ? stored : undefined;
      return applySubstitutions(build);
    },
  };
  return (delivery) => (delivery.topic === 'approval-decided' ? startApply(delivery.event, deps) : finishApply(delivery.event, deps));
}
