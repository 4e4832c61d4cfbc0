import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The visitor-facing strings: one i18next JSON resource per language in `locales/`, named by its language
 * code (`en.json`, `ar.json`). The language list is the list of files: adding a language is adding one
 * file with every key of `en.json` (test/unit/i18n.test.ts fails on a missing key or plural form).
 */
export type Resource = { [key: string]: string | Resource };

/** The directory of the JSON files: beside this module (sources), else the sources' copy (a build). */
function localesDirectory(): string {
  const here = fileURLToPath(new URL("./locales/", import.meta.url));
  if (existsSync(here)) return here;
  return here.replace(/([\\/])dist([\\/])/, "$1src$2");
}

const FILE = /^([a-z]{2,3}(?:-[A-Z]{2})?)\.json$/;

function load(): Readonly<Record<string, Resource>> {
  const directory = localesDirectory();
  const resources: Record<string, Resource> = {};
  for (const name of readdirSync(directory).sort()) {
    const language = FILE.exec(name)?.[1];
    if (language === undefined) continue;
    resources[language] = JSON.parse(readFileSync(`${directory}/${name}`, "utf8")) as Resource;
  }
  if (resources.en === undefined) throw new Error(`no en.json in ${directory}`);
  return resources;
}

/** Every language's resource, by language code, read once. */
export const RESOURCES: Readonly<Record<string, Resource>> = load();

/** The languages there is a file for, English first. */
export const LANGUAGES: readonly string[] = [
  "en",
  ...Object.keys(RESOURCES).filter((language) => language !== "en"),
];

/** `{a: {b: "x"}}` → `{"a.b": "x"}`. */
export function flatten(resource: Resource, prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(resource)) {
    if (typeof value === "string") out[`${prefix}${key}`] = value;
    else Object.assign(out, flatten(value, `${prefix}${key}.`));
  }
  return out;
}
