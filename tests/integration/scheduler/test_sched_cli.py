"""``kyb scheduler`` refuses bad configuration at start, with a message and status 1."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://127.0.0.1:1"}}]
users: [{name: u, user: {}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
"""


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("profiles: [\n", "not valid YAML"),
        (
            "profiles: [{plugins: {score: {enabled: [{name: NodeResourcesFitt}]}}}]\n",
            'unknown plugin "NodeResourcesFitt"',
        ),
        (
            "profiles: [{pluginConfig: [{name: NodeResourcesFit, args: {scoringStrategy: "
            "{type: Spread}}}]}]\n",
            "scoringStrategy.type 'Spread' is not one of",
        ),
    ],
)
def test_bad_config_exits_non_zero(tmp_path: pathlib.Path, config: str, message: str) -> None:
    (tmp_path / "kubeconfig").write_text(KUBECONFIG)
    (tmp_path / "config.yaml").write_text(config)
    result = subprocess.run(
        [
            *(sys.executable, "-m", "kybernetes.cli", "scheduler"),
            *(
                "--kubeconfig",
                str(tmp_path / "kubeconfig"),
                "--config",
                str(tmp_path / "config.yaml"),
            ),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert message in result.stderr
    assert result.stderr.startswith("kyb scheduler: ")
