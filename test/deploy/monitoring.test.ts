import { readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import {
  alertRules,
  allPanels,
  DASHBOARD_FILE,
  dashboard,
  dashboardExpressions,
  RULES_FILE,
} from "./promql.js";
import { haveTool, ROOT, read, run, tempCopy } from "./tools.js";

/**
 * deploy/monitoring and deploy/grafana through promtool: the Prometheus configurations, the alert rules and
 * their unit tests, and every dashboard query (parsed by promtool as recording rules of a generated file).
 */
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const RULE_TESTS = readdirSync(path.join(ROOT, "deploy/monitoring/tests"))
  .filter((file) => file.endsWith(".yml"))
  .map((file) => `deploy/monitoring/tests/${file}`);

/** GitHub's anchor for a Markdown heading. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

describe.skipIf(!haveTool("promtool"))("Prometheus files (promtool)", () => {
  it.each(["deploy/monitoring/prometheus.yml", "deploy/monitoring/prometheus-kubernetes.yml"])(
    "promtool check config %s",
    async (file) => {
      const result = await run("promtool", ["check", "config", file]);
      expect(result.stdout + result.stderr).toContain("SUCCESS");
      expect(result.code, result.stdout + result.stderr).toBe(0);
    },
  );

  it("promtool check rules: the alert rules", async () => {
    const result = await run("promtool", ["check", "rules", RULES_FILE]);
    expect(result.stdout).toContain(`SUCCESS: ${alertRules().length} rules found`);
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  it("promtool test rules: every alert rule's unit tests pass", async () => {
    expect(RULE_TESTS.length).toBeGreaterThan(0);
    const result = await run("promtool", ["test", "rules", ...RULE_TESTS]);
    expect(result.stdout + result.stderr).not.toContain("FAILED");
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  it("promtool test rules really fails when an expectation is wrong", async () => {
    const dir = tempCopy(["deploy/monitoring"]);
    dirs.push(dir);
    const file = path.join(dir, RULE_TESTS[0] ?? "");
    const tests = parse(read(RULE_TESTS[0] ?? "")) as {
      tests: { alert_rule_test: { exp_alerts: unknown[] }[] }[];
    };
    // Expect silence where the rule fires.
    for (const test of tests.tests) for (const check of test.alert_rule_test) check.exp_alerts = [];
    writeFileSync(file, stringify(tests));
    const result = await run("promtool", ["test", "rules", file]);
    expect(result.stdout + result.stderr).toContain("FAILED");
    expect(result.code).not.toBe(0);
  });

  it("every dashboard query and variable is PromQL that promtool parses", async () => {
    const expressions = dashboardExpressions(dashboard());
    expect(expressions.length).toBeGreaterThan(15);
    for (const { where, expr } of expressions) expect(expr, where).not.toContain("$");
    const dir = tempCopy([]);
    dirs.push(dir);
    const file = path.join(dir, "dashboard-queries.yml");
    writeFileSync(
      file,
      stringify({
        groups: [
          {
            name: "dashboard",
            rules: expressions.map(({ expr }, i) => ({ record: `dashboard:query_${i}`, expr })),
          },
        ],
      }),
    );
    const result = await run("promtool", ["check", "rules", file]);
    expect(result.stdout + result.stderr).toContain(`SUCCESS: ${expressions.length} rules found`);
    expect(result.code, result.stdout + result.stderr).toBe(0);

    // And promtool does reject a broken query this way.
    writeFileSync(
      file,
      stringify({ groups: [{ name: "broken", rules: [{ record: "x", expr: "sum(rate(up[5m])" }] }] }),
    );
    expect((await run("promtool", ["check", "rules", file])).code).not.toBe(0);
  });
});

describe("alert rules", () => {
  const rules = alertRules();
  const operations = read("docs/operations.md");
  const anchors = new Set([...operations.matchAll(/^#{1,6}\s+(.+)$/gm)].map((match) => slug(match[1] ?? "")));

  it("cover the issue's conditions", () => {
    expect(rules.map((rule) => rule.alert).sort()).toEqual(
      [
        "AnteroomApiDown",
        "AnteroomCallbackFailures",
        "AnteroomCallbacksDeadLettered",
        "AnteroomHighErrorRate",
        "AnteroomHighLatency",
        "AnteroomNoRelease",
        "AnteroomNoWorker",
        "AnteroomQueueOverThreshold",
        "AnteroomWorkerDown",
      ].sort(),
    );
  });

  it.each(rules.map((rule) => [rule.alert ?? "", rule] as const))(
    "%s has a severity, summary, description and a runbook link to an anchor of docs/operations.md",
    (_name, rule) => {
      expect(["warning", "critical"]).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary?.length ?? 0).toBeGreaterThan(10);
      expect(rule.annotations?.description?.length ?? 0).toBeGreaterThan(30);
      const url = rule.annotations?.runbook_url ?? "";
      expect(url).toMatch(/\/docs\/operations\.md#[a-z0-9-]+$/);
      const anchor = url.slice(url.indexOf("#") + 1);
      expect(anchor).toBe(slug(rule.alert ?? ""));
      expect(anchors.has(anchor), `docs/operations.md has no heading for #${anchor}`).toBe(true);
    },
  );

  it("each rule has a unit test where it fires and one where it stays quiet", () => {
    const checks = RULE_TESTS.flatMap((file) => {
      const tests = parse(read(file)) as {
        tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
      };
      return tests.tests.flatMap((test) => test.alert_rule_test ?? []);
    });
    for (const rule of rules) {
      const mine = checks.filter((check) => check.alertname === rule.alert);
      expect(
        mine.some((check) => (check.exp_alerts ?? []).length > 0),
        `${rule.alert} never fires`,
      ).toBe(true);
      expect(
        mine.some((check) => (check.exp_alerts ?? []).length === 0),
        `${rule.alert} is never quiet`,
      ).toBe(true);
    }
  });
});

describe("Grafana dashboard", () => {
  const board = dashboard();
  const provisioned = parse(read("deploy/grafana/provisioning/datasources/prometheus.yml")) as {
    datasources: { uid: string; type: string; url: string }[];
  };
  const uids = new Set(provisioned.datasources.map((source) => source.uid));

  it("is provisioned from the folder docker-compose.yml mounts", () => {
    const provider = parse(read("deploy/grafana/provisioning/dashboards/anteroom.yml")) as {
      providers: { options: { path: string } }[];
    };
    expect(provider.providers[0]?.options.path).toBe("/var/lib/grafana/dashboards");
    expect(read("docker-compose.yml")).toContain("./deploy/grafana/dashboards:/var/lib/grafana/dashboards");
    expect(DASHBOARD_FILE.startsWith("deploy/grafana/dashboards/")).toBe(true);
    expect(provisioned.datasources[0]?.url).toBe("http://prometheus:9090");
  });

  it("refers only to the provisioned datasource, in every panel, query and variable", () => {
    const references = [
      ...allPanels(board).flatMap((panel) => [
        ...(panel.type === "row" ? [] : [{ where: panel.title, ref: panel.datasource }]),
        ...(panel.targets ?? []).map((target) => ({
          where: `${panel.title} ${target.refId}`,
          ref: target.datasource,
        })),
      ]),
      ...board.templating.list.map((variable) => ({ where: variable.name, ref: variable.datasource })),
    ];
    expect(references.length).toBeGreaterThan(20);
    for (const { where, ref } of references) {
      expect(ref?.type, where).toBe("prometheus");
      expect(uids.has(ref?.uid ?? ""), `${where}: datasource ${ref?.uid}`).toBe(true);
    }
  });

  it("shows what the issue asks for, with queue and process variables", () => {
    const titles = allPanels(board).map((panel) => panel.title.toLowerCase());
    for (const words of [
      "visitors waiting",
      "release rate",
      "joins per second",
      "polls per second",
      "wait estimate",
      "callbacks per second",
      "callback duration",
      "http latency percentiles",
      "processes up",
    ]) {
      expect(
        titles.some((title) => title.includes(words)),
        words,
      ).toBe(true);
    }
    expect(board.templating.list.map((variable) => variable.name)).toEqual(
      expect.arrayContaining(["queue", "job", "instance"]),
    );
    const ids = allPanels(board).map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
