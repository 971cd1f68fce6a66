import { createRequire } from 'node:module';

// The grammar loads on the first query checked: every function parses the config at start,
// and most pipelines have no verification (cold start, STYLE.md).
const require = createRequire(import.meta.url);
const promqlParser = (): typeof import('@prometheus-io/lezer-promql').parser => (require('@prometheus-io/lezer-promql') as typeof import('@prometheus-io/lezer-promql')).parser;

/**
 * How a verification query names the release under test, and the config-time check that a
 * query is PromQL at all.
 *
 * A query may use these variables, written `$name` or `${name}`:
 *
 * | variable       | becomes                                                        | evaluated        |
 * |----------------|----------------------------------------------------------------|------------------|
 * | `$service`     | one service of the release, e.g. `frontend`                    | once per service |
 * | `$digest`      | that service's digest, e.g. `sha256:4f…`                        | once per service |
 * | `$digests`     | every digest of the release as a regex alternation `sha256:a…\|sha256:b…` | once    |
 * | `$services`    | every service of the release, `cartservice\|frontend`            | once             |
 * | `$environment` | the environment's name, e.g. `staging`                         | (either)         |
 *
 * A query that mentions `$service` or `$digest` is evaluated once per service of the release
 * (each evaluation reports its own value, with `service` set), which is what an error-ratio
 * check usually wants:
 *
 *     sum(rate(http_requests_total{code=~"5..",digest="$digest"}[1m]))
 *       / sum(rate(http_requests_total{digest="$digest"}[1m]))
 *
 * A query without them is evaluated once, for the release as a whole
 * (`...{digest=~"$digests"}...`). Values are substituted verbatim, so quote them as PromQL
 * strings. Digests and service names hold no regex metacharacters, so `=~"$digests"` is exact.
 * Grafana's `$__interval`, `$__rate_interval` and friends do not exist here (there is no
 * dashboard to size them): write the range, e.g. `[1m]`. A `$` that is not followed by a
 * letter, `_` or `{` is left alone (a regex end anchor such as `=~"/api$"` still works).
 */
export const QUERY_VARIABLES = ['service', 'digest', 'digests', 'services', 'environment'] as const;
export type QueryVariable = (typeof QUERY_VARIABLES)[number];
export type QueryValues = Partial<Record<QueryVariable, string>>;

const PER_SERVICE: ReadonlySet<string> = new Set(['service', 'digest']);
const KNOWN: ReadonlySet<string> = new Set(QUERY_VARIABLES);
/** `$name` or `${name}`; names are letters, digits and `_`, not starting with a digit. */
const VARIABLE = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g;

type VariableUse = { name: string; from: number; to: number };

function variableUses(query: string): VariableUse[] {
  return [...query.matchAll(VARIABLE)].map((match) => ({ name: (match[1] ?? match[2])!, from: match.index, to: match.index + match[0].length }));
}

/** The variables a query uses, in order of first use. */
export function queryVariables(query: string): string[] {
  return [...new Set(variableUses(query).map((use) => use.name))];
}

/** True when the query is evaluated once per service (it mentions `$service` or `$digest`). */
export function isPerService(query: string): boolean {
  return variableUses(query).some((use) => PER_SERVICE.has(use.name));
}

/** Substitutes the variables; throws when the query uses one that `values` lacks. */
export function renderQuery(query: string, values: QueryValues): string {
  return substitute(query, values).text;
}

function substitute(query: string, values: QueryValues): { text: string; originOf: (index: number) => number } {
  let text = '';
  let last = 0;
  // Pieces of the output that map back to one position of the input (a substituted variable
  // maps to where it started), so parse errors can point into the query as written.
  const pieces: Array<{ outFrom: number; outTo: number; inFrom: number; verbatim: boolean }> = [];
  for (const use of variableUses(query)) {
    const value = values[use.name as QueryVariable];
    if (value === undefined) throw new Error(`query uses $${use.name}, which has no value here`);
    pieces.push({ outFrom: text.length, outTo: text.length + (use.from - last), inFrom: last, verbatim: true });
    text += query.slice(last, use.from);
    pieces.push({ outFrom: text.length, outTo: text.length + value.length, inFrom: use.from, verbatim: false });
    text += value;
    last = use.to;
  }
  pieces.push({ outFrom: text.length, outTo: text.length + (query.length - last), inFrom: last, verbatim: true });
  text += query.slice(last);
  const originOf = (index: number) => {
    const piece = pieces.find((candidate) => index >= candidate.outFrom && index < candidate.outTo) ?? pieces[pieces.length - 1]!;
    return piece.verbatim ? piece.inFrom + (index - piece.outFrom) : piece.inFrom;
  };
  return { text, originOf };
}

/** Stand-in values for checking a query's syntax before any release exists. */
const SAMPLE_VALUES: Required<QueryValues> = {
  service: 'frontend',
  digest: `sha256:${'0'.repeat(64)}`,
  digests: `sha256:${'0'.repeat(64)}|sha256:${'1'.repeat(64)}`,
  services: 'cartservice|frontend',
  environment: 'staging',
};

const RANGE_RESULTS: Record<string, string> = {
  MatrixSelector: 'a range vector',
  SubqueryExpr: 'a range vector',
  StringLiteral: 'a string',
};

/**
 * Why a check's query cannot be used, or undefined when it can: an unknown or Grafana-only
 * variable, a PromQL syntax error (an error node in `@prometheus-io/lezer-promql`'s tree,
 * with the position in the query as written), or a result that is not a number per series
 * (a range vector or a string: `/api/v1/query` checks compare instant values).
 */
export function queryProblem(query: string): string | undefined {
  if (!query.trim()) return 'is empty';
  for (const use of variableUses(query)) {
    if (use.name.startsWith('__')) return `uses Grafana's $${use.name}, which baton does not provide: write the range itself, e.g. [1m]`;
    if (!KNOWN.has(use.name)) return `uses unknown variable $${use.name}; a query may use ${QUERY_VARIABLES.map((name) => `$${name}`).join(', ')}`;
  }
  const { text, originOf } = substitute(query, SAMPLE_VALUES);
  const tree = promqlParser().parse(text);
  let errorAt: number | undefined;
  tree.iterate({
    enter(node) {
      if (errorAt === undefined && node.type.isError) errorAt = node.from;
      return errorAt === undefined;
    },
  });
  if (errorAt !== undefined) {
    const at = Math.min(originOf(errorAt), query.length);
    const line = query.slice(0, at).split('\n').length;
    const column = at - query.lastIndexOf('\n', at - 1);
    const near = query.slice(at, at + 20).trim();
    return `is not valid PromQL: syntax error at ${line}:${column}${near ? ` near "${near}"` : ' (unexpected end)'}`;
  }
  let top = tree.topNode.firstChild;
  while (top?.name === 'ParenExpr' && top.firstChild) top = top.firstChild;
  const range = top ? RANGE_RESULTS[top.name] : undefined;
  if (range) return `returns ${range}; a check needs one number per series (wrap a range in a function, e.g. rate(x[1m]))`;
  return undefined;
}
