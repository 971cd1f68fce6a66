import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { checkJenkinsfile, unwatchedStages } from './jenkinsfileCheck.js';
import { STAGES } from '../../functions/stages.js';
import type { AnyStage } from '../../shared/stage/declaration.js';
import { smokeTest } from '../manifest/sampleStage/stage.js';
import type { JenkinsfileExpectations } from './jenkinsfileCheck.js';

/**
 * Checks of jenkins/: both Jenkinsfiles are declarative pipelines with the expected stages (by
 * Groovy's own parser and by the structural check), use credential bindings and hold no secret;
 * the app Jenkinsfile makes a stage per environment that awaits each per-environment stage with
 * --env, and its Groovy is run for real (runJenkinsfile.groovy) for a pipeline without
 * environments and for dev → prod; the JCasC file defines the jobs, pod templates and
 * credentials they rely on.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** The ledger stages that repeat per environment (`approval:<env>`, `chart:<env>`, `deploy:<env>`, `verify:<env>`; issue #15). */
const PER_ENVIRONMENT_LEDGER = ['approval', 'chart', 'deploy', 'verify'];

const APP: JenkinsfileExpectations = {
  stages: ['Intake', 'Mirror', 'Build', 'Environments'],
  awaits: { Intake: 'intake', Mirror: 'mirror', Build: 'build' },
  parameters: ['RUN_ID', 'PIPELINE', 'COMMIT'],
  environments: { stage: 'Environments', awaits: ['approve', 'chart', 'deploy', 'verify'] },
};
const TERRAFORM: JenkinsfileExpectations = {
  stages: ['Intake', 'Mirror', 'Plan', 'Approve', 'Apply'],
  awaits: { Intake: 'intake', Mirror: 'mirror' },
  parameters: ['RUN_ID', 'PIPELINE', 'COMMIT'],
};
const app = read('jenkins/Jenkinsfile');
const terraform = read('jenkins/Jenkinsfile.terraform');

/** The stages people watch in a pipeline of that kind, from the stage declarations. */
const watched = (stages: readonly AnyStage[], kind: 'app' | 'terraform') =>
  stages.filter((stage) => stage.watch && (!stage.kinds || stage.kinds.includes(kind))).map((stage) => stage.watch!.as);

/**
 * The watched stages that repeat per environment: their ledger stage is one of the
 * per-environment ones, or a declaration with that ledger stage says `perEnvironment`.
 */
const perEnvironment = (stages: readonly AnyStage[]) => {
  const ledger = new Set([...PER_ENVIRONMENT_LEDGER, ...stages.filter((stage) => (stage as { perEnvironment?: unknown }).perEnvironment && stage.ledgerStage).map((stage) => stage.ledgerStage!)]);
  return stages.filter((stage) => stage.watch && stage.ledgerStage && ledger.has(stage.ledgerStage)).map((stage) => stage.watch!.as);
};

/** verifyRelease as a watched stage (the real one is functions/verifyRelease): awaited per environment. */

describe('every watched stage has a Jenkins stage', () => {
  test('the app Jenkinsfile awaits every stage an app run has that people watch, the per-environment ones with --env', () => {
    expect(watched(STAGES, 'app')).toEqual(expect.arrayContaining(['intake', 'mirror', 'build', 'approve', 'chart', 'deploy']));
    expect(perEnvironment(STAGES)).toEqual(expect.arrayContaining(['approve', 'chart', 'deploy']));
    expect(unwatchedStages(app, watched(STAGES, 'app'), perEnvironment(STAGES))).toEqual([]);
    expect(unwatchedStages(app, watched([...STAGES], 'app'), perEnvironment([...STAGES]))).toEqual([]);
  });

  test('a watched stage added without a Jenkins stage fails the check', () => {
    expect(unwatchedStages(app, watched([...STAGES, smokeTest], 'app'), perEnvironment(STAGES))).toEqual(['smoke']);
    const noVerify = app.replace(/sh 'baton await "\$RUN_ID" --stage verify [^']*'/, "echo 'verified, probably'");
    expect(noVerify).not.toBe(app);
    expect(unwatchedStages(noVerify, watched([...STAGES], 'app'), perEnvironment([...STAGES]))).toEqual(['verify']);
  });

  test('a per-environment stage awaited without its environment fails the check', () => {
    const noEnv = app.replace(`--stage deploy \${BATON_ENV:+--env "$BATON_ENV"}`, '--stage deploy');
    expect(noEnv).not.toBe(app);
    expect(unwatchedStages(noEnv, watched(STAGES, 'app'), perEnvironment(STAGES))).toEqual(['deploy --env']);
  });
});

describe('the Jenkinsfiles pass the structural check', () => {
  test.each([
    ['jenkins/Jenkinsfile', app, APP],
    ['jenkins/Jenkinsfile.terraform', terraform, TERRAFORM],
  ])('%s', (_path, source, expected) => {
    expect(checkJenkinsfile(source, expected)).toEqual([]);
  });

  test('the app pipeline builds each service in parallel and decides through baton approve|reject', () => {
    expect(app).toMatch(/parallel branches/);
    expect(app).toMatch(/baton await "\$RUN_ID" --stage build --service "\$SERVICE"/);
    expect(app).toMatch(/submitter: env\.BATON_APPROVERS/);
    expect(app).toMatch(/baton "\$DECISION" "\$RUN_ID" \$\{BATON_ENV:\+--env "\$BATON_ENV"\} --as "\$APPROVER" --via jenkins/);
    expect(app).toMatch(/baton environments "\$PIPELINE" --json/);
    expect(app).toMatch(/choices: \['approve', 'reject'\]/);
  });

  test('the terraform pipeline applies exactly the saved plan', () => {
    expect(terraform).toMatch(/terraform plan [^\n]*-out=tfplan/);
    expect(terraform).toMatch(/terraform apply -input=false tfplan/);
  });
});

describe('the structural check fails on a broken Jenkinsfile', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['a removed stage', app.replace(/ {4}stage\('Mirror'\) \{\n[\s\S]*?\n {4}\}\n\n/, ''), /stages are \[Intake, Build, Environments\]/],
    ['stages out of order', app.replace("stage('Mirror')", "stage('TMP')").replace("stage('Build')", "stage('Mirror')").replace("stage('TMP')", "stage('Build')"), /stages are \[Intake, Build, Mirror, Environments\]/],
    ['an inlined Slack token', app.replace("BATON_CONFIG = '/etc/baton/config.yaml'", "BATON_CONFIG = '/etc/baton/config.yaml'\n    SLACK_BOT_TOKEN = 'xoxb-123456789012-abcdefghijkl'"), /inline secret: Slack token/],
    ['a literal trigger token', app.replace("sh 'baton await \"$RUN_ID\" --stage mirror'", "sh 'curl -X POST https://jenkins.test/buildByToken/build?job=x&token=s3cr3tvalue'"), /literal token parameter/],
    ['credentials in a URL', terraform.replace("credentialsId: 'baton-mirror-git'", "credentialsId: 'x', url2: 'https://bot:hunter22@git.test/x.git'"), /credentials in a URL/],
    ['a password literal', app.replace("BATON_CONFIG = '/etc/baton/config.yaml'", "BATON_CONFIG = '/etc/baton/config.yaml'\n    ARGOCD_PASSWORD = 'correct-horse-battery'"), /literal secret assignment/],
    ['a bound secret interpolated by Groovy', app.replace("--reason \"$REASON\"', returnStatus: true)", "--reason \"$REASON\" --token ${SLACK_BOT_TOKEN}\", returnStatus: true)").replace("def refused = sh(script: 'baton", 'def refused = sh(script: "baton'), /credential SLACK_BOT_TOKEN is interpolated by Groovy/],
    ['no credential binding', app.replace(/withCredentials\(\[string\(credentialsId: 'baton-slack-bot-token', variable: 'SLACK_BOT_TOKEN'\)\]\) \{/, 'if (true) {'), /no credential binding/],
    ['no agent', app.replace(/ {2}agent \{\n[\s\S]*?\n {2}\}\n/, ''), /pipeline has no agent/],
    ['a stage that no longer awaits', app.replace("sh 'baton await \"$RUN_ID\" --stage mirror'", "echo 'mirrored, probably'"), /stage Mirror does not run baton await --stage mirror/],
    ['an environment stage that no longer awaits the deploy', app.replace(`sh 'baton await "$RUN_ID" --stage deploy \${BATON_ENV:+--env "$BATON_ENV"}'`, "echo 'deployed, probably'"), /stage Environments does not run baton await --stage deploy/],
    ['a chart awaited without the environment', app.replace(`--stage chart \${BATON_ENV:+--env "$BATON_ENV"}`, '--stage chart'), /stage Environments awaits chart without --env/],
    ['environments not read from baton', app.replace(`sh(script: 'baton environments "$PIPELINE" --json', returnStdout: true)`, `'[{"name":"default"}]'`), /stage Environments does not read baton environments/],
    ['no stage per environment', app.replace('stage(target.name) {', 'dir(target.name) {').replace('stage(name) {', 'dir(name) {'), /stage Environments makes no stage per environment/],
    ['a missing parameter', app.replace("string(name: 'COMMIT'", "string(name: 'SHA'"), /parameter COMMIT is not declared/],
    ['an unbalanced block', app.replace(/\n\}\n$/, '\n'), /does not parse: unclosed block/],
  ];
  test.each(cases)('%s', (_name, broken, problem) => {
    const expected = broken.includes("stage('Plan')") ? TERRAFORM : APP;
    expect(checkJenkinsfile(broken, expected)).toEqual(expect.arrayContaining([expect.stringMatching(problem)]));
  });
});

/** Groovy 2.4+ from Debian (`apt-get install -y groovy`) with the machine's Java. */
const groovy = ['/usr/bin/groovy', '/usr/local/bin/groovy'].find((path) => existsSync(path));
const describeGroovy = groovy ? describe : describe.skip;
if (!groovy) process.stderr.write('jenkinsfiles.test: groovy is not installed (apt-get install -y groovy): skipping the Groovy parse\n');

describeGroovy("Groovy's parser", () => {
  const javaHome = process.env.JAVA_HOME ?? dirname(dirname(realpathSync('/usr/bin/java')));
  const parse = (...files: string[]) =>
    promisify(execFile)(groovy!, [join(root, 'test/jenkins/parseGroovy.groovy'), ...files], { env: { ...process.env, JAVA_HOME: javaHome }, timeout: 60_000 });

  test('parses both Jenkinsfiles and finds the stages in order', async () => {
    const { stdout } = await parse(join(root, 'jenkins/Jenkinsfile'), join(root, 'jenkins/Jenkinsfile.terraform'));
    expect(stdout).toContain(`jenkins/Jenkinsfile: ${APP.stages.join(',')}`);
    expect(stdout).toContain(`jenkins/Jenkinsfile.terraform: ${TERRAFORM.stages.join(',')}`);
  });

  test('rejects a Jenkinsfile with a syntax error', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'baton-jenkinsfile-')), 'Jenkinsfile');
    writeFileSync(file, app.replace("stage('Build') {", "stage('Build' {"));
    await expect(parse(file)).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/Jenkinsfile: .*unexpected token|expecting/i) });
  });
});

/**
 * The app Jenkinsfile run for real by runJenkinsfile.groovy: its Groovy with stand-in steps and
 * every `sh` in /bin/sh, against a recording `baton` that answers `environments` and `status`
 * and fails the one command a scenario names.
 */
describeGroovy('the app Jenkinsfile, run', () => {
  const javaHome = process.env.JAVA_HOME ?? dirname(dirname(realpathSync('/usr/bin/java')));
  const RUN = 'shop-1-abc1234';
  type Event = { stage?: string; sh?: string; input?: string; message?: string };
  type Scenario = { environments: Array<{ name: string; promotion: 'auto' | 'approval'; application: string; verify: boolean }>; fail?: string; abort?: string; inputFirst?: boolean; decision?: Record<string, string> };

  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  async function run(scenario: Scenario): Promise<{ result: string; error?: string; stages: string[]; inputs: Event[]; calls: string[] }> {
    const dir = mkdtempSync(join(tmpdir(), 'baton-jenkinsfile-run-'));
    dirs.push(dir);
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(
      join(bin, 'baton'),
      [
        '#!/bin/sh',
        '# Records "<stage path>: <argv>" and answers what the Jenkinsfile reads.',
        '{ printf \'%s:\' "$JENKINS_STAGE"; for a in "$@"; do printf \' %s\' "$a"; done; printf \'\\n\'; } >> "$BATON_LOG"',
        'case "$1" in',
        '  environments) printf \'%s\' "$BATON_ENVIRONMENTS" ;;',
        '  status) printf \'{"services":["frontend"]}\' ;;',
        'esac',
        '[ -n "$BATON_FAIL" ] && [ "$*" = "$BATON_FAIL" ] && exit 1',
        '[ -n "$BATON_ABORT" ] && [ "$*" = "$BATON_ABORT" ] && exit 143',
        'exit 0',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    const log = join(dir, 'baton.log');
    const file = join(dir, 'scenario.json');
    writeFileSync(
      file,
      JSON.stringify({
        params: { RUN_ID: RUN, PIPELINE: 'shop', COMMIT: 'abc1234def' },
        env: { PATH: `${bin}:/usr/bin:/bin`, BUILD_NUMBER: '7', BATON_LOG: log, BATON_ENVIRONMENTS: JSON.stringify(scenario.environments), BATON_FAIL: scenario.fail ?? '', BATON_ABORT: scenario.abort ?? '' },
        inputFirst: scenario.inputFirst ?? false,
        ...(scenario.decision ? { decision: scenario.decision } : {}),
      }),
    );
    const { stdout } = await promisify(execFile)(groovy!, [join(root, 'test/jenkins/runJenkinsfile.groovy'), join(root, 'jenkins/Jenkinsfile'), file], { env: { ...process.env, JAVA_HOME: javaHome }, timeout: 60_000 });
    const out = JSON.parse(stdout) as { result: string; error?: string; events: Event[] };
    const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
    return { result: out.result, ...(out.error ? { error: out.error } : {}), stages: out.events.filter((e) => e.stage && !e.sh).map((e) => e.stage!), inputs: out.events.filter((e) => e.input), calls };
  }

  const BEFORE = [`Intake: await ${RUN} --stage intake`, `Mirror: await ${RUN} --stage mirror`, `Build: status ${RUN} --json`, `Build: await ${RUN} --stage build --service frontend`, 'Environments: environments shop --json'];
  const DEV_PROD: Scenario['environments'] = [
    { name: 'dev', promotion: 'auto', application: 'online-boutique-dev', verify: true },
    { name: 'prod', promotion: 'approval', application: 'online-boutique-prod', verify: true },
  ];

  test('a pipeline without environments keeps the Approve, Chart and Deploy stages, awaited without --env', async () => {
    const out = await run({ environments: [{ name: 'default', promotion: 'approval', application: 'shop', verify: false }], inputFirst: true, decision: { DECISION: 'approve', APPROVER: 'alice', REASON: '' } });
    expect(out).toMatchObject({ result: 'SUCCESS', inputs: [{ input: 'BatonDecision', message: expect.stringContaining(`Deploy run ${RUN}?`) }] });
    expect(out.stages).toEqual(['Intake', 'Mirror', 'Build', 'Environments', 'Environments/Approve', 'Environments/Chart', 'Environments/Deploy']);
    expect(out.calls).toEqual([
      ...BEFORE,
      `Environments/Approve: approve ${RUN} --as alice --via jenkins --reason `,
      `Environments/Approve: await ${RUN} --stage approve`,
      `Environments/Chart: await ${RUN} --stage chart`,
      `Environments/Deploy: await ${RUN} --stage deploy`,
      `: status ${RUN}`,
    ]);
  }, 60_000);

  test('dev (auto) then prod (approval, decided in Jenkins): a stage each, every await with --env, verify where configured', async () => {
    const out = await run({ environments: [DEV_PROD[0]!, { ...DEV_PROD[1]!, verify: false }], inputFirst: true, decision: { DECISION: 'approve', APPROVER: 'alice', REASON: 'dev is green' } });
    expect(out.result).toBe('SUCCESS');
    expect(out.stages).toEqual(['Intake', 'Mirror', 'Build', 'Environments', 'Environments/dev', 'Environments/prod']);
    expect(out.inputs).toEqual([expect.objectContaining({ input: 'BatonDecision-prod', message: expect.stringContaining(`Promote run ${RUN} to prod (online-boutique-prod)?`) })]);
    expect(out.calls).toEqual([
      ...BEFORE,
      `Environments/dev: await ${RUN} --stage chart --env dev`,
      `Environments/dev: await ${RUN} --stage deploy --env dev`,
      `Environments/dev: await ${RUN} --stage verify --env dev`,
      `Environments/prod: approve ${RUN} --env prod --as alice --via jenkins --reason dev is green`,
      `Environments/prod: await ${RUN} --stage approve --env prod`,
      `Environments/prod: await ${RUN} --stage chart --env prod`,
      `Environments/prod: await ${RUN} --stage deploy --env prod`,
      `: status ${RUN}`,
    ]);
  }, 60_000);

  test('a verification that fails in dev fails the build there: prod is never awaited', async () => {
    const out = await run({ environments: DEV_PROD, fail: `await ${RUN} --stage verify --env dev` });
    expect(out).toMatchObject({ result: 'FAILURE', error: 'script returned exit code 1' });
    expect(out.stages).not.toContain('Environments/prod');
    expect(out.calls.filter((call) => call.includes('prod'))).toEqual([]);
    expect(out.calls.at(-2)).toBe(`Environments/dev: await ${RUN} --stage verify --env dev`);
  }, 60_000);

  test('prod rejected (decided in Slack): the build fails with the await\'s verdict, and prod\'s chart is never awaited', async () => {
    const out = await run({ environments: DEV_PROD, fail: `await ${RUN} --stage approve --env prod` });
    expect(out).toMatchObject({ result: 'FAILURE', error: 'the run was not approved (baton await exit 1)', inputs: [] });
    expect(out.calls.filter((call) => call.startsWith('Environments/prod'))).toEqual([`Environments/prod: await ${RUN} --stage approve --env prod`]);
  }, 60_000);

  test('aborting the build (while it awaits prod\'s approval) cancels the run', async () => {
    const out = await run({ environments: DEV_PROD, abort: `await ${RUN} --stage approve --env prod` });
    expect(out.result).toBe('ABORTED');
    expect(out.calls.slice(-3)).toEqual([`Environments/prod: await ${RUN} --stage approve --env prod`, `: status ${RUN}`, `: cancel ${RUN} --via jenkins --as jenkins --reason Jenkins build 7 was aborted`]);
    const done = await run({ environments: DEV_PROD });
    expect(done.calls.filter((call) => call.includes('cancel'))).toEqual([]);
  }, 60_000);
});

describe('Jenkins configuration as code', () => {
  const casc = parseYaml(read('jenkins/casc.yaml')) as {
    jenkins: { clouds: Array<{ kubernetes: { templates: Array<{ name: string; label: string; serviceAccount: string; containers: Array<{ name: string; image: string }> }> } }> };
    credentials: { system: { domainCredentials: Array<{ credentials: Array<Record<string, Record<string, string>>> }> } };
    jobs: Array<{ script: string }>;
  };
  const plugins = read('jenkins/plugins.txt')
    .split('\n')
    .filter((line) => line.trim() && !line.startsWith('#'))
    .map((line) => line.split(':')[0]!.trim());

  test('lists the plugins the jobs and the trigger rely on', () => {
    for (const plugin of ['build-token-root', 'kubernetes', 'configuration-as-code', 'job-dsl', 'workflow-aggregator', 'pipeline-model-definition', 'pipeline-utility-steps', 'credentials-binding', 'git']) {
      expect(plugins).toContain(plugin);
    }
  });

  test('defines every credential the Jenkinsfiles bind, each from a secret reference, never a value', () => {
    const credentials = casc.credentials.system.domainCredentials.flatMap((domain) => domain.credentials).map((entry) => Object.values(entry)[0]!);
    const ids = credentials.map((credential) => credential.id);
    for (const source of [app, terraform]) {
      for (const [, id] of source.matchAll(/credentialsId: '([^']+)'/g)) expect(ids).toContain(id);
    }
    for (const credential of credentials) {
      for (const field of ['secret', 'password', 'secretBytes', 'username'] as const) {
        if (credential[field] !== undefined) expect(credential[field]).toMatch(/^\$\{.+\}$/);
      }
    }
  });

  test('defines the pod templates the Jenkinsfiles run on, with Workload Identity service accounts', () => {
    const templates = casc.jenkins.clouds[0]!.kubernetes.templates;
    for (const [source, label] of [[app, 'baton'], [terraform, 'baton-terraform']] as const) {
      expect(source).toContain(`inheritFrom '${label}'`);
      const template = templates.find((t) => t.name === label);
      expect(template?.serviceAccount).toMatch(/^jenkins-/);
    }
    expect(templates.find((t) => t.name === 'baton')!.containers[0]).toMatchObject({ name: 'baton', image: '${BATON_AGENT_IMAGE}' });
  });

  test('defines both jobs from the Jenkinsfiles, with the trigger token from a secret and the parameters jenkinsTrigger sends', () => {
    const script = casc.jobs[0]!.script;
    for (const path of ['jenkins/Jenkinsfile', 'jenkins/Jenkinsfile.terraform']) {
      expect(script).toContain(`'${path}'`);
      expect(existsSync(join(root, path))).toBe(true);
    }
    expect(script).toMatch(/authenticationToken\('\$\{baton-jenkins-trigger-token\}'\)/);
    for (const parameter of ['RUN_ID', 'PIPELINE', 'COMMIT']) expect(script).toContain(`stringParam('${parameter}'`);
    // jenkinsTrigger sends exactly these parameters.
    const trigger = read('functions/jenkinsTrigger/trigger.ts');
    for (const parameter of ['RUN_ID', 'PIPELINE', 'COMMIT']) expect(trigger).toContain(`'${parameter}'`);
  });
});
