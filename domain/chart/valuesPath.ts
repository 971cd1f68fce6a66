/**
 * Paths into a values file, written the way Argo CD Image Updater accepts them
 * (`pkg/argocd/values_file.go`): dotted keys with optional sequence indexes, e.g.
 * `services.frontend.image` or `apps[2].image`. `{service}` in a template is replaced by the
 * service name.
 */
export type PathSegment = string | number;

export const DEFAULT_IMAGE_PATH = 'services.{service}.image';

export class ValuesPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValuesPathError';
  }
}

/** `a.b[0].c` → `['a', 'b', 0, 'c']`. Empty segments and unclosed brackets are errors. */
export function parseValuesPath(path: string): PathSegment[] {
  const segments: PathSegment[] = [];
  for (const part of path.split('.')) {
    const match = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!match || (match[1] === '' && match[2] === '')) throw new ValuesPathError(`invalid values path "${path}": bad segment "${part}"`);
    if (match[1]) segments.push(match[1]);
    for (const index of match[2]!.matchAll(/\[(\d+)\]/g)) segments.push(Number(index[1]));
  }
  return segments;
}

/** The path of one service's image block, from the `chart.imagePath` template. */
export function imagePathFor(template: string, service: string): PathSegment[] {
  return parseValuesPath(template.split('{service}').join(service));
}

/** `['a', 'b', 0]` → `a.b[0]`, for error messages. */
export function formatValuesPath(segments: readonly PathSegment[]): string {
  return segments.reduce<string>((out, segment) => (typeof segment === 'number' ? `${out}[${segment}]` : out ? `${out}.${segment}` : segment), '');
}
