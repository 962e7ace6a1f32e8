"""Syncthing client, event stream and backend tests."""
