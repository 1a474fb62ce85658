"""Settings shared by every test, the notebook tests (nbval) included.

The environment variables are set here, before nbval starts any kernel, so that the kernels
inherit them: self-checks raise on failure, and thread counts are fixed.
"""

import os

from course_lib.tools.execute import EXECUTION_ENV

os.environ.update(EXECUTION_ENV)
