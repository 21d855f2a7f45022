"""mediapipe's native start-up warnings are kept off the user's terminal."""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = r"""
import sys
from lipread.frontend import FrontEnd, FrontEndConfig
fe = FrontEnd(FrontEndConfig(preset="lipnet"))
for path in sys.argv[1:]:
    fe.process(path)
fe.close()
print("done")
"""


@pytest.mark.grid
def test_no_native_warnings_on_stderr_while_processing(grid_clips):
    res = subprocess.run([sys.executable, "-c", SCRIPT, *map(str, grid_clips[:2])], capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == "done"
    assert "Feedback manager" not in res.stderr and "W0000" not in res.stderr, res.stderr[:500]
