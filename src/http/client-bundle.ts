import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { build, type Plugin, transform } from "esbuild";
import { flatten, LANGUAGES, RESOURCES } from "../i18n/resources.js";

/**
 * The browser scripts (client/): queue.js for sites that embed the waiting room, wait.js for the hosted
 * waiting page. Built once per process from the TypeScript sources with esbuild (about 100 ms), kept in
 * memory with their gzip, and named by content hash so that caches keep them for a year and a release
 * changes the name.
 */
export interface Asset {
  /** The stable path (only queue.js is served under it, with revalidation). */
  path: string;
  /** The content-addressed path, cacheable for a year. */
  hashedPath: string;
  /** The first 12 hex digits of the body's SHA-256. */
  hash: string;
  body: Buffer;
  gzip: Buffer;
  etag: string;
  /** For <script integrity>: sha384 of the body. */
  integrity: string;
}

export interface ClientBundle {
  queue: Asset;
  wait: Asset;
}

/** client/ beside src/ (and beside dist/ when compiled). */
export const CLIENT_DIR = path.resolve(import.meta.dirname, "../../client");

function asset(name: string, body: Buffer): Asset {
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 12);
  return {
    path: `/scripts/${name}.js`,
    hashedPath: `/scripts/${name}.${hash}.js`,
    hash,
    body,
    gzip: gzipSync(body, { level: 9 }),
    etag: `"${hash}"`,
    integrity: `sha384-${createHash("sha384").update(body).digest("base64")}`,
  };
}

/** The resource sections the scripts show; `visitor.` is dropped from their keys, as the client names them. */
const SECTIONS = ["visitor.", "errors.", "widget."];
/** Strings only the hosted page shows without JavaScript. */
const PAGE_ONLY = new Set(["visitor.refreshes"]);
const SEPARATOR = "|";

/**
 * `anteroom:strings` for the client (client/strings.d.ts): every language's visitor, error and widget
 * strings, compact: the flat keys once, and per language the values in the same order, joined by `|`
 * (empty where a language has no such key, e.g. the plural forms English lacks).
 */
export function stringsModule(): string {
  const keys: string[] = [];
  const flat = LANGUAGES.map((language) => flatten(RESOURCES[language] ?? {}));
  for (const strings of flat) {
    for (const key of Object.keys(strings)) {
      if (SECTIONS.some((section) => key.startsWith(section)) && !PAGE_ONLY.has(key) && !keys.includes(key))
        keys.push(key);
    }
  }
  const texts: Record<string, string> = {};
  LANGUAGES.forEach((language, index) => {
    const values = keys.map((key) => flat[index]?.[key] ?? "");
    if (values.some((value) => value.includes(SEPARATOR)))
      throw new Error(`client strings: a ${language} string contains "${SEPARATOR}"`);
    texts[language] = values.join(SEPARATOR);
  });
  const names = keys.map((key) => key.replace(/^visitor\./, "")).join(SEPARATOR);
  return `export const KEYS=${JSON.stringify(names)};export const TEXTS=${JSON.stringify(texts)};`;
}

/** The strings module, and CSS files imported as minified text. */
const plugin: Plugin = {
  name: "anteroom-client",
  setup(setup) {
    setup.onResolve({ filter: /^anteroom:strings$/ }, (args) => ({ path: args.path, namespace: "anteroom" }));
    setup.onLoad({ filter: /.*/, namespace: "anteroom" }, () => ({
      contents: stringsModule(),
      loader: "js",
    }));
    setup.onLoad({ filter: /\.css$/ }, async (args) => {
      const css = await transform(await readFile(args.path, "utf8"), { loader: "css", minify: true });
      // Custom properties keep their spaces through esbuild (`--bg: #fff`); the browser trims them anyway.
      return { contents: css.code.trim().replace(/(--[\w-]+):\s+/g, "$1:"), loader: "text" };
    });
  },
};

/** Builds both scripts from `dir` (client/ by default). */
export async function buildClientBundle(dir: string = CLIENT_DIR): Promise<ClientBundle> {
  const result = await build({
    entryPoints: { queue: path.join(dir, "queue.ts"), wait: path.join(dir, "wait.ts") },
    bundle: true,
    minify: true,
    format: "iife",
    target: "es2020",
    charset: "utf8",
    legalComments: "none",
    write: false,
    outdir: "/scripts",
    logLevel: "silent",
    tsconfig: path.join(dir, "tsconfig.json"),
    // Private members are named `_…` in client/ and only those are shortened: never the public API
    // (QueueManager, joinQueue, cancel, on, options...) nor the JSON fields the server sends and reads.
    mangleProps: /^_/,
    plugins: [plugin],
  });
  const output = (name: string): Buffer => {
    const file = result.outputFiles.find((candidate) => path.basename(candidate.path) === `${name}.js`);
    if (file === undefined) throw new Error(`client bundle: no ${name}.js`);
    return Buffer.from(file.contents);
  };
  return { queue: asset("queue", output("queue")), wait: asset("wait", output("wait")) };
}

let memo: Promise<ClientBundle> | undefined;

/** The bundle of this process: built on first use, then shared (tests build many apps). */
export function clientBundle(): Promise<ClientBundle> {
  memo ??= buildClientBundle().catch((error: unknown) => {
    memo = undefined;
    throw error;
  });
  return memo;
}
