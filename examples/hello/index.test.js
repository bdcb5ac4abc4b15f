import { test } from "node:test";
import assert from "node:assert/strict";
import { greet } from "./index.js";

test("greet uses the name", () => {
  assert.equal(greet("Ada"), "hello Ada");
});

test("greet trims and falls back to world", () => {
  assert.equal(greet("  "), "hello world");
});
