"""One read/probe/undo adapter per outside system: ``npm``, ``jsr``, ``pypi``, ``github``.

Each knows its URLs (from ``config.Settings`` / ``Config``), its auth, and reads "what do you
hold for this name and version" into one typed, frozen answer. Steps, checks and ``status``
all ask here; nothing else builds a registry URL. Failures are the classified errors of
``shipit.errors`` (see ``_http``). Publishing itself goes through the official clients in
``shipit.steps``.
"""
