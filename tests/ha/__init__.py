"""Tests of the Home Assistant integration (need Python >= 3.13 and Home Assistant)."""
