/** Greet someone by name; an empty name greets the world. */
export function greet(name) {
  const who = String(name).trim() === "" ? "world" : String(name).trim();
  return `hello ${who}`;
}
