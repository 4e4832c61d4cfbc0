import { createHash } from "node:crypto";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { build, type Plugin } from "esbuild";
import { flatten, LANGUAGES, RESOURCES } from "../i18n/resources.js";
import { CLIENT_DIR } from "./client-bundle.js";

/**
 * The operator's console (client/admin/): one script (Preact and uPlot bundled) and one stylesheet
 * (uPlot's own CSS included), built once per process with esbuild on first use, kept in memory with their
 * gzip, and served under content-hash names (cacheable for a year; a release changes the names).
 */
export interface AdminAsset {
  /** `/admin/assets/<name>.<hash>.<ext>`. */
  path: string;
  contentType: string;
  hash: string;
  body: Buffer;
  gzip: Buffer;
  etag: string;
}

export interface AdminBundle {
  script: AdminAsset;
  style: AdminAsset;
}

export const ADMIN_DIR = path.join(CLIENT_DIR, "admin");

function asset(name: string, ext: "js" | "css", body: Buffer): AdminAsset {
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 12);
  return {
    path: `/admin/assets/${name}.${hash}.${ext}`,
    contentType: ext === "js" ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8",
    hash,
    body,
    gzip: gzipSync(body, { level: 9 }),
    etag: `"${hash}"`,
  };
}

/**
 * `anteroom:admin-strings` (client/admin/strings.d.ts): every language's `admin` section, flat keys
 * without the `admin.` prefix, `{en: {...}, ar: {...}}`.
 */
export function adminStringsModule(): string {
  const strings: Record<string, Record<string, string>> = {};
  for (const language of LANGUAGES) {
    const section = RESOURCES[language]?.admin;
    strings[language] = typeof section === "object" ? flatten(section) : {};
  }
  return `export const STRINGS=${JSON.stringify(strings)};`;
}

const plugin: Plugin = {
  name: "anteroom-admin",
  setup(setup) {
    setup.onResolve({ filter: /^anteroom:admin-strings$/ }, (args) => ({
      path: args.path,
      namespace: "anteroom",
    }));
    setup.onLoad({ filter: /.*/, namespace: "anteroom" }, () => ({
      contents: adminStringsModule(),
      loader: "js",
    }));
  },
};

/** Builds the console's script and stylesheet from `dir` (client/admin by default). */
export async function buildAdminBundle(dir: string = ADMIN_DIR): Promise<AdminBundle> {
  const result = await build({
    entryPoints: { admin: path.join(dir, "main.tsx"), style: path.join(dir, "admin.css") },
    bundle: true,
    minify: true,
    format: "iife",
    target: "es2020",
    charset: "utf8",
    legalComments: "none",
    jsx: "automatic",
    jsxImportSource: "preact",
    write: false,
    outdir: "/admin",
    logLevel: "silent",
    tsconfig: path.join(dir, "..", "tsconfig.json"),
    // The console runs from one origin: nothing here is read by anyone else.
    define: { "process.env.NODE_ENV": '"production"' },
    plugins: [plugin],
  });
  const output = (name: string): Buffer => {
    const file = result.outputFiles.find((candidate) => path.basename(candidate.path) === name);
    if (file === undefined) throw new Error(`admin bundle: no ${name}`);
    return Buffer.from(file.contents);
  };
  return {
    script: asset("admin", "js", output("admin.js")),
    style: asset("admin", "css", output("style.css")),
  };
}

let memo: Promise<AdminBundle> | undefined;

/** The console of this process: built on first use, then shared. */
export function adminBundle(): Promise<AdminBundle> {
  memo ??= buildAdminBundle().catch((error: unknown) => {
    memo = undefined;
    throw error;
  });
  return memo;
}
