"""Grading submitted notebooks with the judge outside the student's process.

The rooms of the grader:

- :mod:`.wire`: the strict plain-data encoding of everything that crosses the sandbox;
- :mod:`.sandbox`: how one submission's kernel is confined (bubblewrap, limits, environment);
- :mod:`.kernel_runner`: runs a notebook's cells in that kernel (timeouts, output caps, errors);
- :mod:`.remote`: the proxy for a student's function and the tiny kernel-side server;
- :mod:`.judge`: runs the chapter's checks in the grader's process and scores them;
- :mod:`.reports`: grades.csv and the feedback files;
- :mod:`.supervisor`: one worker process per submission, results kept as they come, resume.

``python -m course_lib grade`` (:mod:`course_lib.tools.grade`) is the command line.
"""
