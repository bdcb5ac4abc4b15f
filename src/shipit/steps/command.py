"""A user's own command as a release step (``[[commands]]`` in shipit.toml).

Existing release scripts keep working inside a shipit release: ``run`` is a shell command,
``probe`` an optional command whose exit 0 means "already done" (without it, only the journal
knows), ``undo`` an optional command for rollback. The commands see ``SHIPIT_VERSION``,
``SHIPIT_TAG``, ``SHIPIT_COMMIT`` and ``SHIPIT_RELEASE_DIR``, and ``{version}``/``{tag}`` in
their text are replaced (``steps._release_env``); the output goes to the release log.
"""

from __future__ import annotations

from shipit import proc
from shipit.config import CommandStepConfig
from shipit.engine.step import Context, Evidence, Probe, Progress, Step, Undo, checkpoint
from shipit.errors import PermanentError
from shipit.steps._release_env import expand, release_env


class CommandStep:
    def __init__(self, spec: CommandStepConfig) -> None:
        self.spec = spec
        self.id = f"command:{spec.id}"
        self.needs: tuple[str, ...] = ()
        self.reversible = spec.undo is not None

    def describe(self, ctx: Context) -> str:
        lines = [f"run your command `{self.spec.id}` (after {self.spec.after})", self.spec.run]
        if self.spec.probe:
            lines.append(f"probe: {self.spec.probe}")
        return "\n".join(lines)

    def _run(self, ctx: Context, command: str, progress: Progress | None = None) -> proc.Result:
        return proc.run(
            proc.shell_argv(expand(command, ctx)),
            cwd=ctx.root,
            env=release_env(ctx),
            timeout=self.spec.timeout,
            on_line=progress.log if progress is not None else None,
        )

    def probe(self, ctx: Context) -> Probe:
        if self.spec.probe:
            result = self._run(ctx, self.spec.probe)
            if result.ok:
                return Probe.already_done({"probe": "exit 0"}, why="its probe command says done")
            return Probe.todo(f"its probe command exited {result.returncode}")
        if ctx.evidence_of(self.id).get("exit") == 0:
            return Probe.already_done(ctx.evidence_of(self.id), why="done per the journal")
        return Probe.todo("no probe command: runs unless the journal says done")

    def run(self, ctx: Context, progress: Progress) -> Evidence:
        progress.status(f"$ {self.spec.run}")
        result = self._run(ctx, self.spec.run, progress)
        ctx.repo.forget()  # the command may have changed the repository or its remote
        checkpoint(self.id)
        if not result.ok:
            raise PermanentError(
                f"your command `{self.spec.id}` failed",
                why=result.failure(15, called="it"),
                hint=f"fix it (try `{self.spec.run}` by hand), then `shipit resume`; or undo "
                "what was done with `shipit rollback`",
            )
        return {"command": self.spec.run, "exit": 0, "duration_s": round(result.duration_s, 3)}

    def undo(self, ctx: Context) -> Undo:
        if not self.spec.undo:
            return Undo.irreversible(
                f"your command `{self.spec.id}` has no undo command",
                hint=f'undo its effect by hand, or add `undo = "..."` to the [[commands]] '
                f"entry `{self.spec.id}`",
            )
        result = self._run(ctx, self.spec.undo)
        ctx.repo.forget()
        if not result.ok:
            raise PermanentError(
                f"the undo command of `{self.spec.id}` failed",
                why=result.failure(10, called=f"`{self.spec.undo}`"),
                hint="undo its effect by hand",
            )
        return Undo.undone(f"ran `{self.spec.undo}`")


def command_steps(ctx: Context, after: str | None = None) -> list[Step]:
    """The configured command steps (those running after phase ``after``, if given)."""
    return [
        CommandStep(spec) for spec in ctx.config.commands if after is None or spec.after == after
    ]
