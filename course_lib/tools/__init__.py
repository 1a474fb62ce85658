"""Instructor tooling (not imported by the chapters): execute, release, grade, bench."""
