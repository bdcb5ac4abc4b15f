"""One builder per project shape: ``build(shape, root, name)`` returns the committed project.

Shapes (each as its kind of maintainer sets it up):
- ``deno-jsr``: a Deno library on JSR only; deno.json tasks (``test``, ``lint`` running
  ``deno lint`` and ``deno fmt --check``), lint and fmt sections, a CI workflow.
- ``deno-dnt``: a Deno library on JSR and npm; a build script that writes what dnt writes into
  ``npm/`` (package.json with the version given as its argument, esm/ and script/ JS, types,
  README and LICENSE), ``exclude: ["npm/"]``, ``[npm] directory/build-command`` in shipit.toml.
- ``deno-tags``: a Deno library whose version lives only in git tags (no version in deno.json;
  CI publishes with the tag's version).
- ``deno-cli``: a Deno command-line program shipped as ``deno compile`` binaries (``[binaries]``
  in shipit.toml), config test permissions (run with ``-P``), no exports.
- ``node-ts``: a Node TypeScript library built by ``prepare`` (tsc into distribution/), tested by
  ``xo && ava`` (sindresorhus style).
- ``node-vitest``: a Node library with ``eslint .`` and ``vitest run`` scripts.
- ``python-tox``: a setuptools library whose version is ``__version__`` in a module, tags
  without ``v``, lint through tox (``tox -e lint`` runs ruff), pytest configuration,
  MANIFEST.in and a CITATION.cff that names a commit.
- ``python-hatch-vcs``: a hatchling + hatch-vcs library (version from git tags), ruff and mypy
  configured in pyproject.toml.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from shipit.checks.base import Kind
from tests.corpus.base import BIN, CorpusProject, Planted, install_node_tools, new_repo, run

COMMIT_SHA = "3f786850e387550fdab836ed7e6dc881de23001b"  # a commit hash, not a secret
AWS_KEY_LINE = 'const awsKey = "AKIAZ7XQ2M4KJH6PW3NB";'

# ------------------------------------------------------------------ Deno

DENO_MOD = """/**
 * Small helpers for durations.
 * @module
 */

/** Milliseconds in one second. */
export const SECOND = 1000;

/** Converts seconds to milliseconds. */
export function seconds(value: number): number {
  return value * SECOND;
}

/** Formats milliseconds as "1.5s". */
export function format(ms: number): string {
  return `${ms / SECOND}s`;
}
"""

DENO_TEST = """import { format, seconds } from "./mod.ts";

Deno.test("seconds converts to milliseconds", () => {
  const got = seconds(2);
  if (got !== 2000) throw new Error(`expected 2000, got ${got}`);
});

Deno.test("format writes seconds", () => {
  const got = format(1500);
  if (got !== "1.5s") throw new Error(`expected 1.5s, got ${got}`);
});
"""

DENO_CI = """name: ci
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: denoland/setup-deno@v2
      - run: deno task lint
      - run: deno task test
"""

DNT_BUILD = """// Builds the npm package into npm/ as dnt does (esm/, script/, types/, package.json)
// Usage: deno run -A scripts/build_npm.ts <version>
const version = Deno.args[0];
if (!version) {
  console.error("usage: build_npm.ts <version>");
  Deno.exit(2);
}
const config = JSON.parse(await Deno.readTextFile("deno.json"));
const source = await Deno.readTextFile("mod.ts");
const js = source
  .replace(/\\((\\w+): \\w+\\): \\w+ \\{/g, "($1) {")
  .replace(/: number = /g, " = ");
await Deno.remove("npm", { recursive: true }).catch(() => {});
for (const dir of ["npm/esm", "npm/script", "npm/types"]) {
  await Deno.mkdir(dir, { recursive: true });
}
await Deno.writeTextFile("npm/esm/mod.js", js);
await Deno.writeTextFile(
  "npm/script/mod.js",
  `"use strict";\\n${js.replace(/export /g, "")}\\n`,
);
await Deno.writeTextFile("npm/types/mod.d.ts", "export declare const SECOND: number;\\n");
const pkg = {
  name: config.name.replace("@corpus/", "corpus-"),
  version,
  description: "Small helpers for durations",
  license: "MIT",
  main: "./script/mod.js",
  module: "./esm/mod.js",
  types: "./types/mod.d.ts",
  exports: { ".": { import: "./esm/mod.js", require: "./script/mod.js" } },
};
await Deno.writeTextFile("npm/package.json", JSON.stringify(pkg, null, 2) + "\\n");
await Deno.copyFile("README.md", "npm/README.md");
await Deno.copyFile("LICENSE", "npm/LICENSE");
"""

DENO_CLI_MAIN = """import { parseArgs } from "./args.ts";

/** Prints the greeting for the parsed arguments. */
export function main(args: string[]): string {
  const options = parseArgs(args);
  return options.version ? "tool 1.0.0" : `hello ${options.name}`;
}

if (import.meta.main) {
  console.log(main(Deno.args));
}
"""

DENO_CLI_ARGS = """/** The options of the command line. */
export interface Options {
  name: string;
  version: boolean;
}

/** Reads `--version` and a name. */
export function parseArgs(args: string[]): Options {
  const version = args.includes("--version");
  const name = args.find((a) => !a.startsWith("-")) ?? "world";
  return { name, version };
}
"""

DENO_CLI_TEST = """import { main } from "./main.ts";

Deno.test("greets by name", () => {
  const got = main(["ada"]);
  if (got !== "hello ada") throw new Error(`got ${got}`);
});

Deno.test("reads its own config", async () => {
  const text = await Deno.readTextFile("deno.json");
  if (!text.includes("tasks")) throw new Error("no tasks");
});
"""


def _deno_fmt(project: CorpusProject) -> None:
    run([str(BIN / "deno"), "fmt", "--quiet"], project.path)


def _deno_base(project: CorpusProject, config: dict[str, object]) -> None:
    project.write(
        {
            "deno.json": json.dumps(config, indent=2) + "\n",
            "mod.ts": DENO_MOD,
            "mod_test.ts": DENO_TEST,
            "README.md": f"# {project.name}\n\nSmall helpers for durations.\n",
            "LICENSE": "MIT License\n\nCopyright (c) 2026 the corpus authors\n",
            ".github/workflows/ci.yml": DENO_CI,
        }
    )


def _deno_type_error(project: CorpusProject) -> Planted:
    project.edit("mod.ts", "export const SECOND = 1000;", 'export const SECOND: number = "1000";')
    line = project.line_of("mod.ts", "export const SECOND")
    return Planted("typecheck", "mod.ts", line, Kind.TYPE, "TS2322")


def _deno_lint(project: CorpusProject) -> Planted:
    project.edit(
        "mod.ts", "  return value * SECOND;", "  const unused = 1;\n  return value * SECOND;"
    )
    line = project.line_of("mod.ts", "const unused")
    return Planted("lint", "mod.ts", line, Kind.LINT, "no-unused-vars")


def _deno_failing_test(project: CorpusProject) -> Planted:
    project.edit("mod_test.ts", 'if (got !== "1.5s")', 'if (got !== "1.50s")')
    line = project.line_of("mod_test.ts", 'if (got !== "1.50s")')
    return Planted("test", "mod_test.ts", line, Kind.TEST, "format writes seconds")


def _deno_secret(project: CorpusProject) -> Planted:
    project.edit(
        "mod.ts", "export const SECOND = 1000;", f"{AWS_KEY_LINE}\nexport const SECOND = 1000;"
    )
    line = project.line_of("mod.ts", "awsKey")
    return Planted("secrets", "mod.ts", line, Kind.SECRET, "AWS Access Key")


def deno_jsr(root: Path, name: str) -> CorpusProject:
    project = CorpusProject("deno-jsr", new_repo(root), name, after_write=_deno_fmt)
    _deno_base(
        project,
        {
            "name": f"@corpus/{name}",
            "version": "1.2.0",
            "license": "MIT",
            "exports": "./mod.ts",
            "tasks": {"test": "deno test", "lint": "deno lint && deno fmt --check"},
            "lint": {"rules": {"tags": ["recommended"]}},
            "fmt": {"lineWidth": 100},
            "publish": {"exclude": [".github/"]},
        },
    )
    project.planters = {
        "type-error": _deno_type_error,
        "lint": _deno_lint,
        "failing-test": _deno_failing_test,
        "secret": _deno_secret,
    }
    project.commit("a Deno library on JSR")
    return project


def deno_dnt(root: Path, name: str) -> CorpusProject:
    project = CorpusProject("deno-dnt", new_repo(root), name, after_write=_deno_fmt)
    _deno_base(
        project,
        {
            "name": f"@corpus/{name}",
            "version": "2.0.0",
            "license": "MIT",
            "exports": "./mod.ts",
            "exclude": ["npm/"],
            "tasks": {
                "test": "deno test",
                "check": "deno check mod.ts",
                "build:npm": "deno run -A scripts/build_npm.ts",
            },
            "lint": {},
        },
    )
    project.write(
        {
            "scripts/build_npm.ts": DNT_BUILD,
            ".gitignore": "npm/\n",
            "shipit.toml": '[npm]\ndirectory = "npm"\n'
            'build-command = "deno run -A scripts/build_npm.ts {version}"\n',
        }
    )
    project.planters = {
        "type-error": _deno_type_error,
        "failing-test": _deno_failing_test,
        "secret": _deno_secret,
    }
    project.commit("a Deno library on JSR and npm (dnt)")
    return project


def deno_tags(root: Path, name: str) -> CorpusProject:
    project = CorpusProject("deno-tags", new_repo(root), name, after_write=_deno_fmt)
    _deno_base(
        project,
        {
            "name": f"@corpus/{name}",
            "license": "MIT",
            "exports": "./mod.ts",
            "tasks": {"test": "deno test"},
        },
    )
    project.planters = {"type-error": _deno_type_error, "failing-test": _deno_failing_test}
    project.commit("a Deno library versioned by its tags")
    project.tag("v0.3.0")
    project.edit("README.md", "Small helpers", "Small, tested helpers")
    project.commit("docs")
    return project


def deno_cli(root: Path, name: str) -> CorpusProject:
    project = CorpusProject("deno-cli", new_repo(root), name, after_write=_deno_fmt)
    config = {
        "version": "1.1.0",
        "tasks": {"compile": "deno compile -P --output dist/tool main.ts"},
        "test": {"permissions": {"read": ["deno.json"]}},
        "lint": {},
    }
    project.write(
        {
            "deno.json": json.dumps(config, indent=2) + "\n",
            "main.ts": DENO_CLI_MAIN,
            "args.ts": DENO_CLI_ARGS,
            "main_test.ts": DENO_CLI_TEST,
            "README.md": "# tool\n\nGreets.\n",
            ".gitignore": "dist/\n",
            # docs/project-shapes.md's configuration: a table with targets is on
            "shipit.toml": '[binaries]\nname = "tool"\npreset = "deno"\nentry = "main.ts"\n'
            'targets = ["x86_64-unknown-linux-gnu", "aarch64-apple-darwin"]\n'
            'archive = "tar.gz"\n',
        }
    )

    def type_error(p: CorpusProject) -> Planted:
        p.edit("args.ts", "  return { name, version };", "  return { name, version: 1 };")
        return Planted(
            "typecheck", "args.ts", p.line_of("args.ts", "version: 1"), Kind.TYPE, "TS2322"
        )

    def failing(p: CorpusProject) -> Planted:
        p.edit("main_test.ts", 'got !== "hello ada"', 'got !== "hi ada"')
        line = p.line_of("main_test.ts", 'got !== "hi ada"')
        return Planted("test", "main_test.ts", line, Kind.TEST, "greets by name")

    project.planters = {"type-error": type_error, "failing-test": failing}
    project.commit("a Deno command-line program")
    project.tag("v1.0.0")
    project.edit("main.ts", "tool 1.0.0", "tool 1.1.0")
    project.commit("1.1.0")
    return project


# ------------------------------------------------------------------ Node

NODE_TS_SOURCE = """export type Options = {
	readonly separator?: string;
};

export default function joinWords(words: readonly string[], options: Options = {}): string {
	const {separator = ' '} = options;
	return words.filter(word => word.length > 0).join(separator);
}
"""

NODE_TS_TEST = """import test from 'ava';
import joinWords from './distribution/index.js';

test('joins words', t => {
	t.is(joinWords(['a', 'b']), 'a b');
});

test('skips empty words', t => {
	t.is(joinWords(['a', '', 'b'], {separator: '-'}), 'a-b');
});
"""

NODE_TS_CONFIG = {
    "compilerOptions": {
        "outDir": "distribution",
        "declaration": True,
        "strict": True,
        "module": "nodenext",
        "moduleResolution": "nodenext",
        "target": "es2022",
    },
    "include": ["source"],
}


def node_ts(root: Path, name: str) -> CorpusProject:
    project = CorpusProject("node-ts", new_repo(root), name)
    pkg = {
        "name": name,
        "version": "3.1.0",
        "description": "Join words",
        "license": "MIT",
        "type": "module",
        "exports": {"types": "./distribution/index.d.ts", "default": "./distribution/index.js"},
        "files": ["distribution"],
        "engines": {"node": ">=20"},
        "scripts": {"build": "tsc", "prepare": "npm run build", "test": "xo && ava"},
        "devDependencies": {"ava": "6.4.1", "typescript": "5.9.3", "xo": "0.60.0"},
        "xo": {"ignores": ["distribution"]},
    }
    project.write(
        {
            "package.json": json.dumps(pkg, indent="\t") + "\n",
            "tsconfig.json": json.dumps(NODE_TS_CONFIG, indent="\t") + "\n",
            "source/index.ts": NODE_TS_SOURCE,
            "test.js": NODE_TS_TEST,
            "readme.md": f"# {name}\n\n> Join words\n",
            "license": "MIT License\n\nCopyright (c) 2026 the corpus authors\n",
            ".gitignore": "node_modules\ndistribution\n",
        }
    )
    install_node_tools(project, "xo_ava")
    run([str(project.path / "node_modules" / ".bin" / "tsc")], project.path)  # prepare

    def type_error(p: CorpusProject) -> Planted:
        p.edit(
            "source/index.ts",
            "const {separator = ' '} = options;",
            "const {separator = 1} = options;",
        )
        line = p.line_of("source/index.ts", "join(separator)")
        return Planted("typecheck", "source/index.ts", line, Kind.TYPE, "TS2345")

    def lint(p: CorpusProject) -> Planted:
        p.edit(
            "test.js",
            "test('joins words', t => {\n",
            "test('joins words', t => {\n\tconst unused = 1;\n",
        )
        line = p.line_of("test.js", "const unused")
        return Planted("test", "test.js", line, Kind.LINT, "no-unused-vars")

    def failing(p: CorpusProject) -> Planted:
        p.edit(
            "test.js", "t.is(joinWords(['a', 'b']), 'a b');", "t.is(joinWords(['a', 'b']), 'a  b');"
        )
        line = p.line_of("test.js", "'a  b'")
        return Planted("test", "test.js", line, Kind.TEST, "joins words")

    def no_node_modules(p: CorpusProject) -> Planted:
        (p.path / "node_modules").unlink()
        return Planted("test", "package.json", None, Kind.DEPENDENCY, "not installed")

    project.planters = {
        "type-error": type_error,
        "lint": lint,
        "failing-test": failing,
        "dependencies-missing": no_node_modules,
    }
    project.commit("a TypeScript library (xo, ava)")
    return project


ESLINT_CONFIG = """import js from "@eslint/js";

export default [
  js.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: "module" },
  },
];
"""

VITEST_SOURCE = """export function slugify(text) {
  return text
    .toLowerCase()
    .trim()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}
"""

VITEST_TEST = """import { describe, expect, it } from "vitest";
import { slugify } from "../src/index.js";

describe("slugify", () => {
  it("lowercases and joins words", () => {
    expect(slugify("Hello World")).toBe("hello-world");
  });

  it("drops punctuation", () => {
    expect(slugify("  a, b!  ")).toBe("a-b");
  });
});
"""


def node_vitest(root: Path, name: str) -> CorpusProject:
    project = CorpusProject("node-vitest", new_repo(root), name)
    pkg = {
        "name": name,
        "version": "0.4.2",
        "description": "Slugs",
        "license": "MIT",
        "type": "module",
        "main": "src/index.js",
        "files": ["src"],
        "scripts": {"lint": "eslint .", "test": "vitest run"},
        "devDependencies": {"@eslint/js": "9.39.5", "eslint": "9.39.5", "vitest": "3.2.7"},
    }
    project.write(
        {
            "package.json": json.dumps(pkg, indent=2) + "\n",
            "eslint.config.js": ESLINT_CONFIG,
            "src/index.js": VITEST_SOURCE,
            "test/index.test.js": VITEST_TEST,
            "README.md": f"# {name}\n",
            ".gitignore": "node_modules/\ncoverage/\n",
        }
    )
    install_node_tools(project, "eslint_vitest")

    def lint(p: CorpusProject) -> Planted:
        p.edit("src/index.js", "  return text\n", "  const unused = 1;\n  return text\n")
        line = p.line_of("src/index.js", "const unused")
        return Planted("lint", "src/index.js", line, Kind.LINT, "no-unused-vars")

    def failing(p: CorpusProject) -> Planted:
        p.edit("test/index.test.js", '.toBe("a-b")', '.toBe("a--b")')
        line = p.line_of("test/index.test.js", '.toBe("a--b")')
        return Planted("test", "test/index.test.js", line, Kind.TEST, "drops punctuation")

    project.planters = {"lint": lint, "failing-test": failing}
    project.commit("a Node library (eslint, vitest)")
    return project


# ------------------------------------------------------------------ Python

PY_CORE = '''"""Temperature conversions."""

from __future__ import annotations


def to_fahrenheit(celsius: float) -> float:
    """Degrees Celsius in Fahrenheit."""
    return celsius * 9 / 5 + 32


def to_celsius(fahrenheit: float) -> float:
    """Degrees Fahrenheit in Celsius."""
    return (fahrenheit - 32) * 5 / 9
'''

PY_INIT = '''"""Temperature conversions."""

__version__ = "{version}"
'''

PY_TEST = """from {module}.core import to_celsius, to_fahrenheit


def test_boiling() -> None:
    assert to_fahrenheit(100) == 212


def test_freezing() -> None:
    assert to_celsius(32) == 0
"""

TOX_INI = """[tox]
envlist = py3, lint

[testenv]
deps = pytest
commands = pytest {posargs}

[testenv:lint]
skip_install = true
deps = ruff
commands = ruff check src tests
"""

CITATION = f"""cff-version: 1.2.0
message: If you use this software, please cite it as below.
title: {{name}}
version: 1.4.0
commit: {COMMIT_SHA}
authors:
  - family-names: Doe
    given-names: Jane
"""


def _python_planters(project: CorpusProject, module: str) -> None:
    core = f"src/{module}/core.py"

    def lint(p: CorpusProject) -> Planted:
        p.edit(
            core,
            "from __future__ import annotations\n",
            "from __future__ import annotations\n\nimport os\n",
        )
        return Planted("lint", core, p.line_of(core, "import os"), Kind.LINT, "F401")

    def failing(p: CorpusProject) -> Planted:
        p.edit("tests/test_core.py", "== 212", "== 213")
        line = p.line_of("tests/test_core.py", "== 213")
        return Planted("test", "tests/test_core.py", line, Kind.TEST, "test_boiling")

    project.planters = {"lint": lint, "failing-test": failing}


def python_tox(root: Path, name: str) -> CorpusProject:
    project = CorpusProject("python-tox", new_repo(root), name)
    module = name.replace("-", "_")
    pyproject = f"""[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
description = "Temperature conversions"
readme = "README.md"
license = "MIT"
requires-python = ">=3.11"
dynamic = ["version"]

[tool.setuptools.dynamic]
version = {{attr = "{module}.__version__"}}

[tool.setuptools.packages.find]
where = ["src"]

[tool.pytest.ini_options]
pythonpath = ["src"]
testpaths = ["tests"]

[tool.shipit.release]
tag-format = "{{version}}"
"""
    project.write(
        {
            "pyproject.toml": pyproject,
            f"src/{module}/__init__.py": PY_INIT.format(version="1.3.0"),
            f"src/{module}/core.py": PY_CORE,
            "tests/test_core.py": PY_TEST.format(module=module),
            "tox.ini": TOX_INI,
            "MANIFEST.in": "include CITATION.cff\ninclude tox.ini\nrecursive-include tests *.py\n",
            "CITATION.cff": CITATION.format(name=name),
            "README.md": f"# {name}\n\nTemperature conversions.\n",
            "LICENSE": "MIT License\n",
            ".gitignore": "__pycache__/\n*.egg-info/\n.tox/\ndist/\nbuild/\n",
        }
    )
    _python_planters(project, module)
    project.commit("a Python library (setuptools, tox)")
    project.tag("1.3.0")
    project.edit(f"src/{module}/__init__.py", '"1.3.0"', '"1.4.0"')
    project.commit("Bump version to 1.4.0")
    return project


def python_hatch_vcs(root: Path, name: str) -> CorpusProject:
    project = CorpusProject("python-hatch-vcs", new_repo(root), name)
    module = name.replace("-", "_")
    pyproject = f"""[build-system]
requires = ["hatchling", "hatch-vcs"]
build-backend = "hatchling.build"

[project]
name = "{name}"
description = "Temperature conversions"
readme = "README.md"
license = "MIT"
requires-python = ">=3.11"
dynamic = ["version"]

[tool.hatch.version]
source = "vcs"

[tool.hatch.build.targets.wheel]
packages = ["src/{module}"]

[tool.ruff]
line-length = 100

[tool.ruff.lint]
select = ["E", "F", "I"]

[tool.mypy]
strict = true
files = ["src"]

[tool.pytest.ini_options]
pythonpath = ["src"]
testpaths = ["tests"]
"""
    project.write(
        {
            "pyproject.toml": pyproject,
            f"src/{module}/__init__.py": '"""Temperature conversions."""\n',
            f"src/{module}/core.py": PY_CORE,
            f"src/{module}/py.typed": "",
            "tests/test_core.py": PY_TEST.format(module=module),
            "README.md": f"# {name}\n\nTemperature conversions.\n",
            "LICENSE": "MIT License\n",
            # hatchling packs what this file does not exclude (docs/project-shapes.md)
            ".gitignore": "__pycache__/\n.mypy_cache/\n.ruff_cache/\ndist/\n.shipit/\n",
        }
    )
    _python_planters(project, module)
    core = f"src/{module}/core.py"

    def type_error(p: CorpusProject) -> Planted:
        p.edit(
            core,
            "def to_fahrenheit(celsius: float) -> float:",
            "def to_fahrenheit(celsius: float) -> int:",
        )
        line = p.line_of(core, "return celsius * 9 / 5 + 32")
        return Planted("typecheck", core, line, Kind.TYPE, "Incompatible return value type")

    project.planters["type-error"] = type_error
    project.commit("a Python library (hatchling, hatch-vcs)")
    project.tag("v2.1.0")
    project.edit("README.md", "Temperature conversions.", "Temperature conversions, both ways.")
    project.commit("docs: both ways")
    return project


SHAPES: dict[str, Callable[[Path, str], CorpusProject]] = {
    "deno-jsr": deno_jsr,
    "deno-dnt": deno_dnt,
    "deno-tags": deno_tags,
    "deno-cli": deno_cli,
    "node-ts": node_ts,
    "node-vitest": node_vitest,
    "python-tox": python_tox,
    "python-hatch-vcs": python_hatch_vcs,
}


def build(shape: str, root: Path, name: str) -> CorpusProject:
    """The project of ``shape`` under ``root`` (bare origin and work clone), named ``name``."""
    return SHAPES[shape](root, name)
