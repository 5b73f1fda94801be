"""`make smoke`'s set-up builds every venv the smoke tests use before the per-stack processes start side
by side; a venv left to its first test is built by two processes at once into the same directory."""
from mlops_tools.smoke.envs import REQUIREMENTS
from mlops_tools.smoke.setup import VENVS


def test_the_set_up_builds_every_pinned_smoke_venv():
    assert sorted(VENVS) == sorted(path.stem for path in REQUIREMENTS.glob("*.txt"))
