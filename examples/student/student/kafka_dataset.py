"""The augmented topic as a ``torch.utils.data.IterableDataset``.

A confluent-kafka consumer reading ``read_committed`` (records of aborted or open
transactions are never seen), with auto-commit off: offsets are committed by the trainer
after the optimizer step that used them (:meth:`KafkaSamples.commit`). On assignment each
partition starts at the trainer's checkpoint when it has one (the checkpoint is the truth;
the group's commit may trail it), else at the group's commit, else at the beginning.
Records below the next offset of their partition (a redelivery after a rebalance) are
dropped, so no sample is yielded twice.
"""
import time

import torch
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition

from .records import AugmentedDecoder


class KafkaSamples(torch.utils.data.IterableDataset):
    def __init__(self, brokers, topic, group, start_offsets=None, idle_ms=None, log=print, consumer_factory=Consumer):
        super().__init__()
        self.topic = topic
        self.idle_ms = idle_ms
        self.log = log
        # Next offset to yield, by partition: the checkpoint's, then advanced as records are yielded.
        self.next = dict(start_offsets or {})
        self.decoder = AugmentedDecoder()
        self.consumer = consumer_factory(
            {
                "bootstrap.servers": brokers,
                "group.id": group,
                "isolation.level": "read_committed",
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
                "session.timeout.ms": 10000,
            }
        )
        self.consumer.subscribe([topic], on_assign=self._on_assign)
        self.skipped = 0
        # When the group last gave this consumer its partitions; None while it waits to join.
        self.assigned_at = None

    def _on_assign(self, consumer, partitions):
        for tp in partitions:
            if tp.partition in self.next:
                tp.offset = self.next[tp.partition]
        consumer.assign(partitions)
        self.assigned_at = time.monotonic()
        self.log({"event": "assigned", "partitions": {tp.partition: tp.offset if tp.offset >= 0 else "committed" for tp in partitions}})

    def __iter__(self):
        """Yields one dict per record: the decoded sample plus ``partition`` and ``offset``."""
        idle_since = time.monotonic()
        while True:
            message = self.consumer.poll(0.2)
            if message is None:
                # Waiting for the group is not idling on the topic: a restarted trainer's join
                # waits out its killed predecessor's session (10 s), longer than --until-idle may be.
                if self.assigned_at is None:
                    continue
                if self.idle_ms is not None and (time.monotonic() - max(idle_since, self.assigned_at)) * 1000 >= self.idle_ms:
                    return
                continue
            if message.error():
                if message.error().fatal():
                    raise KafkaException(message.error())
                continue
            idle_since = time.monotonic()
            partition, offset = message.partition(), message.offset()
            if offset < self.next.get(partition, 0):
                continue
            self.next[partition] = offset + 1
            try:
                sample = self.decoder.decode(message.value())
            except (ValueError, EOFError) as err:
                # Counted and logged, never silently lost; its offset still completes.
                self.skipped += 1
                self.log({"event": "skipped", "partition": partition, "offset": offset, "error": str(err)})
                sample = None
            yield {"partition": partition, "offset": offset, "sample": sample}
            # Idle means waiting on the topic: the time the trainer spent on this item does not count.
            idle_since = time.monotonic()

    def commit(self, offsets):
        """Commits ``{partition: next offset}`` (synchronously); a failure is logged, the checkpoint still holds them."""
        try:
            self.consumer.commit(offsets=[TopicPartition(self.topic, p, o) for p, o in sorted(offsets.items())], asynchronous=False)
        except KafkaException as err:
            self.log({"event": "commit-failed", "error": str(err)})

    def close(self):
        self.consumer.close()


__all__ = ["KafkaSamples", "OFFSET_BEGINNING"]
