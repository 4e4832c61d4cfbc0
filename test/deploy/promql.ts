import { parse } from "yaml";
import { read } from "./tools.js";

/** One PromQL expression of the deployment files, and where it comes from (for messages). */
export interface Expression {
  where: string;
  expr: string;
}

export const DASHBOARD_FILE = "deploy/grafana/dashboards/anteroom.json";
export const RULES_FILE = "deploy/monitoring/rules/anteroom.yml";

export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function alertRules(): Rule[] {
  const file = parse(read(RULES_FILE)) as { groups: { name: string; rules: Rule[] }[] };
  return file.groups.flatMap((group) => group.rules);
}

export interface DatasourceRef {
  type?: string;
  uid?: string;
}

export interface Target {
  refId: string;
  expr: string;
  legendFormat?: string;
  datasource?: DatasourceRef;
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: DatasourceRef;
  targets?: Target[];
  panels?: Panel[];
}

export interface Variable {
  name: string;
  type: string;
  datasource?: DatasourceRef;
  query?: { query: string } | string;
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
}

export function dashboard(): Dashboard {
  return JSON.parse(read(DASHBOARD_FILE)) as Dashboard;
}

export function allPanels(board: Dashboard): Panel[] {
  return board.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

/**
 * Grafana's variables replaced by what they stand for at query time, so the result is plain PromQL:
 * `$__rate_interval` by a range, and the dashboard's own variables by a regex that matches anything
 * (they are only used as `label=~"$name"`). Any other `$` left over is an error for the caller to see.
 */
export function substituteGrafana(expr: string, variables: readonly string[]): string {
  let out = expr.replace(/\$__rate_interval|\$__interval|\$__range/g, "5m");
  for (const name of variables) out = out.replaceAll(`$${name}`, ".*");
  return out;
}

/** Every PromQL expression of the dashboard: panel queries and query variables' `label_values(expr, label)`. */
export function dashboardExpressions(board: Dashboard): Expression[] {
  const names = board.templating.list.map((variable) => variable.name);
  const out: Expression[] = [];
  for (const panel of allPanels(board)) {
    for (const target of panel.targets ?? []) {
      out.push({
        where: `panel "${panel.title}" ${target.refId}`,
        expr: substituteGrafana(target.expr, names),
      });
    }
  }
  for (const variable of board.templating.list) {
    if (variable.type !== "query") continue;
    const query = typeof variable.query === "string" ? variable.query : (variable.query?.query ?? "");
    const match = /^label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$/.exec(query);
    if (match === null) throw new Error(`variable ${variable.name}: not label_values(expr, label): ${query}`);
    out.push({ where: `variable ${variable.name}`, expr: substituteGrafana(match[1] ?? "", names) });
    // The label the variable lists must be on that expression's metric: check it as a grouping label.
    out.push({
      where: `variable ${variable.name} (label)`,
      expr: `count by (${match[2]}) (${substituteGrafana(match[1] ?? "", names)})`,
    });
  }
  return out;
}

export function ruleExpressions(): Expression[] {
  return alertRules().map((rule) => ({ where: `rule ${rule.alert ?? rule.record}`, expr: rule.expr }));
}

/** What one expression uses: metric names, label names each selector matches on, and grouping labels. */
export interface Uses {
  metrics: Set<string>;
  /** metric name → label names in its `{...}` matchers. */
  matchers: Map<string, Set<string>>;
  /** Label names in by/without/on/ignoring/group_left/group_right clauses. */
  grouping: Set<string>;
}

const KEYWORDS = new Set([
  "and",
  "or",
  "unless",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "offset",
  "bool",
  "inf",
  "nan",
]);

/**
 * A small reader of PromQL, enough for these files: string literals and ranges are set aside, label matchers
 * are read from `{...}` with the metric name before them, grouping clauses from their parentheses, and every
 * other identifier not followed by `(` (a function or aggregation) and not a keyword is a metric name.
 * promtool parses the same expressions for real (monitoring.test.ts), so a construct this misreads would not
 * go unnoticed as a syntax error.
 */
export function uses(expr: string): Uses {
  const metrics = new Set<string>();
  const matchers = new Map<string, Set<string>>();
  const grouping = new Set<string>();
  let text = expr.replace(/\[[^\]]*\]/g, " ");
  // Selectors with matchers: name{...} or {...} alone.
  text = text.replace(
    /([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{((?:[^{}"]|"(?:[^"\\]|\\.)*")*)\}/g,
    (_m, name, body) => {
      const labels = new Set<string>();
      for (const match of String(body).matchAll(
        /([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"/g,
      )) {
        labels.add(match[1] ?? "");
      }
      const metric = typeof name === "string" && name !== "" && !KEYWORDS.has(name) ? name : "";
      if (metric !== "") metrics.add(metric);
      const known = matchers.get(metric) ?? new Set<string>();
      for (const label of labels) known.add(label);
      matchers.set(metric, known);
      return " __selector__ ";
    },
  );
  text = text.replace(/"(?:[^"\\]|\\.)*"/g, " ");
  text = text.replace(
    /\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g,
    (_m, _keyword, list: string) => {
      for (const label of list.split(",").map((part) => part.trim())) if (label !== "") grouping.add(label);
      return " ";
    },
  );
  for (const match of text.matchAll(/(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const name = match[1] ?? "";
    if (match[2] !== undefined || KEYWORDS.has(name.toLowerCase()) || name === "__selector__") continue;
    metrics.add(name);
  }
  return { metrics, matchers, grouping };
}
