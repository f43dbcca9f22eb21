from kybernetes.api import REGISTRY, load_schema


def test_every_registered_kind_has_a_schema() -> None:
    schema = load_schema()
    missing = [i.kind for i in REGISTRY if schema.for_kind(i.group, i.version, i.kind) is None]
    assert missing == []


def test_resolve_short_names_and_group_qualified() -> None:
    assert [i.plural for i in REGISTRY.resolve("po")] == ["pods"]
    assert [i.group for i in REGISTRY.resolve("deploy")] == ["apps"]
    assert {i.group for i in REGISTRY.resolve("events")} == {"", "events.k8s.io"}
    assert [i.group for i in REGISTRY.resolve("events.events.k8s.io")] == ["events.k8s.io"]
    assert REGISTRY.resolve("nonsense") == []


def test_schema_list_semantics() -> None:
    spec = load_schema().for_kind("", "v1", "Pod")
    assert spec is not None
    containers = spec.field("spec").field("containers")  # type: ignore[union-attr]
    assert containers is not None
    assert containers.patch_merge_key == "name"
    assert containers.list_type == "map"
    assert containers.items is not None and containers.items.field("image") is not None
