"""Data parallelism behind one flag: `zoo train RECIPE --strategy NAME`.

    default       one device: TensorFlow's default strategy; no distribution on JAX
    mirrored      every device of this machine: tf.distribute.MirroredStrategy /
                  keras.distribution.DataParallel
    multi_worker  every device of every machine: MultiWorkerMirroredStrategy, configured by the
                  TF_CONFIG variable of each machine; on JAX, keras.distribution.initialize()
                  (KERAS_DISTRIBUTION_JOB_ADDRESSES, _NUM_PROCESSES, _PROCESS_ID) + DataParallel
    tpu           TPUStrategy on the TPU that TPUClusterResolver finds / DataParallel over TPU cores

With R replicas the recipe's batch size B is per replica: the global batch is B·R and the
learning rate is scaled linearly to η·R (Goyal et al. 2017), so one replica runs the recipe as
written. Each worker reads its own shard of every global batch (tf.distribute's DATA
auto-sharding; Keras's `distribute_dataset` on JAX).
"""

import contextlib
import dataclasses
import json
import os

import keras

STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")


@dataclasses.dataclass(frozen=True)
class Plan:
    """How this process trains: under `scope()`, with `replicas` in sync, as worker `worker` of `workers`."""

    strategy: str
    replicas: int
    workers: int
    worker: int
    scope: object  # a zero-argument callable returning a context manager

    @property
    def chief(self):
        """The worker that writes weights, cards, backups and logs."""
        return self.worker == 0

    def distribute(self, dataset):
        """Shard `dataset` by data (its elements are generated, not read from files); a PyDataset
        (`ArrayBatches`) as it is."""
        if keras.backend.backend() != "tensorflow" or isinstance(dataset, keras.utils.PyDataset):
            return dataset
        import tensorflow as tf

        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        return dataset.with_options(options)


def plan(strategy="default"):
    """The Plan for `strategy` on the current backend; a ValueError names what is missing."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    if keras.backend.backend() == "tensorflow":
        return _tensorflow_plan(strategy)
    if keras.backend.backend() == "jax":
        return _jax_plan(strategy)
    if strategy != "default":
        raise ValueError(f"--strategy {strategy} needs the tensorflow or jax backend, not {keras.backend.backend()}")
    return Plan(strategy, 1, 1, 0, contextlib.nullcontext)


def _tensorflow_plan(strategy):
    import tensorflow as tf

    if strategy == "default":
        s = tf.distribute.get_strategy()
    elif strategy == "mirrored":
        s = tf.distribute.MirroredStrategy()
    elif strategy == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError(
                "--strategy multi_worker reads the cluster from the TF_CONFIG environment variable, which is "
                'not set. Each machine needs e.g. TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", '
                '"host2:12345"]}, "task": {"type": "worker", "index": 0}}\' (index 1 on the second machine).'
            )
        s = tf.distribute.MultiWorkerMirroredStrategy()
    else:
        try:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
        except (ValueError, RuntimeError, tf.errors.OpError) as error:
            raise ValueError(f"--strategy tpu: no TPU could be reached ({error})") from error
        s = tf.distribute.TPUStrategy(resolver)
    workers, worker = 1, 0
    if strategy == "multi_worker":
        task = json.loads(os.environ["TF_CONFIG"]).get("task", {})
        cluster = s.cluster_resolver.cluster_spec()
        workers = sum(cluster.num_tasks(job) for job in cluster.jobs if job in ("chief", "worker"))
        # The chief is task "chief", or worker 0 when the cluster names no chief.
        has_chief = "chief" in cluster.jobs
        worker = 0 if task.get("type") == "chief" else int(task.get("index", 0)) + int(has_chief)
    return Plan(strategy, int(s.num_replicas_in_sync), workers, worker, s.scope)


def _jax_plan(strategy):
    import jax

    if strategy == "default":
        return Plan(strategy, 1, 1, 0, contextlib.nullcontext)
    if strategy == "multi_worker":
        keras.distribution.initialize()
    kind = "tpu" if strategy == "tpu" else None
    try:
        devices = keras.distribution.list_devices(kind)
    except RuntimeError as error:
        raise ValueError(f"--strategy {strategy}: {error}") from error
    if not devices:
        raise ValueError(f"--strategy {strategy}: no {kind or ''} devices found".replace("  ", " "))
    distribution = keras.distribution.DataParallel(devices=devices)
    return Plan(strategy, len(devices), jax.process_count(), jax.process_index(), distribution.scope)
