"""Project detection and versions: which ecosystems, which manifests, which targets."""

from shipit.project.model import Project, Target, TargetName, VersionSource

__all__ = ["Project", "Target", "TargetName", "VersionSource"]
