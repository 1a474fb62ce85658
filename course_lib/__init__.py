"""course_lib: the small, tested library behind the course on logistic regression and
binary cross-entropy.

Student-facing modules (imported by the chapters):

- :mod:`course_lib.functional`  sigmoid, log-sigmoid, softplus, logit (stable for all finite input)
- :mod:`course_lib.losses`      BCE on probabilities, BCE on logits, the ±1 logistic loss, gradients
- :mod:`course_lib.gradcheck`   central finite differences and relative error
- :mod:`course_lib.init`        the prior bias log(pos/neg) and the base-rate entropy
- :mod:`course_lib.check`       self-checks for the exercises

Instructor tooling lives in :mod:`course_lib.tools` and is run as ``python -m course_lib ...``.
"""

__version__ = "0.1.0"
