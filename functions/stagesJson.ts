import { ENV_VARS, UNSET_SECRET_VALUE, isSecretEnv } from '../shared/config/envVars.js';
import type { DocExpiry, DocIndex } from '../shared/ledger/docStore.js';
import { LEDGER_EXPIRY, LEDGER_INDEXES } from '../shared/ledger/runLedger.js';
import type { AnyStage } from '../shared/stage/declaration.js';
import { isHttpStage, isScheduledStage, isTopicStage } from '../shared/stage/declaration.js';
import { publishesOf } from '../shared/stage/manifest.js';
import { STAGES } from './stages.js';

/**
 * Terraform's view of the stage manifest: `terraform/modules/functions/stages.json`, written by
 * `npm run generate` and committed, read by the module with `jsondecode(file(...))`. Each
 * function, its triggers, its service account and exactly its grants come from here; no list of
 * targets is written in HCL. A test fails when the committed file is stale.
 */
export type StageJson = {
  /** The functions-framework entry point. */
  entryPoint: string;
  doc: string;
  /** `topic`, `http` or `schedule`. */
  trigger: 'topic' | 'http' | 'schedule';
  /** Topic triggers: one Eventarc trigger each. */
  topics: string[];
  /** Schedule triggers: the Cloud Scheduler cron (UTC). */
  schedule: string;
  /** HTTP triggers: callable by anyone (the handler checks a signature). */
  public: boolean;
  /** Its publisher grants: the declared topics, and `run-finished` for a stage that can end a run (`publishesOf`). */
  publishes: string[];
  /** Project roles; `roles/datastore.user` (the run ledger) for every stage. */
  projectRoles: string[];
  /** Service account labels it may act as (`roles/iam.serviceAccountUser`). */
  actAs: string[];
  /** Bucket label → role. */
  buckets: Record<string, string>;
  /** Artifact Registry repository label → role. */
  repositories: Record<string, string>;
  /** Plain environment variables (Terraform gives each its value). */
  env: string[];
  /** Secret environment variables (Secret Manager). */
  secrets: string[];
  timeoutSeconds: number;
  /** Topic stages: the subscription's dead-letter `max_delivery_attempts`; the handler sees the same number. */
  maxDeliveryAttempts: number;
  /** Egress through the VPC connector. */
  vpc: boolean;
};

export type StagesJson = {
  $comment: string;
  stages: Record<string, StageJson>;
  /** The ledger's composite indexes (an equality filter with an order), which Firestore needs declared. */
  firestoreIndexes: DocIndex[];
  /** The fields whose time lets a document go: a Firestore TTL policy each. */
  firestoreTtls: DocExpiry[];
  /** What a secret listed in Terraform's `unused_secrets` holds, which baton reads as not set. */
  unsetSecretValue: string;
};

/** Every stage reads these: the project (clients) and the pipeline config. */
const COMMON_ENV = ['GOOGLE_CLOUD_PROJECT', 'BATON_CONFIG'];
/** Every stage reads and writes the run ledger (Firestore). */
const COMMON_ROLES = ['roles/datastore.user'];

export function stageJson(stage: AnyStage): StageJson {
  const env = [...new Set([...COMMON_ENV, ...(stage.env ?? [])])];
  const secrets = [...(stage.secrets ?? [])];
  for (const name of [...env, ...secrets]) {
    if (!ENV_VARS.some((spec) => spec.name === name)) throw new Error(`stage ${stage.name}: ${name} is not in shared/config/envVars.ts`);
  }
  for (const name of env) if (isSecretEnv(name)) throw new Error(`stage ${stage.name}: ${name} is a secret; list it under secrets`);
  return {
    entryPoint: stage.name,
    doc: stage.doc,
    trigger: stage.trigger.kind,
    topics: isTopicStage(stage) ? [...stage.trigger.topics] : [],
    schedule: isScheduledStage(stage) ? stage.trigger.cron : '',
    public: isHttpStage(stage) ? stage.trigger.public : false,
    publishes: [...publishesOf(stage)],
    projectRoles: [...COMMON_ROLES, ...(stage.roles?.project ?? [])],
    actAs: [...(stage.roles?.actAs ?? [])],
    buckets: { ...stage.roles?.buckets } as Record<string, string>,
    repositories: { ...stage.roles?.repositories } as Record<string, string>,
    env,
    secrets,
    timeoutSeconds: stage.timeoutSeconds,
    maxDeliveryAttempts: isTopicStage(stage) ? stage.maxDeliveryAttempts : 0,
    vpc: stage.network === 'vpc',
  };
}

export function stagesJson(stages: readonly AnyStage[] = STAGES): StagesJson {
  return {
    $comment: 'Generated from functions/stages.ts by `npm run generate`; do not edit. terraform/modules/functions reads it.',
    stages: Object.fromEntries(stages.map((stage) => [stage.name, stageJson(stage)])),
    firestoreIndexes: LEDGER_INDEXES.filter((index) => index.fields.length > 1),
    firestoreTtls: LEDGER_EXPIRY.map((expiry) => ({ ...expiry })),
    unsetSecretValue: UNSET_SECRET_VALUE,
  };
}

/** The file's text, exactly as committed. */
export function stagesJsonText(stages: readonly AnyStage[] = STAGES): string {
  return `${JSON.stringify(stagesJson(stages), null, 2)}\n`;
}

/** Which stages read each variable: the env table (README, `baton` docs). */
export function envTable(stages: readonly AnyStage[] = STAGES): Array<{ name: string; secret: boolean; doc: string; stages: string[] }> {
  return ENV_VARS.map((spec) => ({
    ...spec,
    stages: stages.filter((stage) => COMMON_ENV.includes(spec.name) || (stage.env as readonly string[] | undefined)?.includes(spec.name) || (stage.secrets as readonly string[] | undefined)?.includes(spec.name)).map((stage) => stage.name),
  }));
}
