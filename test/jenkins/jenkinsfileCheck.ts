/**
 * A structural check of declarative Jenkinsfiles, without Jenkins: a small Groovy lexer (strings,
 * comments, slashy regexes), a tree of the `name(args) { … }` blocks, and the rules baton's
 * Jenkinsfiles must keep: one `pipeline` with an `agent` and `stages`, the expected stages in
 * order, each stage's `baton await`, secrets only through credential bindings, and nothing that
 * looks like a secret written inline, and a stage per environment of the pipeline (made at run
 * time from `baton environments`) that awaits each per-environment stage with `--env`. Groovy's
 * own parser (parseGroovy.groovy) checks the syntax, and runJenkinsfile.groovy runs it.
 */
type Token = { kind: 'ident' | 'string' | 'punct'; text: string; dq?: boolean };

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const last = () => tokens[tokens.length - 1];
  while (i < source.length) {
    const c = source[i]!;
    const rest = source.slice(i);
    if (/\s/.test(c)) i++;
    else if (rest.startsWith('//')) i = source.indexOf('\n', i) === -1 ? source.length : source.indexOf('\n', i);
    else if (rest.startsWith('/*')) i = source.indexOf('*/', i) + 2 || source.length;
    else if (rest.startsWith("'''") || rest.startsWith('"""')) {
      const end = source.indexOf(rest.slice(0, 3), i + 3);
      if (end === -1) throw new Error('unterminated triple-quoted string');
      tokens.push({ kind: 'string', text: source.slice(i + 3, end), dq: c === '"' });
      i = end + 3;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < source.length && source[j] !== c) j += source[j] === '\\' ? 2 : 1;
      if (j >= source.length) throw new Error(`unterminated string at offset ${i}`);
      tokens.push({ kind: 'string', text: source.slice(i + 1, j), dq: c === '"' });
      i = j + 1;
    } else if (c === '/' && (!last() || (last()!.kind === 'punct' && !')]'.includes(last()!.text)))) {
      // A slashy string (regex) where an operand is expected, e.g. `==~ /[a-z]{40}/`.
      let j = i + 1;
      while (j < source.length && source[j] !== '/' && source[j] !== '\n') j += source[j] === '\\' ? 2 : 1;
      tokens.push({ kind: 'string', text: source.slice(i + 1, j) });
      i = j + 1;
    } else if (/[A-Za-z_$]/.test(c)) {
      const match = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(rest)!;
      tokens.push({ kind: 'ident', text: match[0] });
      i += match[0].length;
    } else {
      const match = /^(==~|=~|==|!=|&&|\|\||\?:|\?\.|->|[^\sA-Za-z0-9_$'"])/.exec(rest);
      const text = match ? match[0] : c;
      tokens.push({ kind: 'punct', text });
      i += text.length;
    }
  }
  return tokens;
}

export type Block = { name: string; args: string[]; children: Block[]; tokens: Token[] };

/** The tree of `name { … }` and `name(args) { … }` blocks; other closures are anonymous (`name` ''). */
export function blocks(tokens: Token[]): Block {
  const root: Block = { name: '(root)', args: [], children: [], tokens };
  const stack: Array<{ block: Block; start: number }> = [{ block: root, start: 0 }];
  tokens.forEach((token, index) => {
    if (token.kind !== 'punct') return;
    if (token.text === '{') {
      let name = '';
      let args: string[] = [];
      const before = tokens[index - 1];
      if (before?.kind === 'ident') name = before.text;
      else if (before?.text === ')') {
        let depth = 0;
        let open = index - 1;
        for (; open >= 0; open--) {
          if (tokens[open]!.text === ')') depth++;
          if (tokens[open]!.text === '(' && --depth === 0) break;
        }
        if (tokens[open - 1]?.kind === 'ident') name = tokens[open - 1]!.text;
        args = tokens.slice(open + 1, index - 1).filter((t) => t.kind === 'string').map((t) => t.text);
      }
      const block: Block = { name, args, children: [], tokens: [] };
      stack[stack.length - 1]!.block.children.push(block);
      stack.push({ block, start: index + 1 });
    } else if (token.text === '}') {
      const open = stack.pop();
      if (!open || stack.length === 0) throw new Error(`unbalanced "}" at token ${index}`);
      open.block.tokens = tokens.slice(open.start, index);
    }
  });
  if (stack.length !== 1) throw new Error(`unclosed block "${stack[stack.length - 1]!.block.name}"`);
  return root;
}

const child = (block: Block | undefined, name: string) => block?.children.find((c) => c.name === name);
const text = (block: Block) => block.tokens.map((t) => (t.kind === 'string' ? JSON.stringify(t.text) : t.text)).join(' ');

/** Text that looks like a credential, wherever it appears (strings, comments, code). */
const SECRET_PATTERNS: Array<[string, RegExp]> = [
  ['Slack token', /\bxox[abposr]-[A-Za-z0-9-]{8,}/],
  ['GitHub token', /\bgh[pousr]_[A-Za-z0-9]{20,}/],
  ['GitLab token', /\bglpat-[A-Za-z0-9_-]{20,}/],
  ['Google OAuth token', /\bya29\.[A-Za-z0-9._-]{10,}/],
  ['Google API key', /\bAIza[0-9A-Za-z_-]{35}/],
  ['AWS access key', /\bAKIA[0-9A-Z]{16}\b/],
  ['private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ['service account key', /"type"\s*:\s*"service_account"/],
  ['credentials in a URL', /[a-z][a-z0-9+.-]*:\/\/[^/\s:@'"$]+:[^/\s@'"$]+@/i],
  ['literal token parameter', /[?&](token|password|secret)=(?!\$)[^&\s'"]{6,}/i],
  ['literal secret assignment', /(?:\b|_)(token|password|passwd|secret|api_?key)\w*\s*[:=]\s*['"](?!\$)[^'"\s]{8,}['"]/i],
];

export type JenkinsfileExpectations = {
  /** Stage names in order, directly under `stages`. */
  stages: string[];
  /** `baton await … --stage <x>` each listed stage must run (by Jenkins stage name). */
  awaits: Record<string, string>;
  /** Parameters the job takes. */
  parameters: string[];
  /**
   * The stage that makes a stage per environment of the pipeline: it reads `baton environments
   * "$PIPELINE" --json`, runs `stage(…)` for each, and awaits each of `awaits` for the
   * environment (`--env`).
   */
  environments?: { stage: string; awaits: string[] };
};

/** The await of `stage` in a command, and whether it names the environment. */
function awaitIn(command: string, stage: string): { awaits: boolean; perEnvironment: boolean } {
  const match = new RegExp(`\\bbaton await "\\$RUN_ID" --stage ${stage}\\b([^\\n]*)`).exec(command);
  return { awaits: !!match, perEnvironment: !!match && /(?<![\w-])--env\b/.test(match[1]!) };
}

/** Every block under `block`, at any depth. */
function descendants(block: Block): Block[] {
  return block.children.flatMap((c) => [c, ...descendants(c)]);
}

/** Every rule a Jenkinsfile breaks; empty when it passes. */
export function checkJenkinsfile(source: string, expected: JenkinsfileExpectations): string[] {
  const problems: string[] = [];
  for (const [what, pattern] of SECRET_PATTERNS) if (pattern.test(source)) problems.push(`inline secret: ${what}`);
  let root: Block;
  try {
    root = blocks(tokenize(source));
  } catch (error) {
    return [...problems, `does not parse: ${(error as Error).message}`];
  }
  const pipelines = root.children.filter((block) => block.name === 'pipeline');
  if (pipelines.length !== 1) return [...problems, `expected one top-level pipeline { } block, found ${pipelines.length}`];
  const pipeline = pipelines[0]!;
  if (!child(pipeline, 'agent')) problems.push('pipeline has no agent');
  const parameters = child(pipeline, 'parameters');
  for (const name of expected.parameters) {
    if (!parameters || !text(parameters).includes(`name : ${JSON.stringify(name)}`)) problems.push(`parameter ${name} is not declared`);
  }
  const stagesBlock = child(pipeline, 'stages');
  if (!stagesBlock) return [...problems, 'pipeline has no stages'];
  const stages = stagesBlock.children.filter((block) => block.name === 'stage');
  const names = stages.map((stage) => stage.args[0] ?? '(unnamed)');
  if (JSON.stringify(names) !== JSON.stringify(expected.stages)) problems.push(`stages are [${names.join(', ')}], expected [${expected.stages.join(', ')}]`);
  for (const stage of stages) {
    if (!child(stage, 'steps') && !child(stage, 'parallel') && !child(stage, 'stages')) problems.push(`stage ${stage.args[0]} has no steps`);
  }
  for (const [stageName, awaited] of Object.entries(expected.awaits)) {
    const stage = stages.find((s) => s.args[0] === stageName);
    const commands = stage ? stage.tokens.filter((t) => t.kind === 'string').map((t) => t.text) : [];
    if (stage && !commands.some((command) => new RegExp(`\\bbaton await "\\$RUN_ID" --stage ${awaited}\\b`).test(command))) {
      problems.push(`stage ${stageName} does not run baton await --stage ${awaited}`);
    }
  }

  if (expected.environments) {
    const { stage: stageName, awaits } = expected.environments;
    const stage = stages.find((s) => s.args[0] === stageName);
    if (!stage) problems.push(`there is no stage ${stageName} for the environments`);
    else {
      const commands = stage.tokens.filter((t) => t.kind === 'string').map((t) => t.text);
      if (!commands.some((command) => /\bbaton environments "\$PIPELINE" --json\b/.test(command))) problems.push(`stage ${stageName} does not read baton environments "$PIPELINE" --json`);
      if (!descendants(stage).some((block) => block.name === 'stage')) problems.push(`stage ${stageName} makes no stage per environment`);
      for (const awaited of awaits) {
        const found = commands.map((command) => awaitIn(command, awaited)).filter((a) => a.awaits);
        if (found.length === 0) problems.push(`stage ${stageName} does not run baton await --stage ${awaited}`);
        else if (!found.some((a) => a.perEnvironment)) problems.push(`stage ${stageName} awaits ${awaited} without --env`);
      }
    }
  }

  // Secrets: only through bindings, and never interpolated by Groovy into a command line
  // (a "…${SECRET}…" string puts the value in the build's step arguments, unmasked).
  const tokens = root.tokens;
  const bound = new Set<string>();
  tokens.forEach((token, index) => {
    if (token.kind === 'ident' && token.text === 'variable' && tokens[index + 1]?.text === ':' && tokens[index + 2]?.kind === 'string') bound.add(tokens[index + 2]!.text);
  });
  const usesCredentials = tokens.some((t, i) => t.kind === 'ident' && (t.text === 'withCredentials' || (t.text === 'credentials' && tokens[i + 1]?.text === '(')));
  if (!usesCredentials) problems.push('no credential binding (withCredentials or credentials()) is used');
  for (const token of tokens) {
    if (token.kind !== 'string' || !token.dq) continue;
    for (const variable of bound) {
      if (new RegExp(`\\$\\{?(env\\.)?${variable}\\b`).test(token.text)) problems.push(`credential ${variable} is interpolated by Groovy in "${token.text}"`);
    }
  }
  return problems;
}

/**
 * Every stage people watch (a declaration with `watch`, for the pipeline kind the Jenkinsfile
 * follows) has a Jenkins stage that runs `baton await "$RUN_ID" --stage <name>`; one that repeats
 * per environment (`perEnvironment`) is awaited with the environment (`--env`). Returns the
 * watched stages that are not awaited, and `<name> --env` for a per-environment one awaited
 * only without it.
 */
export function unwatchedStages(source: string, watched: readonly string[], perEnvironment: readonly string[] = []): string[] {
  const commands = tokenize(source).filter((token) => token.kind === 'string').map((token) => token.text);
  return watched.flatMap((name) => {
    const found = commands.map((command) => awaitIn(command, name)).filter((a) => a.awaits);
    if (found.length === 0) return [name];
    return perEnvironment.includes(name) && !found.some((a) => a.perEnvironment) ? [`${name} --env`] : [];
  });
}
