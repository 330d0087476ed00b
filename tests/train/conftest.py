import sys
from pathlib import Path

# toy.py (stand-in renderer, masker and model) must be importable by name, also in spawned processes.
sys.path.insert(0, str(Path(__file__).parent))
