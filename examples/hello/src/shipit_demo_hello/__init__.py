"""A tiny greeting library: the example project shipit releases in its demo."""


def greet(name: str) -> str:
    """Greet someone by name; an empty name greets the world."""
    who = name.strip() or "world"
    return f"hello {who}"
