"""Settings: the config checked once, before any request, into a frozen ``Settings``.

``parsing`` reads the tap's own settings; ``environment`` the ``TAP_SEQUIN_*`` variables;
``config_checks``, ``map_checks`` and ``catalog_checks`` the rest of what a user can give
(the SDK's settings, stream maps, a catalog), each problem one line naming the setting.
"""
