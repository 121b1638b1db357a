"""The Molecule scenario extensions/molecule/default: build the example fleet with the modules, converge twice
(idempotence), verify through craton.fleet.inventory. Skipped when Molecule is not installed."""

from __future__ import annotations

import os
import subprocess

import pytest

import module_runs as mr

pytest.importorskip("molecule", reason="Molecule is not installed (pip install molecule)")


@pytest.mark.slow
def test_molecule_default_scenario(tmp_path):
    env = mr.ansible_env(tmp_path, "unused")
    del env["CRATON_DATABASE_URL"]  # molecule.yml sets it
    env.pop("CRATON_SECRET_KEY", None)
    env["MOLECULE_EPHEMERAL_DIRECTORY"] = str(tmp_path / "molecule")
    env["ANSIBLE_FORCE_COLOR"] = "0"
    proc = subprocess.run([os.path.join(mr.BIN, "molecule"), "test"], cwd=os.path.join(mr.ROOT, "extensions"),
                          env=env, capture_output=True, text=True, timeout=1200, check=False)
    output = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode == 0, output[-8000:]
    assert "1 scenario (1 successful)" in output, output[-4000:]
    for step in ("converge", "idempotence", "verify"):
        assert "%s: Executed: Successful" % step in output, output[-4000:]
