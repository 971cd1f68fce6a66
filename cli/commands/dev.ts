import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('dev')
    .description('run the local stack long-running: every target in one process, HTTP targets on localhost (point a git hook at it)')
    .option('-p, --port <port>', 'HTTP port', (value) => Number(value), 8080)
    .option('--duplicate', 'deliver every bus message twice', false)
    .action(async (options: { port: number; duplicate: boolean }) => {
      const { runDev } = await import('../dev/runDev.js');
      await runDev(options);
    });

  program
    .command('hook')
    .description('git post-receive hook: reads "<old> <new> <ref>" lines on stdin and delivers each as a signed GitHub push webhook to baton dev')
    .requiredOption('--repository <owner/name>', 'repository name as the pipeline config lists it')
    .option('--git-dir <path>', 'the repository that received the push', process.env.GIT_DIR ?? '.')
    .option('--url <url>', 'webhookIntake URL (default: $BATON_DEV_URL/webhookIntake)')
    .action(async (options: { repository: string; gitDir: string; url?: string }) => {
      const { runHook } = await import('../dev/hook.js');
      process.exitCode = await runHook(options);
    });
}
