/**
 * The list of stages: one line per stage, in the order a run goes through them. Everything that
 * needs to know the stages derives from this list: the package `main`'s registration, the
 * embedded stack, the ledger's stage order (`manifest.plan`), `baton await`'s stages and the
 * demo's timeline, the env table, the Jenkins check, and Terraform's inputs
 * (`npm run generate` → terraform/modules/functions/stages.json). See CONTRIBUTING.md, "Adding a stage".
 */
import { manifestOf } from '../shared/stage/manifest.js';
import { approvalCallback } from './approvalCallback/stage.js';
import { approvalExpiry } from './approvalExpiry/stage.js';
import { promotion } from './promotion/stage.js';
import { buildStatus } from './buildStatus/stage.js';
import { buildTrigger } from './buildTrigger/stage.js';
import { chartBump } from './chartBump/stage.js';
import { deployWatch } from './deployWatch/stage.js';
import { gitStatus } from './gitStatus/stage.js';
import { jenkinsTrigger } from './jenkinsTrigger/stage.js';
import { reconciler } from './reconciler/stage.js';
import { repoMirror } from './repoMirror/stage.js';
import { terraformApply } from './terraformApply/stage.js';
import { verifyRelease } from './verifyRelease/stage.js';
import { webhookIntake } from './webhookIntake/stage.js';
import { webhookSweep } from './webhookSweep/stage.js';

export const STAGES = [
  webhookIntake,
  repoMirror,
  buildTrigger,
  buildStatus,
  promotion,
  approvalCallback,
  approvalExpiry,
  chartBump,
  deployWatch,
  verifyRelease,
  terraformApply,
  // Beside the chain: the reporters (git hosts, Jenkins), and the sweeps.
  gitStatus,
  jenkinsTrigger,
  reconciler,
  webhookSweep,
] as const;

export type StageName = (typeof STAGES)[number]['name'];

/** What the generic machinery reads off the list. */
export const MANIFEST = manifestOf(STAGES);
