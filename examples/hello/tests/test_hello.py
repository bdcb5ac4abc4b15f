from shipit_demo_hello import greet


def test_greet_uses_the_name() -> None:
    assert greet("Ada") == "hello Ada"


def test_greet_falls_back_to_world() -> None:
    assert greet("  ") == "hello world"
