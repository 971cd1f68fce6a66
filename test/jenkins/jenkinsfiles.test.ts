import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
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
 * Static checks of jenkins/: both Jenkinsfiles are declarative pipelines with the expected
 * stages (by Groovy's own parser and by the structural check), use credential bindings and hold
 * no secret; the JCasC file defines the jobs, pod templates and credentials they rely on.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

const APP: JenkinsfileExpectations = {
  stages: ['Intake', 'Mirror', 'Build', 'Approve', 'Chart', 'Deploy'],
  awaits: { Intake: 'intake', Mirror: 'mirror', Build: 'build', Approve: 'approve', Chart: 'chart', Deploy: 'deploy' },
  parameters: ['RUN_ID', 'PIPELINE', 'COMMIT'],
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

describe('every watched stage has a Jenkins stage', () => {
  test('the app Jenkinsfile awaits every stage an app run has that people watch', () => {
    expect(watched(STAGES, 'app')).toEqual(['intake', 'mirror', 'build', 'approve', 'chart', 'deploy']);
    expect(unwatchedStages(app, watched(STAGES, 'app'))).toEqual([]);
  });

  test('a watched stage added without a Jenkins stage fails the check', () => {
    expect(unwatchedStages(app, watched([...STAGES, smokeTest], 'app'))).toEqual(['smoke']);
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
    expect(app).toMatch(/baton "\$DECISION" "\$RUN_ID" --as "\$APPROVER" --via jenkins/);
    expect(app).toMatch(/choices: \['approve', 'reject'\]/);
  });

  test('the terraform pipeline applies exactly the saved plan', () => {
    expect(terraform).toMatch(/terraform plan [^\n]*-out=tfplan/);
    expect(terraform).toMatch(/terraform apply -input=false tfplan/);
  });
});

describe('the structural check fails on a broken Jenkinsfile', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['a removed stage', app.replace(/ {4}stage\('Chart'\) \{\n[\s\S]*?\n {4}\}\n\n/, ''), /stages are \[Intake, Mirror, Build, Approve, Deploy\]/],
    ['stages out of order', app.replace("stage('Chart')", "stage('TMP')").replace("stage('Deploy')", "stage('Chart')").replace("stage('TMP')", "stage('Deploy')"), /stages are \[.*Deploy, Chart\]/],
    ['an inlined Slack token', app.replace("BATON_CONFIG = '/etc/baton/config.yaml'", "BATON_CONFIG = '/etc/baton/config.yaml'\n    SLACK_BOT_TOKEN = 'xoxb-123456789012-abcdefghijkl'"), /inline secret: Slack token/],
    ['a literal trigger token', app.replace("sh 'baton await \"$RUN_ID\" --stage chart'", "sh 'curl -X POST https://jenkins.test/buildByToken/build?job=x&token=s3cr3tvalue'"), /literal token parameter/],
    ['credentials in a URL', terraform.replace("credentialsId: 'baton-mirror-git'", "credentialsId: 'x', url2: 'https://bot:hunter22@git.test/x.git'"), /credentials in a URL/],
    ['a password literal', app.replace("BATON_CONFIG = '/etc/baton/config.yaml'", "BATON_CONFIG = '/etc/baton/config.yaml'\n    ARGOCD_PASSWORD = 'correct-horse-battery'"), /literal secret assignment/],
    ['a bound secret interpolated by Groovy', app.replace("--reason \"$REASON\"', returnStatus: true)", "--reason \"$REASON\" --token ${SLACK_BOT_TOKEN}\", returnStatus: true)").replace("def refused = sh(script: 'baton", 'def refused = sh(script: "baton'), /credential SLACK_BOT_TOKEN is interpolated by Groovy/],
    ['no credential binding', app.replace(/withCredentials\(\[string\(credentialsId: 'baton-slack-bot-token', variable: 'SLACK_BOT_TOKEN'\)\]\) \{/, 'if (true) {'), /no credential binding/],
    ['no agent', app.replace(/ {2}agent \{\n[\s\S]*?\n {2}\}\n/, ''), /pipeline has no agent/],
    ['a stage that no longer awaits', app.replace("sh 'baton await \"$RUN_ID\" --stage deploy'", "echo 'deployed, probably'"), /stage Deploy does not run baton await --stage deploy/],
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
    writeFileSync(file, app.replace("stage('Chart') {", "stage('Chart' {"));
    await expect(parse(file)).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/Jenkinsfile: .*unexpected token|expecting/i) });
  });
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

  test('defines both jobs from the Jenkinsfiles, with the trigger token from a secret and the parameters webhookIntake sends', () => {
    const script = casc.jobs[0]!.script;
    for (const path of ['jenkins/Jenkinsfile', 'jenkins/Jenkinsfile.terraform']) {
      expect(script).toContain(`'${path}'`);
      expect(existsSync(join(root, path))).toBe(true);
    }
    expect(script).toMatch(/authenticationToken\('\$\{baton-jenkins-trigger-token\}'\)/);
    for (const parameter of ['RUN_ID', 'PIPELINE', 'COMMIT']) expect(script).toContain(`stringParam('${parameter}'`);
    // webhookIntake sends exactly these parameters.
    const trigger = read('functions/webhookIntake/jenkins.ts');
    for (const parameter of ['RUN_ID', 'PIPELINE', 'COMMIT']) expect(trigger).toContain(`'${parameter}'`);
  });
});
