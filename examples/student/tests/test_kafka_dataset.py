"""KafkaSamples' --until-idle, on a fake consumer and a fake clock (needs the trainer's venv: torch, confluent-kafka)."""
import pathlib
import sys
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from student import kafka_dataset  # noqa: E402

POLL_S = 0.2


class Clock:
    def __init__(self):
        self.now = 100.0

    def monotonic(self):
        return self.now


class GroupThatAssignsLate:
    """Answers no record; the group assigns its partitions only after `assign_after` polls."""

    def __init__(self, clock, assign_after):
        self.clock, self.assign_after, self.polls, self.on_assign = clock, assign_after, 0, None

    def subscribe(self, topics, on_assign):
        self.on_assign = on_assign

    def assign(self, partitions):
        pass

    def poll(self, timeout):
        self.clock.now += POLL_S
        self.polls += 1
        if self.polls == self.assign_after:
            self.on_assign(self, [])
        return None


class UntilIdle(unittest.TestCase):
    def setUp(self):
        self.clock = Clock()
        self.real_time = kafka_dataset.time
        kafka_dataset.time = self.clock

    def tearDown(self):
        kafka_dataset.time = self.real_time

    def polls_until_done(self, assign_after, idle_ms):
        consumer = GroupThatAssignsLate(self.clock, assign_after)
        samples = kafka_dataset.KafkaSamples("b", "t", "g", idle_ms=idle_ms, log=lambda e: None, consumer_factory=lambda config: consumer)
        self.assertEqual(list(samples), [])
        return consumer.polls

    def test_waiting_for_the_group_is_not_idle(self):
        # A join that takes 12 s (a killed predecessor's session), then 8 s idle on the topic.
        polls = self.polls_until_done(assign_after=60, idle_ms=8000)
        self.assertAlmostEqual((polls - 60) * POLL_S, 8.0, delta=POLL_S * 1.5)

    def test_idle_once_assigned_at_once(self):
        polls = self.polls_until_done(assign_after=1, idle_ms=2000)
        self.assertAlmostEqual(polls * POLL_S, 2.0, delta=POLL_S * 1.5)


if __name__ == "__main__":
    unittest.main()
