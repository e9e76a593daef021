"""The engine tests share `engine_reference.py` (PyTorch rebuild, random architectures).

pytest ≥ 9 imports test modules in importlib mode, which does not put a test directory on sys.path,
so this directory is added here to make `from engine_reference import …` work.
"""

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
