"""Instructor commands: ``python -m course_lib <command> ...``.

Each command is a module in :mod:`course_lib.tools` with ``add_arguments(parser)`` and
``main(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "execute": "run notebooks top to bottom in a fresh kernel and store their outputs, deterministically",
    "release": "write the student edition of the chapters (solutions replaced by stubs)",
    "grade": "grade a folder of submitted notebooks into a CSV",
    "autograder": "write a Gradescope autograder bundle (zip) for one chapter",
    "bundle": "write the course bundle (zip): notebooks, a course_lib wheel, requirements.txt, README",
    "bench": "measure chapter execution, book build and test-suite times",
    "translations": "update and check the Chinese edition's translation catalogs (locales/zh_CN)",
    "experiment": "run an experiment whose results a chapter reads from book/_data/ (ch4-sweep)",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    modules = {}
    for name, help_text in COMMANDS.items():
        try:
            module = importlib.import_module(f"course_lib.tools.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"course_lib.tools.{name}":
                raise
            continue
        modules[name] = module
        module.add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    args = parser.parse_args(argv)
    return modules[args.command].main(args)


if __name__ == "__main__":
    sys.exit(main())
