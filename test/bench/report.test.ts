// The benchmark runner's pure parts: statistics, line accounting and the results shape. The
// benchmarks themselves run with `npm run bench`, never in the test suite.
import { describe, expect, it } from "vitest";
import { chattyLineNumber, checkLines } from "../../bench/lib/line-check.js";
import { markdownTable, resultsFile, rows, textTable } from "../../bench/lib/report.js";
import { median, percentile } from "../../bench/lib/stats.js";

describe("stats", () => {
  it("takes medians and nearest-rank percentiles", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    const fifty = Array.from({ length: 50 }, (_, i) => i + 1);
    expect(percentile(fifty, 99)).toBe(50);
    expect(percentile(fifty, 50)).toBe(25);
    expect(() => median([])).toThrow(RangeError);
  });
});

describe("line accounting", () => {
  it("counts lost, duplicated and reordered lines against 1..n", () => {
    const number = chattyLineNumber(5);
    const outputs = [
      "terraform_data.chatty: (local-exec): Executing: printf chatty line %d of %d",
      "x: (local-exec): chatty line 1 of 5",
      "x: (local-exec): chatty line 3 of 5",
      "x: (local-exec): chatty line 2 of 5",
      "x: (local-exec): chatty line 3 of 5",
      "x: (local-exec): chatty line 9 of 5",
    ];
    expect(checkLines(outputs, 5, number)).toEqual({
      received: 5,
      lost: 2,
      duplicated: 1,
      reordered: 1,
      unexpected: 1,
    });
  });
});

describe("results", () => {
  it("keeps figure names at the top level with machine, date and notes, nulls included", () => {
    const figures = {
      pickup_stream_p50_ms: 2,
      pickup_poll_p50_ms: 500,
      pickup_speedup: 250,
      rss_idle_mb: null,
      extra_ms: 1,
    };
    const machine = { cpu: "cpu", cores: 2, memory_gb: 4, node: "v20", terraform: "1.11.4" };
    const file = resultsFile(
      figures,
      { rss_idle_mb: "not measured: no /proc" },
      { machine, date: "d", run: {} },
    );
    expect(JSON.parse(JSON.stringify(file))).toMatchObject({
      ...figures,
      machine,
      date: "d",
      notes: { rss_idle_mb: "not measured: no /proc" },
    });

    const table = rows(figures);
    expect(table.map((r) => r.name)).toEqual([
      "pickup_stream_p50_ms",
      "pickup_poll_p50_ms",
      "pickup_speedup",
      "rss_idle_mb",
      "extra_ms",
    ]);
    expect(table.map((r) => r.met)).toEqual(["yes", "—", "yes", "n/a", "—"]);
    expect(textTable(table).split("\n")).toHaveLength(6);
    const markdown = markdownTable(table, { rss_idle_mb: "no /proc" });
    expect(markdown).toContain("| `rss_idle_mb` | null | ≤ 80 | n/a |");
    expect(markdown).toContain("- `rss_idle_mb`: no /proc");
  });
});
