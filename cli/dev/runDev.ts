import { join } from 'node:path';
import { startEmbeddedStack } from '../../functions/embeddedStack.js';
import { loadConfig } from '../../shared/config/pipelineConfig.js';
import { FakeSlack } from '../../standins/slackApi.js';
import { embeddedRuntime } from '../../shared/runtime/embeddedRuntime.js';
import { batonHome } from '../cliRuntime.js';
import { startLocalRegistry } from '../../local/registry.js';

/**
 * `baton dev`: the embedded stack, long-running, with its state under `BATON_HOME` (default
 * ./.baton), so `baton runs`, `baton status` and `baton approve` in another terminal see the same
 * ledger. Without `BATON_REGISTRY` it starts a local registry; without `SLACK_API_URL` and
 * `SLACK_BOT_TOKEN` it starts the local Slack stand-in and prints each approval message here.
 */
export async function runDev(options: { port: number; duplicate: boolean }): Promise<void> {
  const home = batonHome();
  const env = { ...process.env };
  // The config first, before anything that keeps the process alive: a bad file or field is
  // reported (naming both) and the command exits non-zero.
  const config = loadConfig(env);
  const stops: Array<() => Promise<void>> = [];
  let registry = env.BATON_REGISTRY;
  if (!registry) {
    const local = await startLocalRegistry(join(home, 'registry'));
    registry = local.host;
    stops.push(local.stop);
  }
  if (!env.SLACK_API_URL && !env.SLACK_BOT_TOKEN) {
    env.SLACK_BOT_TOKEN = 'xoxb-local-dev';
    const slack = await FakeSlack.start({ token: env.SLACK_BOT_TOKEN });
    env.SLACK_API_URL = slack.url;
    env.SLACK_CHANNEL ??= 'C0LOCAL';
    stops.push(() => slack.close());
    let shown = 0;
    const timer = setInterval(() => {
      for (const message of slack.messages.slice(shown)) {
        process.stdout.write(`\n[slack #${message.channel}] ${message.text}\n  approve with: baton approve <runId> --as <approver id>\n`);
      }
      shown = slack.messages.length;
    }, 500);
    stops.push(async () => clearInterval(timer));
  }
  const runtime = embeddedRuntime({ env, config, local: { workDir: home, registry }, ledgerFile: join(home, 'ledger.sqlite'), bus: { duplicateDeliveries: options.duplicate ? 1 : 0 } });
  const stack = await startEmbeddedStack(runtime, { port: options.port });
  process.stdout.write(
    [
      `baton dev listening on ${stack.url}`,
      `  webhooks:  POST ${stack.url}/webhookIntake   (GitHub or GitLab format)`,
      `  Slack:     POST ${stack.url}/approvalCallback`,
      `  config:    ${runtime.config().file}`,
      `  state:     ${home}   registry: ${registry}`,
      `  git hook:  echo 'baton hook --repository <owner/name>' > .git/hooks/post-receive (see README)`,
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await stack.close();
  await runtime.bus().close();
  await runtime.ledger().close();
  for (const stop of stops) await stop();
}
