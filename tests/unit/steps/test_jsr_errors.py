"""deno publish's failures read by their exact words (deno 2.9 output, NO_COLOR), never by a
loose substring: a dependency deno cannot load is not "create the JSR package"."""

from __future__ import annotations

from shipit.steps.jsr import MISSING_PACKAGE, _dependency_failure

NPM_MISSING = """Download http://127.0.0.1:4873/left-pad-nowhere
error: npm package 'left-pad-nowhere' does not exist.
    at file:///work/lib/mod.ts:1:15
"""
NPM_UNREACHABLE = """Download http://127.0.0.1:9/left-pad
error: Failed loading http://127.0.0.1:9/left-pad for package "left-pad"
    0: error sending request for url (http://127.0.0.1:9/left-pad): client error (Connect): \
tcp connect error: Connection refused (os error 111)
    at file:///work/lib/mod.ts:1:15
"""
JSR_MISSING = "error: JSR package not found: @std/nowhere\n    at file:///work/lib/mod.ts:1:8\n"
PACKAGE_MISSING = f"""Checking for slow types in the public API...
{MISSING_PACKAGE}
 - https://jsr.io/new?scope=acme&package=lib&from=cli
error: Failed to create package
"""


def test_a_missing_npm_dependency_is_named_and_permanent() -> None:
    assert _dependency_failure(NPM_MISSING) == ("npm", "left-pad-nowhere", False)


def test_an_unreachable_npm_registry_is_a_network_failure() -> None:
    assert _dependency_failure(NPM_UNREACHABLE) == ("npm", "left-pad", True)


def test_a_missing_jsr_dependency_is_named() -> None:
    assert _dependency_failure(JSR_MISSING) == ("jsr", "@std/nowhere", False)


def test_the_package_itself_missing_is_no_dependency_failure() -> None:
    assert _dependency_failure(PACKAGE_MISSING) is None
    assert MISSING_PACKAGE not in NPM_MISSING  # "does not exist" alone decides nothing
