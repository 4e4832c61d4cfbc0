import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSiteVia, type Member } from "../helpers/cluster.js";
import { Receiver } from "../helpers/receiver.js";
import {
  alertRules,
  dashboard,
  dashboardExpressions,
  type Expression,
  ruleExpressions,
  uses,
} from "./promql.js";
import { type Stack, stackAvailable, startStack } from "./stack.js";

/**
 * Every metric and label that the alert rules and the dashboard use is one that /metrics exposes: a real API
 * process and a real worker (production mode, as in the Compose stack) are given traffic (joins, polls, a
 * cancel, releases, callbacks that succeed and callbacks that fail), then both are scraped, and each
 * expression's metric names and label names are looked up in what was scraped.
 */
const available = await stackAvailable();

/** Labels Prometheus adds to every scraped series (target labels), and its own per-target series. */
const TARGET_LABELS = ["job", "instance"];
const SYNTHETIC: Record<string, string[]> = { up: TARGET_LABELS };

type Scraped = Map<string, Set<string>>;

/** Series names (histograms as their _bucket/_sum/_count series) and the label names each carries. */
function parseExposition(text: string): Scraped {
  const out: Scraped = new Map();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s/.exec(line);
    if (match === null) continue;
    const labels = out.get(match[1] ?? "") ?? new Set<string>();
    for (const label of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"/g)) {
      labels.add(label[1] ?? "");
    }
    out.set(match[1] ?? "", labels);
  }
  return out;
}

/** What an expression uses that the scrape does not have (empty when all is there). */
function problems(expression: Expression, scraped: Scraped, extraLabels: string[] = []): string[] {
  const found: string[] = [];
  const used = uses(expression.expr);
  const labelsOf = (metric: string): Set<string> | undefined => {
    const synthetic = SYNTHETIC[metric];
    if (synthetic !== undefined) return new Set(synthetic);
    const labels = scraped.get(metric);
    return labels === undefined ? undefined : new Set([...labels, ...TARGET_LABELS]);
  };
  const available = new Set<string>(TARGET_LABELS);
  for (const metric of used.metrics) {
    const labels = labelsOf(metric);
    if (labels === undefined) {
      found.push(`${expression.where}: metric ${metric} is not exposed`);
      continue;
    }
    for (const label of labels) available.add(label);
    for (const label of used.matchers.get(metric) ?? []) {
      if (!labels.has(label)) found.push(`${expression.where}: ${metric} has no label ${label}`);
    }
  }
  for (const label of [...used.grouping, ...extraLabels]) {
    if (!available.has(label)) found.push(`${expression.where}: no metric it uses has the label ${label}`);
  }
  return found;
}

let stack: Stack;
let receiver: Receiver;
let api: Member;
let worker: Member;
let scraped: Scraped;

async function scrape(member: Member): Promise<string> {
  const response = await fetch(`${member.url}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

describe.skipIf(!available)("metrics used by the dashboard and the alert rules", () => {
  beforeAll(async () => {
    stack = await startStack();
    api = await stack.cluster.addApi();
    worker = await stack.cluster.addWorker();
    receiver = new Receiver();
    const callbackUrl = await receiver.start();
    // One site whose callbacks succeed, one whose endpoint refuses connections (so they fail).
    const good = await createSiteVia(api.url, { max_users_per_minute: 600 }, { callback_url: callbackUrl });
    const bad = await createSiteVia(
      api.url,
      { max_users_per_minute: 600, name: "Failing drop" },
      { name: "Failing shop", domain: "failing.example.com", callback_url: "http://127.0.0.1:9/cb" },
    );
    for (const site of [good, bad]) {
      for (let i = 0; i < 5; i++) {
        const joined = await fetch(`${api.url}/join`, {
          method: "POST",
          headers: { "x-api-key": site.apiKey, "content-type": "application/json" },
          body: JSON.stringify({ queue_id: site.queueId, visitor_id: `metrics-${i}` }),
        });
        expect(joined.status).toBe(200);
        const { token } = (await joined.json()) as { token: string };
        expect((await fetch(`${api.url}/queue_status?token=${token}`)).status).toBe(200);
        if (i === 4)
          expect((await fetch(`${api.url}/cancel?token=${token}`, { method: "POST" })).status).toBe(200);
      }
    }
    // Until the worker has released, delivered and failed (bounded: 30 s).
    const wanted = [
      "queue_users_released_total",
      "callback_success_total",
      "callback_failure_total",
      "callback_duration_seconds_bucket",
    ];
    const deadline = Date.now() + 30_000;
    let workerText = "";
    while (Date.now() < deadline) {
      workerText = await scrape(worker);
      if (wanted.every((name) => parseExposition(workerText).has(name))) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const apiText = await scrape(api);
    scraped = parseExposition(apiText);
    for (const [name, labels] of parseExposition(workerText)) {
      scraped.set(name, new Set([...(scraped.get(name) ?? []), ...labels]));
    }
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
    await receiver?.stop();
  }, 60_000);

  it("the scrape of the API and the worker carries the traffic's series", () => {
    for (const name of [
      "queue_size",
      "queue_users_joined_total",
      "queue_users_released_total",
      "queue_users_cancelled_total",
      "callback_success_total",
      "callback_failure_total",
      "callback_duration_seconds_bucket",
      "http_request_duration_seconds_bucket",
      "anteroom_process_resident_memory_bytes",
    ]) {
      expect(scraped.has(name), name).toBe(true);
    }
    expect([...(scraped.get("callback_failure_total") ?? [])].sort()).toEqual(["final", "queue"]);
  });

  it("every alert rule uses only exposed metrics and labels (annotations' $labels too)", () => {
    const rules = alertRules();
    const found = ruleExpressions().flatMap((expression, i) => {
      const annotations = Object.values(rules[i]?.annotations ?? {}).join(" ");
      const labels = [...annotations.matchAll(/\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)/g)].map((m) => m[1] ?? "");
      return problems(expression, scraped, labels);
    });
    expect(found).toEqual([]);
  });

  it("every dashboard query and variable uses only exposed metrics and labels (legends too)", () => {
    const board = dashboard();
    const legends = new Map(
      board.panels.flatMap((panel) =>
        (panel.targets ?? []).map((target) => [
          `panel "${panel.title}" ${target.refId}`,
          target.legendFormat,
        ]),
      ),
    );
    const found = dashboardExpressions(board).flatMap((expression) => {
      const legend = legends.get(expression.where) ?? "";
      const labels = [...legend.matchAll(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g)].map((m) => m[1] ?? "");
      return problems(expression, scraped, labels);
    });
    expect(found).toEqual([]);
  });

  it("the comparison catches a metric or a label that is not exposed", () => {
    expect(problems({ where: "x", expr: "sum(rate(queue_users_admitted_total[5m]))" }, scraped)).toHaveLength(
      1,
    );
    expect(problems({ where: "x", expr: 'queue_size{tenant="a"}' }, scraped)).toHaveLength(1);
    expect(problems({ where: "x", expr: "sum by (application) (queue_size)" }, scraped)).toHaveLength(1);
    expect(problems({ where: "x", expr: 'max by (queue) (queue_size{mode="live"}) > 1' }, scraped)).toEqual(
      [],
    );
  });
});
