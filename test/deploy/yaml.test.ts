import { describe, expect, it } from "vitest";
import { haveTool, run } from "./tools.js";

/** Every YAML file in the repository through yamllint, with the repository's .yamllint.yml. */
describe.skipIf(!haveTool("yamllint"))("YAML files", () => {
  it("pass yamllint -c .yamllint.yml (strict: warnings fail too)", async () => {
    const listed = await run("git", [
      "ls-files",
      "--cached",
      "--others",
      "--exclude-standard",
      "*.yml",
      "*.yaml",
    ]);
    const files = listed.stdout.split("\n").filter((file) => file !== "");
    expect(files).toEqual(expect.arrayContaining(["docker-compose.yml", ".yamllint.yml"]));
    const result = await run("yamllint", ["--strict", "-f", "parsable", "-c", ".yamllint.yml", ...files]);
    expect(result.stdout + result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  it("yamllint really rejects a bad file with this config", async () => {
    const result = await run("sh", ["-c", "printf 'a: 1\\na: 2\\n' | yamllint --strict -c .yamllint.yml -"]);
    expect(result.stdout).toContain("key-duplicates");
    expect(result.code).not.toBe(0);
  });
});
