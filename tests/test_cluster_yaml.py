"""Offline validation of ``cluster.yaml`` against the Ray cluster launcher's own schema.

``ray up`` does, in ``ray.autoscaler._private.commands._bootstrap_config``:

1. ``prepare_config(config)``: merges the provider's ``defaults.yaml``
   (``ray/autoscaler/aws/defaults.yaml``, a local file), merges the setup commands, checks the
   docker section and fills per-node-type ``min_workers``/``max_workers``. No network.
2. The provider's ``fillout_available_node_types_resources``: for AWS this asks EC2 for the
   instance types' CPUs/GPUs (network, credentials). **Skipped here.** It only adds detected
   resources under the ones a node type declares. ``cluster.yaml`` declares ``resources`` for every
   node type, so the schema's ``required: [resources, node_config]`` is met without AWS.
3. ``validate_config(config)``: ``jsonschema`` against ``ray/autoscaler/ray-schema.json``, then
   checks of its own (head type exists, sum of ``min_workers`` <= ``max_workers``).
4. ``provider.bootstrap_config``: IAM role, key pair, subnets, security group (network).
   Skipped here.

Ray's schema does not look inside ``node_config`` or ``provider`` (free-form objects), so typos
there (``InstanceTyp``, ``regoin``) are not caught offline. AWS catches them at ``ray up``.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

ROOT = Path(__file__).resolve().parents[1]
CLUSTER_YAML = ROOT / "cluster.yaml"
HEAD = "head.cpu"
WORKER = "worker.gpu"


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    # `ray up` reads the file with yaml.safe_load too (anchors such as &ami are resolved).
    with CLUSTER_YAML.open() as f:
        return yaml.safe_load(f)


def check(config: dict[str, Any]) -> dict[str, Any]:
    """The offline part of `ray up`'s config handling; returns the prepared config."""
    prepared = prepare_config(copy.deepcopy(config))
    validate_config(prepared)
    return prepared


# ---------------------------------------------------------------- the shipped config is valid


def test_cluster_yaml_passes_the_launchers_schema(raw):
    prepared = check(raw)
    # prepare_config filled what `ray up` relies on from Ray's AWS defaults ...
    assert prepared["cluster_synced_files"] == []
    assert prepared["head_start_ray_commands"], "Ray's default `ray start --head` commands"
    # ... and the head never gets workers of its own type.
    assert prepared["available_node_types"][HEAD]["max_workers"] == 0
    # The common setup commands run on both kinds of node.
    for key in ("head_setup_commands", "worker_setup_commands"):
        assert prepared[key][: len(raw["setup_commands"])] == raw["setup_commands"]


def test_prepare_and_validate_stay_offline():
    """The check loads no AWS provider code (the only code here that talks to AWS) and no boto3.

    This runs in a fresh interpreter so that nothing imported by other tests can hide an import.
    """
    script = (
        "import sys, copy, yaml\n"
        "from ray.autoscaler._private.util import prepare_config, validate_config\n"
        f"c = yaml.safe_load(open({str(CLUSTER_YAML)!r}))\n"
        "validate_config(prepare_config(copy.deepcopy(c)))\n"
        "bad = [m for m in sys.modules if m.startswith(('boto3', 'botocore',\n"
        "       'ray.autoscaler._private.aws'))]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "[]"


# ------------------------------------------------------------ broken copies are rejected


def test_missing_node_config_is_rejected(raw):
    broken = copy.deepcopy(raw)
    del broken["available_node_types"][WORKER]["node_config"]
    with pytest.raises(jsonschema.ValidationError) as err:
        check(broken)
    assert err.value.validator == "required"
    assert list(err.value.absolute_path) == ["available_node_types", WORKER]
    assert "'node_config' is a required property" in err.value.message


def test_missing_provider_is_rejected(raw):
    broken = copy.deepcopy(raw)
    del broken["provider"]
    # prepare_config needs the provider to pick its defaults.yaml, so `ray up` stops right there
    # with a KeyError ...
    with pytest.raises(KeyError, match="provider"):
        prepare_config(copy.deepcopy(broken))
    # ... and the schema itself requires the field.
    with pytest.raises(jsonschema.ValidationError) as err:
        validate_config(broken)
    assert err.value.validator == "required"
    assert "'provider' is a required property" in err.value.message


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("max_workers",), "four"),
        (("available_node_types", WORKER, "min_workers"), "zero"),
        # Fractional GPUs are asked for per trial (--gpus-per-trial 0.25); a node type declares
        # whole ones.
        (("available_node_types", WORKER, "resources", "GPU"), 0.5),
        (("idle_timeout_minutes",), "5m"),
    ],
    ids=["max_workers-str", "min_workers-str", "fractional-GPU-resource", "idle_timeout-str"],
)
def test_wrong_type_is_rejected(raw, path, value):
    broken = copy.deepcopy(raw)
    target = broken
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError) as err:
        check(broken)
    assert err.value.validator == "type"
    assert tuple(err.value.absolute_path) == path
    assert err.value.instance == value


@pytest.mark.parametrize(
    ("where", "typo", "value"),
    [
        ((), "setup_comands", []),
        ((), "max_worker", 4),
        (("available_node_types", WORKER), "min_worker", 0),
    ],
    ids=["top-level-setup_comands", "top-level-max_worker", "node-type-min_worker"],
)
def test_typoed_key_is_rejected(raw, where, typo, value):
    broken = copy.deepcopy(raw)
    target = broken
    for key in where:
        target = target[key]
    target[typo] = value
    with pytest.raises(jsonschema.ValidationError) as err:
        check(broken)
    assert err.value.validator == "additionalProperties"
    assert tuple(err.value.absolute_path) == where
    assert f"'{typo}' was unexpected" in err.value.message


def test_unknown_head_node_type_is_rejected(raw):
    broken = copy.deepcopy(raw)
    broken["head_node_type"] = "head.gpu"
    with pytest.raises(ValueError, match="`head_node_type` must be one of"):
        check(broken)


def test_min_workers_above_global_max_is_rejected(raw):
    broken = copy.deepcopy(raw)
    broken["available_node_types"][WORKER]["min_workers"] = broken["max_workers"] + 1
    with pytest.raises(ValueError, match="smaller than the sum of `min_workers`"):
        check(broken)


# ---------------------------------------------------------------- properties of this cluster


def world_facing_non_ssh_rules(config: dict[str, Any]) -> list[dict[str, Any]]:
    """Inbound rules declared in the config that open something other than tcp/22 to addresses.

    The launcher's default security group allows SSH from anywhere and all traffic between the
    cluster's own nodes; `provider.security_group.IpPermissions` are added on top of that.
    """
    rules = config["provider"].get("security_group", {}).get("IpPermissions", [])
    bad = []
    for rule in rules:
        to_addresses = any(rule.get(k) for k in ("IpRanges", "Ipv6Ranges", "PrefixListIds"))
        ssh_only = (rule.get("FromPort"), rule.get("ToPort")) == (22, 22) and str(
            rule.get("IpProtocol", "")
        ).lower() in ("tcp", "6")
        if to_addresses and not ssh_only:
            bad.append(rule)
    return bad


def test_only_ssh_is_opened(raw):
    assert world_facing_non_ssh_rules(raw) == []
    # Security groups chosen by id (or via network interfaces / launch templates) cannot be
    # inspected offline; the shipped config relies on the launcher's SSH-only default group.
    for name, node_type in raw["available_node_types"].items():
        for key in ("SecurityGroupIds", "NetworkInterfaces", "LaunchTemplate"):
            assert key not in node_type["node_config"], f"{name}: {key} cannot be checked offline"


def test_the_ssh_check_catches_an_open_dashboard(raw):
    opened = copy.deepcopy(raw)
    dashboard = {"FromPort": 8265, "ToPort": 8265, "IpProtocol": "tcp",
                 "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    ssh = {"FromPort": 22, "ToPort": 22, "IpProtocol": "tcp", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    opened["provider"]["security_group"] = {"GroupName": "g", "IpPermissions": [ssh, dashboard]}
    check(opened)  # the schema allows it ...
    assert world_facing_non_ssh_rules(opened) == [dashboard]  # ... our check does not


def test_gpu_workers_scale_from_zero(raw):
    nodes = raw["available_node_types"]
    assert raw["head_node_type"] == HEAD
    assert nodes[HEAD]["resources"].get("GPU", 0) == 0, "no GPU trial should land on the head"
    worker = nodes[WORKER]
    assert worker["min_workers"] == 0
    assert 1 <= worker["max_workers"] <= raw["max_workers"]
    # Declared, not auto-detected: the autoscaler needs it to launch the first GPU node.
    assert worker["resources"]["GPU"] >= 1
    assert worker["node_config"]["InstanceType"]
    assert worker["node_config"]["ImageId"] == nodes[HEAD]["node_config"]["ImageId"]


def test_storage_is_s3_and_workers_can_reach_it(raw):
    storage = raw["metadata"]["storage_path"]
    assert storage.startswith("s3://")
    bucket = storage.removeprefix("s3://").split("/")[0]
    # The data sync in setup_commands uses the same bucket.
    synced = [c for c in raw["setup_commands"] if "aws s3 sync" in c]
    assert synced and all(f"s3://{bucket}/" in c for c in synced)
    assert raw["metadata"]["data_dir"] in synced[0]
    # Trials on the workers write to S3 themselves: the workers need an instance profile.
    profile = raw["available_node_types"][WORKER]["node_config"]["IamInstanceProfile"]
    assert re.fullmatch(r"arn:aws:iam::\d{12}:instance-profile/[\w+=,.@-]+", profile["Arn"])


def test_the_working_copy_is_mounted_and_installed(raw):
    # Local paths are relative to the repository root, where `ray up cluster.yaml` is run.
    for remote, local in raw["file_mounts"].items():
        assert (ROOT / local).exists(), f"file_mounts[{remote!r}] -> {local} is missing"
    package_dir = str(Path(next(iter(raw["file_mounts"]))).parent)
    assert any(f"pip install -q -e \"{package_dir}" in c for c in raw["setup_commands"])
    assert any(re.search(r"pip install .*\btorch\b", c) for c in raw["setup_commands"])


def test_user_specific_values_are_marked_change():
    text = CLUSTER_YAML.read_text()
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    must_mark = [r"^\s*region:", r"^\s*ImageId: &", r"YOUR-BUCKET", r"^\s*Arn:",
                 r"^\s*InstanceType:", r"ray\[default"]
    for pattern in must_mark:
        hits = [ln for ln in lines if re.search(pattern, ln)]
        assert hits, pattern
        for ln in hits:
            assert "# CHANGE" in ln, f"not marked CHANGE: {ln.strip()}"


def test_docs_match_the_config(raw):
    docs = (ROOT / "docs" / "cluster.md").read_text()
    for needle in ("ray up cluster.yaml", "ray down cluster.yaml", raw["metadata"]["storage_path"],
                   raw["metadata"]["data_dir"], "--gpus-per-trial 0.25", "--address auto"):
        assert needle in docs, needle
    # The Ray version the cluster installs is the one the docs tell the laptop to install.
    pinned = re.search(r"ray\[default[^\]]*\]==([\w.]+)", json.dumps(raw["setup_commands"]))
    assert pinned and f"ray[default]=={pinned.group(1)}" in docs
