import sys
from pathlib import Path

# The pack's rule package, importable the way the pack's own __main__.py imports it.
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "policies" / "kubernetes"))
