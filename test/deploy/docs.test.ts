import { describe, expect, it } from "vitest";
import { read } from "./tools.js";

/** The README's Deployment section shows the seed's commands as they work here; its links resolve. */
const README = read("README.md");
const OPERATIONS = read("docs/operations.md");

function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

function section(text: string, heading: string): string {
  const start = text.indexOf(`\n## ${heading}\n`);
  expect(start, heading).toBeGreaterThan(0);
  const end = text.indexOf("\n## ", start + 4);
  return text.slice(start, end === -1 ? undefined : end);
}

describe("deployment docs", () => {
  const deployment = section(README, "Deployment");

  it("the README's Deployment section comes before the licence and has the seed's commands", () => {
    expect(README.indexOf("\n## Deployment\n")).toBeLessThan(README.indexOf("\n## Licence\n"));
    for (const command of [
      "cp .env.example .env",
      "docker-compose up -d",
      "docker-compose logs -f api",
      "docker-compose up -d --scale worker=3",
      "kubectl apply -f k8s/",
      "kubectl get pods -l app=queue-management",
      "localhost:3000",
    ]) {
      expect(deployment, command).toContain(command);
    }
    // The seed's `logs -f fastapi`: explained, since the service is `api`.
    expect(deployment).toContain("fastapi");
  });

  it("docs/operations.md has a section per target, and the links to it resolve", () => {
    const anchors = new Set([...OPERATIONS.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => slug(m[1] ?? "")));
    for (const heading of ["Deploying with Docker Compose", "Deploying on Kubernetes", "Bare processes"]) {
      expect(anchors.has(slug(heading)), heading).toBe(true);
    }
    const kubernetes = section(OPERATIONS, "Deploying on Kubernetes");
    expect(kubernetes).toContain("HPA");
    expect(kubernetes).toContain("kubectl -n anteroom scale deployment/worker");
    expect(section(OPERATIONS, "Deploying with Docker Compose")).toContain("--scale worker=3");
    const links = [
      ...deployment.matchAll(/docs\/operations\.md#([a-z0-9-]+)/g),
      ...OPERATIONS.matchAll(/\]\(#([a-z0-9-]+)\)/g),
    ].map((m) => m[1] ?? "");
    expect(links.length).toBeGreaterThan(3);
    for (const anchor of links) expect(anchors.has(anchor), `#${anchor}`).toBe(true);
  });
});
