"""`make bench`: run every benchmark script in turn; each prints its own figures."""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SCRIPTS = ["engine_bench.py", "release_bench.py", "import_bench.py", "web_bench.py"]

failed = []
for script in SCRIPTS:
    path = BENCH / script
    if not path.exists():
        print(f"\n### {script}: missing")
        failed.append(script)
        continue
    print(f"\n### {script}", flush=True)
    if subprocess.run([sys.executable, str(path)]).returncode != 0:
        failed.append(script)
if failed:
    sys.exit(f"\nbenchmarks that failed: {', '.join(failed)}")
