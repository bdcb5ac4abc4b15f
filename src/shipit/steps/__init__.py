"""Step kinds of a release, one module each, all following ``shipit.engine.step.Step``."""
