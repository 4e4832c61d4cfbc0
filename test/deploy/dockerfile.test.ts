import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { childEnv, freePort, startServer } from "../helpers/process.js";
import { ROOT, read, tempCopy } from "./tools.js";

/**
 * The Dockerfile without a Docker engine: its instructions are read and checked, its HEALTHCHECK command is
 * run as it is written against a real `anteroom serve`, and the files it copies into the image are shown to
 * be enough to run the server (a copy of exactly those, started from that copy).
 */
interface Instruction {
  keyword: string;
  args: string;
}

/** The Dockerfile's instructions, continuation lines joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const joined = text
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n")
    .replace(/\\\n/g, " ");
  return joined
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .map((line) => {
      const [keyword = "", ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(" ") };
    });
}

const DOCKERFILE = instructions(read("Dockerfile"));
const all = (keyword: string) => DOCKERFILE.filter((i) => i.keyword === keyword).map((i) => i.args);
/** Instructions of the last (runtime) stage. */
const lastFrom = DOCKERFILE.map((i) => i.keyword).lastIndexOf("FROM");
const finalStage = DOCKERFILE.slice(lastFrom);
const inFinal = (keyword: string) => finalStage.filter((i) => i.keyword === keyword).map((i) => i.args);

/** The exec-form JSON array after HEALTHCHECK's options and CMD. */
function healthcheckCommand(): string[] {
  const [args = ""] = inFinal("HEALTHCHECK");
  const cmd = args.slice(args.indexOf("CMD ") + 4);
  return JSON.parse(cmd) as string[];
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "anteroom-image-"));
  dirs.push(dir);
  return dir;
}

describe("Dockerfile", () => {
  it("is multi-stage on the official Node 20 slim image, with the image's contract", () => {
    expect(read("Dockerfile")).toContain("ARG NODE_IMAGE=node:20-bookworm-slim");
    const froms = all("FROM");
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from.startsWith("$" + "{NODE_IMAGE}")).toBe(true);
    expect(all("RUN").some((run) => run.includes("npm ci --omit=dev"))).toBe(true);
    // The final stage takes node_modules from that production-only install, and no compiler.
    expect(
      inFinal("COPY").some((copy) => copy.includes("--from=deps") && copy.includes("node_modules")),
    ).toBe(true);
    expect(inFinal("RUN").join(" ")).not.toMatch(/g\+\+|apt-get install/);
    expect(inFinal("USER")).toEqual(["node"]);
    expect(inFinal("ENTRYPOINT")).toEqual(['["node", "bin/anteroom.js"]']);
    expect(inFinal("CMD")).toEqual(['["serve"]']);
    expect(inFinal("EXPOSE")).toEqual(["8000 9100"]);
    const labels = inFinal("LABEL").join(" ");
    for (const key of ["source", "version", "licenses"]) {
      expect(labels).toContain(`org.opencontainers.image.${key}=`);
    }
    expect(healthcheckCommand().slice(0, 2)).toEqual(["node", "-e"]);
    expect(healthcheckCommand()[2]).toContain("/healthz");
  });

  it("keeps data, .git, .env, tests and node_modules out of the build context", () => {
    const ignored = read(".dockerignore")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "" && !line.startsWith("#"));
    for (const entry of ["data", ".git", ".env", "test", "node_modules"]) expect(ignored).toContain(entry);
    // ...and nothing the image copies.
    const copied = inFinal("COPY")
      .filter((copy) => !copy.includes("--from="))
      .flatMap((copy) =>
        copy
          .split(/\s+/)
          .filter((word) => !word.startsWith("--"))
          .slice(0, -1),
      );
    expect(copied.sort()).toEqual(["bin", "client", "package-lock.json", "package.json", "src"]);
    for (const entry of copied) expect(ignored).not.toContain(entry);
  });

  it("needs at run time only packages from `dependencies` (what npm ci --omit=dev installs)", () => {
    const pkg = JSON.parse(read("package.json")) as { dependencies: Record<string, string> };
    const allowed = new Set([...Object.keys(pkg.dependencies), ...builtinModules]);
    const files = ["bin", "src"].flatMap((dir) =>
      (readdirSync(path.join(ROOT, dir), { recursive: true }) as string[])
        .filter((file) => /\.(ts|js)$/.test(file))
        .map((file) => path.join(dir, file)),
    );
    expect(files.length).toBeGreaterThan(50);
    const missing = new Set<string>();
    for (const file of files) {
      const text = readFileSync(path.join(ROOT, file), "utf8");
      // Value imports only: `import type` is erased by tsx and needs nothing installed.
      for (const match of text.matchAll(/^\s*(?:import|export)\s+(?!type\s)[^;]*?from\s+"([^".][^"]*)"/gm)) {
        const specifier = (match[1] ?? "").replace(/^node:/, "");
        const name = specifier.startsWith("@")
          ? specifier.split("/").slice(0, 2).join("/")
          : (specifier.split("/")[0] ?? "");
        if (!allowed.has(name)) missing.add(`${file}: ${specifier}`);
      }
    }
    expect([...missing]).toEqual([]);
  });

  it("the image's files are enough: `serve` runs from a copy of what the Dockerfile copies", async () => {
    const app = tempCopy(["package.json", "package-lock.json", "bin", "src", "client"]);
    dirs.push(app);
    symlinkSync(path.join(ROOT, "node_modules"), path.join(app, "node_modules"), "dir");
    const port = await freePort();
    const server = await startServer(["serve"], { DATA_DIR: tempDir(), HOST: "127.0.0.1" }, port, {
      cwd: app,
    });
    try {
      // The browser bundles are built at start-up by esbuild, from client/.
      const script = await fetch(`${server.url}/scripts/queue.js`);
      expect(script.status).toBe(200);
      expect((await script.text()).length).toBeGreaterThan(1000);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      server.child.kill("SIGTERM");
    }
  });

  // The image runs as `node` and Kubernetes mounts its root read-only with an emptyDir at /tmp: the server
  // must need no other writable place. Here: an unprivileged user, a root-owned copy of the image's files.
  const asRoot = process.getuid?.() === 0;
  if (!asRoot && process.env.CI !== "true") {
    console.warn("\n!!! not root: the read-only run as an unprivileged user is SKIPPED !!!\n");
  }
  it.skipIf(!asRoot && process.env.CI !== "true")(
    "runs as an unprivileged user with only TMPDIR writable (the Kubernetes read-only root)",
    async () => {
      const app = tempCopy(["package.json", "package-lock.json", "bin", "src", "client"]);
      dirs.push(app);
      // Hard links, not a symlink into the checkout: the checkout may sit in a directory only its owner can
      // enter (a fresh CI clone in a 0700 temp dir), which the unprivileged user could not reach.
      execFileSync("cp", ["-al", path.join(ROOT, "node_modules"), path.join(app, "node_modules")]);
      chmodSync(app, 0o755);
      const tmp = tempDir();
      chmodSync(tmp, 0o700);
      chownSync(tmp, 65534, 65534);
      mkdirSync(path.join(tmp, "data"));
      chownSync(path.join(tmp, "data"), 65534, 65534);
      const port = await freePort();
      const env = childEnv({
        TMPDIR: tmp,
        HOME: "/nonexistent",
        DATA_DIR: path.join(tmp, "data"),
        HOST: "127.0.0.1",
        PORT: String(port),
      });
      const child = spawn("runuser", ["-u", "nobody", "--", process.execPath, "bin/anteroom.js", "serve"], {
        cwd: app,
        env,
        detached: true,
      });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.stderr.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      try {
        let healthy = false;
        for (let i = 0; i < 200 && !healthy && child.exitCode === null; i++) {
          healthy = await fetch(`http://127.0.0.1:${port}/healthz`).then(
            (response) => response.ok,
            () => false,
          );
          if (!healthy) await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(healthy, output).toBe(true);
        const script = await fetch(`http://127.0.0.1:${port}/scripts/queue.js`);
        expect(script.status, output).toBe(200);
        expect(output).not.toMatch(/EACCES|EROFS|EPERM/);
      } finally {
        if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGTERM");
      }
    },
  );

  it("HEALTHCHECK and the Compose health checks, as written, pass against a running server and fail when nothing listens", async () => {
    const [command = "", ...args] = healthcheckCommand();
    expect(command).toBe("node");
    const compose = parse(read("docker-compose.yml")) as {
      services: Record<string, { healthcheck?: { test?: string[] } }>;
    };
    const port = await freePort();
    const server = await startServer(["serve"], { DATA_DIR: tempDir(), HOST: "127.0.0.1" }, port);
    try {
      const healthy = spawnSync(process.execPath, args, {
        env: { ...process.env, PORT: String(port) },
        timeout: 10_000,
      });
      expect(healthy.status).toBe(0);
      for (const [service, fixedPort] of [
        ["api", "8000"],
        ["worker", "9100"],
      ] as const) {
        const [kind, node, ...rest] = compose.services[service]?.healthcheck?.test ?? [];
        expect([kind, node]).toEqual(["CMD", "node"]);
        // The same command, pointed at this test's port instead of the container's.
        const script = rest.map((arg) => arg.replace(`:${fixedPort}/`, `:${port}/`));
        expect(script.join(" ")).toContain(`:${port}/healthz`);
        expect(spawnSync(process.execPath, script, { timeout: 10_000 }).status, service).toBe(0);
      }
    } finally {
      server.child.kill("SIGTERM");
    }
    const closed = await freePort();
    const unhealthy = spawnSync(process.execPath, args, {
      env: { ...process.env, PORT: String(closed) },
      timeout: 10_000,
    });
    expect(unhealthy.status).toBe(1);
  });
});
