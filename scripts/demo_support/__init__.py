"""The one-command demo (``./scripts/demo``): real daemons and a real Home Assistant on 127.0.0.1.

Run as ``.venv/bin/python -m scripts.demo_support`` from the repository root (``scripts/demo`` does that
after preparing the environment). Everything binds to 127.0.0.1; nothing leaves the machine.
"""
