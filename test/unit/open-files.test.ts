import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openFilesLimit, streamCapacity } from "../../src/start/open-files.js";

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            20000                20000                files
Max locked memory         8388608              8388608              bytes
`;

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "anteroom-limits-")), "limits");
  writeFileSync(path, text);
  return path;
}

describe("the open-files limit and the streams it leaves room for", () => {
  it("reads the soft limit from /proc/self/limits", () => {
    expect(openFilesLimit(file(LIMITS))).toBe(20000);
    expect(openFilesLimit(file(LIMITS.replace("20000                20000", "unlimited unlimited")))).toBe(
      undefined,
    );
    expect(openFilesLimit(file("nothing here"))).toBeUndefined();
    expect(openFilesLimit("/nonexistent/limits")).toBeUndefined();
  });

  it("keeps 1,024 files back, and half of a small limit", () => {
    expect(streamCapacity(20000)).toBe(18976);
    expect(streamCapacity(1024)).toBe(512);
    expect(streamCapacity(undefined)).toBeUndefined();
  });
});
