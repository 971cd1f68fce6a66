// PromQL and LogQL checked with the official grammars: @prometheus-io/lezer-promql (Prometheus'
// own, behind its web UI) and @grafana/lezer-logql (Grafana's, behind its Loki editor). Grafana
// substitutes its $__… variables before a query runs, so they are substituted here first, with
// values of the same shape (a duration for $__rate_interval, a number for $__range_s).
import { parser as promqlParser } from '@prometheus-io/lezer-promql';
import { parser as logqlParser } from '@grafana/lezer-logql';

export type QueryLanguage = 'promql' | 'logql';

const GRAFANA_VARIABLES: Record<string, string> = {
  __rate_interval: '5m',
  __interval: '1m',
  __auto: '5m',
  __range: '6h',
  __range_s: '21600',
  __range_ms: '21600000',
  __interval_ms: '60000',
};

/** Grafana's $__… (and ${__…}) variables replaced by values of their shape; dashboard variables ($pipeline) stand inside label matchers and stay. */
export function substituteGrafanaVariables(expr: string): string {
  return expr.replace(/\$\{?(__[a-z_]+)\}?/g, (all, name: string) => {
    const value = GRAFANA_VARIABLES[name];
    if (value === undefined) throw new Error(`unknown Grafana variable ${all} in ${expr}`);
    return value;
  });
}

/** A Grafana variable query label_values(<selector>, label) holds a PromQL selector. */
export function variableQueryExpr(query: string): string {
  const m = /^label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\)$/.exec(query.trim());
  return m ? m[1]! : query;
}

/** Syntax errors of a query (empty when the grammar accepts it), with the text at each error node. */
export function queryErrors(language: QueryLanguage, expr: string): string[] {
  const text = substituteGrafanaVariables(expr);
  const tree = (language === 'promql' ? promqlParser : logqlParser).parse(text);
  const errors: string[] = [];
  tree.iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(`syntax error at ${node.from}: ${JSON.stringify(text.slice(Math.max(0, node.from - 10), node.to + 10))}`);
    },
  });
  // An empty parse is no query at all.
  if (!text.trim()) errors.push('empty query');
  return errors;
}
