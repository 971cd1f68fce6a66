import picomatch from 'picomatch';

/**
 * `.helmignore`, evaluated the way Helm's `pkg/ignore/rules.go` does, so a chart packaged here
 * holds the same files as `helm package` would give:
 * - blank lines and `#` comments are skipped;
 * - a pattern ending in `/` matches directories only;
 * - a pattern containing `/` is matched against the path relative to the chart (a leading `/`
 *   is dropped), any other pattern against the base name;
 * - `!pattern` ignores whatever does NOT match it (Helm's own, surprising, negation);
 * - `templates/.?*` (hidden files in templates) is always ignored.
 */
type Rule = { negate: boolean; mustDir: boolean; match: (path: string, base: string) => boolean };

const DEFAULT_PATTERNS = ['templates/.?*'];

function compile(raw: string): Rule | undefined {
  let pattern = raw.trim();
  if (!pattern || pattern.startsWith('#')) return undefined;
  const negate = pattern.startsWith('!');
  if (negate) pattern = pattern.slice(1);
  const mustDir = pattern.endsWith('/');
  if (mustDir) pattern = pattern.replace(/\/+$/, '');
  if (pattern.startsWith('/')) pattern = pattern.slice(1);
  const isMatch = picomatch(pattern, { dot: true });
  const byPath = pattern.includes('/');
  return { negate, mustDir, match: (path, base) => isMatch(byPath ? path : base) };
}

export class HelmIgnore {
  private readonly rules: Rule[];

  constructor(text = '') {
    this.rules = [...DEFAULT_PATTERNS, ...text.split(/\r?\n/)].map(compile).filter((rule): rule is Rule => rule !== undefined);
  }

  /** `path` is relative to the chart directory, with `/` separators. */
  ignores(path: string, isDirectory: boolean): boolean {
    if (path === '' || path === '.') return false;
    const base = path.slice(path.lastIndexOf('/') + 1);
    for (const rule of this.rules) {
      if (rule.negate) {
        if (rule.mustDir && !isDirectory) return true;
        if (!rule.match(path, base)) return true;
        continue;
      }
      if (rule.mustDir && !isDirectory) continue;
      if (rule.match(path, base)) return true;
    }
    return false;
  }
}
