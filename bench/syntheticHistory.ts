import { execFileSync, spawnSync } from 'node:child_process';

/**
 * Builds a bare repository with a long linear history in seconds: one `git fast-import` stream
 * instead of thousands of `git commit` calls. Each commit edits one line of one source-sized file
 * (`lines` lines of about 60 characters) among `files` spread over `dirs` service directories,
 * like a monorepo's everyday commits.
 */
export type HistoryOptions = { commits: number; dirs?: number; files?: number; lines?: number; branch?: string };

function fileBody(file: number, lines: number, revision: number): string {
  const out: string[] = [];
  for (let line = 0; line < lines; line++) {
    out.push(line === revision % lines ? `// revision ${revision} of file ${file}` : `export const value${line} = compute(${file}, ${line}); // unchanged line ${line}`);
  }
  return `${out.join('\n')}\n`;
}

export function createHistoryRepo(bareDir: string, options: HistoryOptions): string {
  const { commits, dirs = 5, files = 200, lines = 1, branch = 'main' } = options;
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch', branch, bareDir]);
  const chunks: string[] = [];
  const start = 1_700_000_000;
  for (let i = 1; i <= commits; i++) {
    const file = i % files;
    const path = `src/svc${file % dirs}/file${file}.txt`;
    const content = lines > 1 ? fileBody(file, lines, i) : `line ${i}\n`;
    const message = `commit ${i}\n`;
    chunks.push(
      `commit refs/heads/${branch}\nmark :${i}\ncommitter Bench <bench@example.com> ${start + i} +0000\n` +
        `data ${Buffer.byteLength(message)}\n${message}` +
        (i > 1 ? `from :${i - 1}\n` : '') +
        `M 100644 inline ${path}\ndata ${Buffer.byteLength(content)}\n${content}\n`,
    );
  }
  const result = spawnSync('git', ['fast-import', '--quiet'], { cwd: bareDir, input: chunks.join(''), maxBuffer: 1 << 30 });
  if (result.status !== 0) throw new Error(`failed to fast-import: ${result.stderr.toString()}`);
  return execFileSync('git', ['rev-parse', `refs/heads/${branch}`], { cwd: bareDir, encoding: 'utf8' }).trim();
}
