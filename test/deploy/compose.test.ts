import { appendFileSync, copyFileSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { haveTool, run, tempCopy } from "./tools.js";

/**
 * docker-compose.yml through Compose's own validator (`docker-compose config`), in a temporary copy with a
 * `.env` made the way the README says: `cp .env.example .env`, then SECRET_KEY and POSTGRES_PASSWORD added.
 */
const enabled = haveTool("docker-compose");
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function project(extraEnv: string): string {
  const dir = tempCopy(["docker-compose.yml", "deploy"]);
  dirs.push(dir);
  copyFileSync(path.join(import.meta.dirname, "../../.env.example"), path.join(dir, ".env"));
  appendFileSync(path.join(dir, ".env"), extraEnv);
  return dir;
}

const SECRETS =
  "SECRET_KEY=compose-test-secret-0123456789abcdef01\nPOSTGRES_PASSWORD=compose-test-password\n";

interface Service {
  command?: string[];
  image?: string;
  container_name?: string;
  ports?: unknown[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  volumes?: (string | { type: string; source: string; target: string })[];
  restart?: string;
}

describe.skipIf(!enabled)("docker-compose.yml", () => {
  it("is valid for docker-compose config -q with .env from .env.example plus the two secrets", async () => {
    const result = await run("docker-compose", ["-f", "docker-compose.yml", "config", "-q"], {
      cwd: project(SECRETS),
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  it("refuses to start without SECRET_KEY, saying what to set", async () => {
    const result = await run("docker-compose", ["-f", "docker-compose.yml", "config", "-q"], {
      cwd: project("POSTGRES_PASSWORD=compose-test-password\n"),
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("set SECRET_KEY in .env");
  });

  it("defines the stack: services, commands, ordering, health checks, volumes, scalable workers", async () => {
    const result = await run("docker-compose", ["-f", "docker-compose.yml", "config"], {
      cwd: project(SECRETS),
    });
    expect(result.code).toBe(0);
    const config = parse(result.stdout) as {
      services: Record<string, Service>;
      volumes: Record<string, unknown>;
    };
    const { services } = config;
    expect(Object.keys(services).sort()).toEqual(
      ["api", "grafana", "migrate", "postgres", "prometheus", "redis", "worker"].sort(),
    );
    expect(services.api?.command).toEqual(["serve"]);
    expect(services.worker?.command).toEqual(["worker"]);
    expect(services.migrate?.command).toEqual(["migrate"]);
    expect(services.migrate?.restart).toBe("no");
    expect(services.postgres?.image).toBe("postgres:16");
    expect(services.redis?.image).toBe("redis:7");
    // --scale worker=3 needs neither a fixed name nor a host port.
    expect(services.worker?.container_name).toBeUndefined();
    expect(services.worker?.ports).toBeUndefined();
    for (const name of ["api", "worker"]) {
      const service = services[name];
      expect(service?.depends_on?.migrate?.condition).toBe("service_completed_successfully");
      expect(service?.depends_on?.postgres?.condition).toBe("service_healthy");
      expect(service?.depends_on?.redis?.condition).toBe("service_healthy");
      expect(service?.environment?.DB_URL).toBe(
        "postgres://anteroom:compose-test-password@postgres:5432/anteroom",
      );
      expect(service?.environment?.REDIS_URL).toBe("redis://redis:6379");
    }
    expect(services.migrate?.depends_on?.postgres?.condition).toBe("service_healthy");
    expect(services.prometheus?.depends_on?.api?.condition).toBe("service_healthy");
    expect(services.grafana?.depends_on?.prometheus?.condition).toBe("service_healthy");
    // Every long-running service has a health check of its own.
    for (const name of ["api", "worker", "postgres", "redis", "prometheus", "grafana"]) {
      expect(services[name]?.healthcheck?.test?.[0], name).toBe("CMD");
    }
    expect(services.worker?.healthcheck?.test?.join(" ")).toContain(":9100/healthz");
    expect(Object.keys(config.volumes).sort()).toEqual(["grafana-data", "postgres-data"]);
    const mounts = (service: Service | undefined) =>
      (service?.volumes ?? []).map((volume) =>
        typeof volume === "string" ? volume.split(":")[0] : volume.source,
      );
    expect(mounts(services.postgres)).toContain("postgres-data");
    expect(mounts(services.grafana)).toContain("grafana-data");
  });
});
