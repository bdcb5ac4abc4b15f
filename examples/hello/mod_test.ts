import { greet } from "./mod.ts";

function assertEquals(actual: unknown, expected: unknown): void {
  if (actual !== expected) {
    throw new Error(`expected ${String(expected)}, got ${String(actual)}`);
  }
}

Deno.test("greet uses the name", () => {
  assertEquals(greet("Ada"), "hello Ada");
});

Deno.test("greet trims and falls back to world", () => {
  assertEquals(greet("  "), "hello world");
  assertEquals(greet(" Bob "), "hello Bob");
});
