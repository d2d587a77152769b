import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DotSyntaxError, parseDot } from "../../src/terraform/dot.js";
import { sharedData } from "../helpers/shared-data.js";

describe("parseDot", () => {
  const planDot = sharedData("conformance/terraform/calling-module/plan.dot");
  it.skipIf(!planDot.ok)(
    "reads terraform's detailed graph: nodes, labels, escaped quotes, edges",
    () => {
      const text = readFileSync(planDot.path, "utf8");
      const graph = parseDot(text);
      const agent = graph.nodes.get("[root] coder_agent.main (expand)");
      expect(agent?.attributes.get("label")).toBe("coder_agent.main");
      expect(agent?.attributes.get("shape")).toBe("box");
      const provider = '[root] provider["registry.terraform.io/coder/coder"]';
      expect(graph.nodes.get(provider)?.attributes.get("label")).toBe(
        'provider["registry.terraform.io/coder/coder"]',
      );
      expect(graph.successors("[root] coder_agent.main (expand)")).toEqual([provider]);
      expect(graph.predecessors("[root] coder_agent.main (expand)")).toEqual([
        "[root] module.module.var.script (expand)",
        `${provider} (close)`,
      ]);
      // A node that only appears in edges exists, without attributes.
      expect(graph.nodes.get("[root] root")?.attributes.size).toBe(0);
    },
  );

  it("handles comments, attribute statements, unquoted and numeric ids, chains, ports", () => {
    const graph = parseDot(`
      /* block
         comment */
      strict digraph G {
# preprocessor line (only at the start of a line)
        rankdir = "RL"; // trailing comment
        node [shape = rect, fontname = "sans-serif"]
        edge [color=red]
        a [label=A] [weight=2]
        a -> b -> c [label="x"];
        -1.5 -> .5
        d:port:n -> e
        "multi" + "part" -> f
      }`);
    expect(graph.nodes.get("a")?.attributes).toEqual(
      new Map([
        ["label", "A"],
        ["weight", "2"],
      ]),
    );
    expect(graph.successors("a")).toEqual(["b"]);
    expect(graph.successors("b")).toEqual(["c"]);
    expect(graph.successors("-1.5")).toEqual([".5"]);
    expect(graph.successors("d")).toEqual(["e"]);
    expect(graph.successors("multipart")).toEqual(["f"]);
    // Graph attributes never become nodes.
    expect(graph.nodes.has("rankdir")).toBe(false);
  });

  it("expands subgraphs used as edge operands and nests subgraphs", () => {
    const graph = parseDot(`digraph {
      subgraph "cluster_module.m" { label = "module.m"; "m.x" [label="x"]; }
      { a b } -> subgraph s { c; d }
    }`);
    expect(graph.nodes.get("m.x")?.attributes.get("label")).toBe("x");
    expect(graph.successors("a")).toEqual(["c", "d"]);
    expect(graph.successors("b")).toEqual(["c", "d"]);
  });

  it("keeps a line continuation and other backslashes as DOT does", () => {
    const graph = parseDot('digraph { "long\\\nname" [label="a\\lb"] }');
    expect(graph.nodes.get("longname")?.attributes.get("label")).toBe("a\\lb");
  });

  it("parses an undirected graph with -- edges", () => {
    const graph = parseDot("graph { a -- b }");
    expect(graph.successors("a")).toEqual(["b"]);
  });

  it.each([
    ["", 'expected "digraph" or "graph"'],
    ["digraph { a -> }", "expected an identifier"],
    ['digraph { "open }', "unterminated string"],
    ["digraph { a [label=1 }", "expected an identifier"],
    ["digraph { a } trailing", "after the graph"],
    ["digraph { a -> b", 'expected "}"'],
    ["digraph { a ? b }", "unexpected character"],
  ])("rejects %j with a line number", (text, message) => {
    expect(() => parseDot(text)).toThrow(DotSyntaxError);
    expect(() => parseDot(text)).toThrow(
      new RegExp(`^line \\d+: .*${message.replace(/[[\]"]/g, ".")}`),
    );
  });

  it("reports the line of the problem", () => {
    expect(() => parseDot("digraph {\n a\n b ->\n}")).toThrow(/^line 4: /);
  });
});
