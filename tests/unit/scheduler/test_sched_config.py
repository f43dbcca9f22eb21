"""The configuration file: defaults, merging, multiple profiles, and every kind of mistake."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest
from tests.support.scheduling import make_core

from kybernetes.scheduler import ConfigError, load_config, parse_config


def _points(config: dict[str, Any], profile: str = "default-scheduler") -> dict[str, list[str]]:
    return make_core(config=config).frameworks[profile].points


def test_default_profile_places_every_plugin_where_it_belongs() -> None:
    fwk = make_core().frameworks["default-scheduler"]
    assert fwk.points["filter"] == [
        "NodeUnschedulable",
        "NodeName",
        "TaintToleration",
        "NodeAffinity",
        "NodePorts",
        "NodeResourcesFit",
        "VolumeBinding",
        "PodTopologySpread",
        "InterPodAffinity",
    ]
    assert fwk.points["score"] == [
        "TaintToleration",
        "NodeAffinity",
        "NodeResourcesFit",
        "PodTopologySpread",
        "InterPodAffinity",
        "NodeResourcesBalancedAllocation",
        "ImageLocality",
    ]
    assert fwk.weights == {
        "TaintToleration": 3,
        "NodeAffinity": 2,
        "NodeResourcesFit": 1,
        "PodTopologySpread": 2,
        "InterPodAffinity": 2,
        "NodeResourcesBalancedAllocation": 1,
        "ImageLocality": 1,
    }
    assert fwk.points["postFilter"] == ["DefaultPreemption"]
    assert fwk.points["bind"] == ["DefaultBinder"]
    assert fwk.points["preEnqueue"] == ["SchedulingGates"]


def test_enable_disable_and_reweight() -> None:
    points = _points(
        {
            "profiles": [
                {
                    "plugins": {
                        "score": {
                            "enabled": [{"name": "NodeResourcesFit", "weight": 7}],
                            "disabled": [{"name": "ImageLocality"}],
                        },
                        "multiPoint": {"disabled": [{"name": "NodePorts"}]},
                        "postFilter": {"disabled": [{"name": "*"}]},
                    }
                }
            ]
        }
    )
    assert "ImageLocality" not in points["score"]
    assert "NodePorts" not in points["filter"] and "NodePorts" not in points["preFilter"]
    # Re-configured at the point: it leads the list there.
    assert points["score"][0] == "NodeResourcesFit"
    assert points["postFilter"] == []
    fwk = make_core(
        config={
            "profiles": [
                {"plugins": {"score": {"enabled": [{"name": "NodeResourcesFit", "weight": 7}]}}}
            ]
        }
    ).frameworks["default-scheduler"]
    assert fwk.weights["NodeResourcesFit"] == 7


def test_plugin_args_reach_the_plugin() -> None:
    core = make_core(
        config={
            "profiles": [
                {
                    "pluginConfig": [
                        {
                            "name": "NodeResourcesFit",
                            "args": {"scoringStrategy": {"type": "MostAllocated"}},
                        }
                    ]
                }
            ]
        }
    )
    fit = core.frameworks["default-scheduler"].plugins["NodeResourcesFit"]
    assert fit.fast is not None and fit.scorer.__qualname__.startswith("most_allocated")


def test_several_profiles() -> None:
    core = make_core(
        config={
            "profiles": [
                {"schedulerName": "default-scheduler"},
                {"schedulerName": "packer", "plugins": {"score": {"disabled": [{"name": "*"}]}}},
            ]
        }
    )
    assert set(core.frameworks) == {"default-scheduler", "packer"}
    assert core.frameworks["packer"].score_plugins == []


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            {"profiles": [{"plugins": {"filter": {"enabled": [{"name": "NoSuch"}]}}}]},
            'unknown plugin "NoSuch"',
        ),
        (
            {"profiles": [{"plugins": {"score": {"disabled": [{"name": "Nope"}]}}}]},
            'unknown plugin "Nope"',
        ),
        (
            {"profiles": [{"pluginConfig": [{"name": "Ghost", "args": {}}]}]},
            'unknown plugin "Ghost"',
        ),
        ({"profiles": [{}, {}]}, 'duplicate scheduler name "default-scheduler"'),
        ({"percentageOfNodesToScore": 101}, "percentageOfNodesToScore"),
        (
            {
                "profiles": [
                    {"plugins": {"score": {"enabled": [{"name": "ImageLocality", "weight": 500}]}}}
                ]
            },
            "weight",
        ),
        ({"profiles": [{"plugins": {"filterz": {}}}]}, "unknown field"),
        ({"bogus": 1}, "unknown field"),
        ({"apiVersion": "kubescheduler.config.k8s.io/v1beta3"}, "not supported"),
        (
            {"leaderElection": {"leaseDuration": "1s", "renewDeadline": "10s"}},
            "leaseDuration > renewDeadline",
        ),
        ({"leaderElection": {"retryPeriod": "soon"}}, "not a positive duration"),
        ({"profiles": "all"}, "profiles: must be a list"),
    ],
)
def test_mistakes_are_reported(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(doc)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        # Enabled at a point it does not implement: found when the framework is built.
        (
            {"profiles": [{"plugins": {"filter": {"enabled": [{"name": "ImageLocality"}]}}}]},
            "does not implement the filter",
        ),
        (
            {"profiles": [{"plugins": {"bind": {"disabled": [{"name": "*"}]}}}]},
            "at least one bind plugin",
        ),
        (
            {
                "profiles": [
                    {
                        "pluginConfig": [
                            {"name": "InterPodAffinity", "args": {"hardPodAffinityWeight": 101}}
                        ]
                    }
                ]
            },
            "hardPodAffinityWeight",
        ),
        (
            {"profiles": [{"pluginConfig": [{"name": "NodePorts", "args": {"x": 1}}]}]},
            "takes no args",
        ),
    ],
)
def test_profile_mistakes_fail_when_built(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_core(config=parse_config(doc))


def test_load_config_file(tmp_path: pathlib.Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(
        "apiVersion: kubescheduler.config.k8s.io/v1\n"
        "kind: KubeSchedulerConfiguration\n"
        "leaderElection: {leaseDuration: 3s, renewDeadline: 2s, retryPeriod: 500ms}\n"
        "clientConnection: {qps: 200, burst: 400}\n"
        "percentageOfNodesToScore: 30\n"
    )
    config = load_config(good)
    assert config.leader_election.lease_duration == 3 and config.leader_election.retry_period == 0.5
    assert (config.qps, config.burst, config.percentage_of_nodes_to_score) == (200, 400, 30)
    broken = tmp_path / "broken.yaml"
    broken.write_text("profiles: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken)
    with pytest.raises(ConfigError, match="No such file"):
        load_config(tmp_path / "missing.yaml")
