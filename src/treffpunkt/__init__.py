"""Treffpunkt: regional workshops and networking meetings, end to end."""

import os

# Piccolo finds its engine and apps through this module; set it before any table is queried
# so that the CLI, the app and the tests work from any working directory.
os.environ.setdefault("PICCOLO_CONF", "treffpunkt.db")
