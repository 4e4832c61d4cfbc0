import { readdirSync } from "node:fs";
import path from "node:path";
import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { Job } from "kubernetes-models/batch/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Namespace, Secret, Service } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { parseConfig } from "../../src/config/index.js";
import { VARIABLES } from "../../src/config/schema.js";
import { ROOT, read } from "./tools.js";

/**
 * The Kubernetes manifests against the Kubernetes API schemas (kubernetes-models: each object through its
 * kind's `validate()`), then what the issue asks of them: labels, probes, resources, a non-root read-only
 * container, the Secret kept a template, settings that Anteroom knows.
 */
interface Manifest {
  file: string;
  object: Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string } };
}

function manifests(dir: string): Manifest[] {
  return readdirSync(path.join(ROOT, dir))
    .filter((file) => /\.ya?ml$/.test(file))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(read(`${dir}/${file}`)).map((document) => {
        expect(document.errors, file).toEqual([]);
        return { file: `${dir}/${file}`, object: document.toJSON() as Manifest["object"] };
      }),
    );
}

const APPLIED = manifests("k8s");
const TEMPLATE = manifests("k8s/secret-template");
const ALL = [...APPLIED, ...TEMPLATE];

/** Validates one object with its kind's model; throws the schema error. */
function validate(object: Manifest["object"]): void {
  const models: Record<string, (data: never) => { validate(): void }> = {
    "v1/Namespace": (data) => new Namespace(data),
    "v1/ConfigMap": (data) => new ConfigMap(data),
    "v1/Secret": (data) => new Secret(data),
    "v1/Service": (data) => new Service(data),
    "apps/v1/Deployment": (data) => new Deployment(data),
    "batch/v1/Job": (data) => new Job(data),
    "autoscaling/v2/HorizontalPodAutoscaler": (data) => new HorizontalPodAutoscaler(data),
    "policy/v1/PodDisruptionBudget": (data) => new PodDisruptionBudget(data),
  };
  const model = models[`${object.apiVersion}/${object.kind}`];
  if (model === undefined) throw new Error(`no model for ${object.apiVersion} ${object.kind}`);
  model(object as never).validate();
}

interface Container {
  name: string;
  image: string;
  args: string[];
  ports?: { name: string; containerPort: number }[];
  envFrom: ({ configMapRef: { name: string } } | { secretRef: { name: string } })[];
  readinessProbe?: { httpGet: { path: string; port: string } };
  livenessProbe?: { httpGet: { path: string; port: string } };
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: {
    allowPrivilegeEscalation: boolean;
    readOnlyRootFilesystem: boolean;
    capabilities: { drop: string[] };
  };
  volumeMounts: { name: string; mountPath: string }[];
}

interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    securityContext: { runAsNonRoot: boolean; runAsUser: number };
    containers: Container[];
    volumes: { name: string; emptyDir?: Record<string, unknown> }[];
  };
}

const byKind = (kind: string) => APPLIED.filter((m) => m.object.kind === kind).map((m) => m.object);
const named = (kind: string, name: string) => byKind(kind).find((object) => object.metadata.name === name);
const template = (object: Record<string, unknown> | undefined): PodTemplate =>
  (object as { spec: { template: PodTemplate } }).spec.template;
const selectorOf = (object: Record<string, unknown> | undefined) =>
  (object as { spec: { selector: { matchLabels: Record<string, string> } } }).spec.selector.matchLabels;
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

describe("Kubernetes manifests", () => {
  it("are the issue's objects", () => {
    const kinds = APPLIED.map((m) => `${m.object.kind}/${m.object.metadata.name}`).sort();
    expect(kinds).toEqual(
      [
        "ConfigMap/anteroom-config",
        "Deployment/api",
        "Deployment/worker",
        "HorizontalPodAutoscaler/api",
        "Job/migrate",
        "Namespace/anteroom",
        "PodDisruptionBudget/api",
        "PodDisruptionBudget/worker",
        "Service/anteroom-api-metrics",
        "Service/anteroom-worker-metrics",
        "Service/api",
      ].sort(),
    );
    // `kubectl apply -f k8s/` goes in file-name order: the namespace first.
    expect(APPLIED[0]?.object.kind).toBe("Namespace");
    for (const { object } of ALL.filter((m) => m.object.kind !== "Namespace")) {
      expect((object.metadata as { namespace?: string }).namespace, object.metadata.name).toBe("anteroom");
    }
  });

  it.each(ALL.map((m) => [`${m.file} ${m.object.kind}/${m.object.metadata.name}`, m.object] as const))(
    "%s validates against the Kubernetes schema",
    (_name, object) => {
      expect(() => validate(object)).not.toThrow();
    },
  );

  it("the schema validation rejects a wrong manifest", () => {
    const api = structuredClone(named("Deployment", "api")) as Manifest["object"];
    (api.spec as { replicas: unknown }).replicas = "two";
    expect(() => validate(api)).toThrow(/replicas/);
    const hpa = structuredClone(named("HorizontalPodAutoscaler", "api")) as Manifest["object"];
    delete (hpa.spec as { maxReplicas?: unknown }).maxReplicas;
    expect(() => validate(hpa)).toThrow(/maxReplicas/);
  });

  it("every pod is labelled app=queue-management, runs as non-root with a read-only root and /tmp writable", () => {
    const workloads = [...byKind("Deployment"), ...byKind("Job")];
    expect(workloads).toHaveLength(3);
    for (const workload of workloads) {
      const pod = template(workload);
      const name = workload.metadata.name;
      expect(pod.metadata.labels.app, name).toBe("queue-management");
      expect(pod.spec.securityContext.runAsNonRoot, name).toBe(true);
      expect(pod.spec.securityContext.runAsUser, name).toBeGreaterThan(0);
      const tmp = pod.spec.volumes.find((volume) => volume.emptyDir !== undefined);
      for (const container of pod.spec.containers) {
        expect(container.securityContext.readOnlyRootFilesystem, name).toBe(true);
        expect(container.securityContext.allowPrivilegeEscalation, name).toBe(false);
        expect(container.securityContext.capabilities.drop, name).toEqual(["ALL"]);
        expect(container.volumeMounts, name).toContainEqual({ name: tmp?.name, mountPath: "/tmp" });
        expect(Object.keys(container.resources.requests).sort(), name).toEqual(["cpu", "memory"]);
        expect(Object.keys(container.resources.limits).sort(), name).toEqual(["cpu", "memory"]);
        expect(container.envFrom, name).toEqual([
          { configMapRef: { name: "anteroom-config" } },
          { secretRef: { name: "anteroom-secrets" } },
        ]);
      }
    }
    expect(template(named("Job", "migrate")).spec.containers[0]?.args).toEqual(["migrate"]);
  });

  it("api and worker: commands, probes on /readyz and /healthz, scrape annotations on the metrics port", () => {
    for (const [name, command, port] of [
      ["api", "serve", 8000],
      ["worker", "worker", 9100],
    ] as const) {
      const pod = template(named("Deployment", name));
      const container = pod.spec.containers[0];
      expect(container?.args).toEqual([command]);
      const portName = container?.ports?.find((p) => p.containerPort === port)?.name;
      expect(portName).toBeDefined();
      expect(container?.readinessProbe?.httpGet).toEqual({ path: "/readyz", port: portName });
      expect(container?.livenessProbe?.httpGet).toEqual({ path: "/healthz", port: portName });
      expect(pod.metadata.annotations).toEqual({
        "prometheus.io/scrape": "true",
        "prometheus.io/port": String(port),
        "prometheus.io/path": "/metrics",
      });
    }
  });

  it("Services, the HPA and the PDBs select the right pods", () => {
    const apiPods = template(named("Deployment", "api")).metadata.labels;
    const workerPods = template(named("Deployment", "worker")).metadata.labels;
    const serviceSelector = (name: string) =>
      (named("Service", name) as unknown as { spec: { selector: Record<string, string> } }).spec.selector;
    expect(matches(serviceSelector("api"), apiPods)).toBe(true);
    expect(matches(serviceSelector("api"), workerPods)).toBe(false);
    expect(matches(serviceSelector("anteroom-api-metrics"), apiPods)).toBe(true);
    expect(matches(serviceSelector("anteroom-worker-metrics"), workerPods)).toBe(true);
    expect(matches(serviceSelector("anteroom-worker-metrics"), apiPods)).toBe(false);
    expect(matches(selectorOf(named("PodDisruptionBudget", "api")), apiPods)).toBe(true);
    expect(matches(selectorOf(named("PodDisruptionBudget", "worker")), workerPods)).toBe(true);
    for (const name of ["api", "worker"]) {
      expect(
        matches(selectorOf(named("Deployment", name)), template(named("Deployment", name)).metadata.labels),
      ).toBe(true);
    }
    const hpa = named("HorizontalPodAutoscaler", "api") as unknown as {
      spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number; metrics: unknown[] };
    };
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "api" });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    // The headless metrics Services are what prometheus-kubernetes.yml discovers through DNS.
    const prometheus = read("deploy/monitoring/prometheus-kubernetes.yml");
    expect(prometheus).toContain("anteroom-api-metrics.anteroom.svc.cluster.local");
    expect(prometheus).toContain("anteroom-worker-metrics.anteroom.svc.cluster.local");
  });

  it("the ConfigMap and the Secret template set only Anteroom's variables; the Secret is a template only", () => {
    const known = new Set(Object.keys(VARIABLES));
    const config = named("ConfigMap", "anteroom-config") as unknown as { data: Record<string, string> };
    for (const key of Object.keys(config.data)) expect(known.has(key), key).toBe(true);
    expect(byKind("Secret")).toEqual([]);
    const secret = TEMPLATE[0]?.object as unknown as {
      kind: string;
      metadata: { name: string };
      stringData: Record<string, string>;
    };
    expect(secret.kind).toBe("Secret");
    expect(secret.metadata.name).toBe("anteroom-secrets");
    expect(Object.keys(secret.stringData).sort()).toEqual(
      ["ADMIN_EMAIL", "ADMIN_PASSWORD", "DB_URL", "REDIS_URL", "SECRET_KEY"].sort(),
    );
    for (const key of Object.keys(secret.stringData)) expect(known.has(key), key).toBe(true);
    // Placeholders only: no value that would pass as a real key or password.
    expect(secret.stringData.SECRET_KEY).toBe("REPLACE_ME");
    expect(secret.stringData.ADMIN_PASSWORD).toBe("REPLACE_ME");
    expect(secret.stringData.DB_URL).toContain("REPLACE_ME");
    // Nothing secret in the ConfigMap.
    for (const key of ["DB_URL", "REDIS_URL", "SECRET_KEY", "ADMIN_PASSWORD", "METRICS_TOKEN", "SMTP_PASS"]) {
      expect(config.data[key], key).toBeUndefined();
    }
    // Anteroom's own configuration parser takes them, in production mode, once real secrets replace the
    // placeholders; with the placeholders it refuses to start (SECRET_KEY and ADMIN_PASSWORD too short).
    const real = {
      ...secret.stringData,
      SECRET_KEY: "k8s-test-secret-key-0123456789abcdef0123",
      ADMIN_PASSWORD: "a-real-admin-password",
    };
    const parsed = parseConfig({ ...config.data, ...real });
    expect(parsed.mode).toBe("production");
    expect(parsed.port).toBe(8000);
    expect(parsed.workerPort).toBe(9100);
    expect(() => parseConfig({ ...config.data, ...secret.stringData })).toThrow(
      /SECRET_KEY[\s\S]*ADMIN_PASSWORD|ADMIN_PASSWORD[\s\S]*SECRET_KEY/,
    );
  });
});
