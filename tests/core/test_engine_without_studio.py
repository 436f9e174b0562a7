"""The engine installs and serves without the studio: in a Python where streamlit, plotly and
Authlib cannot be imported (the `studio` extra left out), every engine module imports and the
API answers /recommend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["serving_runs"]
ROOT = Path(__file__).resolve().parents[2]
STUDIO_ONLY = ("streamlit", "plotly", "authlib")

PROBE = """
import importlib, json, pkgutil, sys
for name in {blocked!r}:
    sys.modules[name] = None  # `import name` now raises ImportError, as if not installed
import engine
modules = sorted(m.name for m in pkgutil.walk_packages(engine.__path__, "engine."))
for module in modules:
    importlib.import_module(module)
from fastapi.testclient import TestClient
from engine.api.app import create_app
with TestClient(create_app({run!r})) as client:
    client.get("/healthz").raise_for_status()
    response = client.post("/recommend", json={{"k": 3, "user_id": None, "policy": "none"}})
loaded = sorted(n for n in {blocked!r} if sys.modules.get(n) is not None)
print(json.dumps({{"modules": len(modules), "status": response.status_code,
                  "items": len(response.json()["items"]), "studio_loaded": loaded}}))
"""


@pytest.mark.slow
def test_engine_imports_and_serves_without_the_studio(tiny_shop, tmp_path) -> None:  # noqa: ANN001
    script = PROBE.format(blocked=STUDIO_ONLY, run=str(tiny_shop.ease_run))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PRISM_HOME": str(tmp_path),
           "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["modules"] > 100 and report["studio_loaded"] == []
    assert report["status"] == 200 and report["items"] == 3


def test_the_studio_is_an_extra() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = " ".join(project["dependencies"]).lower()
    assert not any(name in core for name in STUDIO_ONLY)
    studio = " ".join(project["optional-dependencies"]["studio"]).lower()
    assert all(name in studio for name in STUDIO_ONLY)
