"""Endpoints and tokens from the environment, merged with the configuration's endpoints.

Separate from ``shipit.config`` so reading the environment does not import pydantic: the
configuration is only read here (its endpoint fields), never built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipit.redact import register, register_url, split_userinfo

if TYPE_CHECKING:
    from shipit.config import Config


@dataclass(frozen=True)
class Settings:
    """Endpoints and tokens from the environment, merged with the config's endpoints.

    Tokens live only here (in memory) and are registered with the redactor at start-up.
    ``repr`` hides them.
    """

    npm_registry: str
    jsr_url: str
    pypi_upload_url: str
    github_api_url: str
    github_repository: str | None
    npm_token: str | None
    jsr_token: str | None
    pypi_token: str | None
    github_token: str | None

    def __repr__(self) -> str:  # never show tokens
        return (
            f"Settings(npm_registry={self.npm_registry!r}, jsr_url={self.jsr_url!r}, "
            f"pypi_upload_url={self.pypi_upload_url!r}, github_api_url={self.github_api_url!r}, "
            f"github_repository={self.github_repository!r}, tokens=***)"
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str], config: Config) -> Settings:
        def first(*names: str) -> str | None:
            for name in names:
                value = env.get(name)
                if value:
                    return value
            return None

        def slash(url: str) -> str:
            return url if url.endswith("/") else url + "/"

        pypi_upload = config.pypi.repository_url or first("TWINE_REPOSITORY_URL") or ""
        settings = cls(
            npm_registry=slash(
                config.npm.registry
                or first("NPM_CONFIG_REGISTRY", "npm_config_registry")
                or "https://registry.npmjs.org/"
            ),
            jsr_url=slash(config.jsr.url or first("JSR_URL") or "https://jsr.io/"),
            pypi_upload_url=slash(
                config.pypi.repository_url
                or first("TWINE_REPOSITORY_URL")
                or "https://upload.pypi.org/legacy/"
            ),
            github_api_url=(
                config.github.api_url or first("GITHUB_API_URL") or "https://api.github.com"
            ).rstrip("/"),
            github_repository=config.github.repository or first("GITHUB_REPOSITORY"),
            npm_token=first("NPM_TOKEN", "NODE_AUTH_TOKEN"),
            jsr_token=first("JSR_TOKEN"),
            pypi_token=first("PYPI_TOKEN", "TWINE_PASSWORD") or split_userinfo(pypi_upload)[2],
            github_token=first("GITHUB_TOKEN", "GH_TOKEN"),
        )
        # a password inside a configured URL is a secret like the tokens
        register_url(
            settings.npm_registry,
            settings.jsr_url,
            settings.pypi_upload_url,
            settings.github_api_url,
            config.pypi.index_url,
        )
        register(settings.npm_token, settings.jsr_token, settings.pypi_token, settings.github_token)
        return settings
