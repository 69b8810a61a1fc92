"""Tests on the whole demo workspace, loaded once per test process (see conftest.py)."""

# Every module here is marked ``pytest.mark.xdist_group(GROUP)``: one worker runs them all and loads the demo once.
GROUP = "demo_workspace"
