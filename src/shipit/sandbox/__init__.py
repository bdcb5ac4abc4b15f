"""Local registries for rehearsal and tests: verdaccio, pypiserver, JSR/GitHub test servers, git."""
