from pathlib import Path

from devstack.kafka_node import new_cluster_id, storage_format_argv


def test_cluster_ids_never_start_with_a_dash_over_many_draws():
    # One random id in 64 starts with "-": 20,000 draws would meet ~300 of them.
    ids = [new_cluster_id() for _ in range(20_000)]
    assert not [cluster_id for cluster_id in ids if cluster_id.startswith("-")]
    assert all(len(cluster_id) == 22 for cluster_id in ids)
    assert len(set(ids)) == len(ids)


def test_the_cluster_id_is_one_argument_even_when_it_looks_like_an_option():
    argv = storage_format_argv("java", "cp", Path("server.properties"), "-dashy-id")
    assert "--cluster-id=-dashy-id" in argv
    assert "-dashy-id" not in argv
