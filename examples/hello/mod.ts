/**
 * A tiny greeting library: the example project shipit releases in its demo.
 *
 * @module
 */

/** Greet someone by name; an empty name greets the world. */
export function greet(name: string): string {
  const who = name.trim() === "" ? "world" : name.trim();
  return `hello ${who}`;
}
