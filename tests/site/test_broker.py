"""The worker's Redis consumer (``mofsim_site.broker``): the next fetch follows an ack at once.

Real Redis (the configured broker's connection), a queue of this test's own.
"""

import threading
import time

import dramatiq
import pytest

from mofsim_site.broker import RedisBroker

QUEUE = "broker-test"


@pytest.fixture
def broker():
    configured = dramatiq.get_broker()
    assert isinstance(configured, RedisBroker)  # what settings give every worker
    ours = RedisBroker(client=configured.client, namespace=f"{configured.namespace}-broker-test", middleware=[])
    ours.flush_all()
    yield ours
    ours.flush_all()


def send(broker, n: int) -> None:
    broker.declare_queue(QUEUE)
    for i in range(n):
        broker.enqueue(dramatiq.Message(queue_name=QUEUE, actor_name="noop", args=(i,), kwargs={}, options={}))


def test_a_full_consumer_waits_for_the_ack_not_for_its_backoff(broker):
    send(broker, 2)
    consumer = broker.consume(QUEUE, prefetch=1, timeout=60_000)  # a minute: longer than this test may take
    first = next(consumer)
    assert first is not None and list(first.args) == [0]
    threading.Timer(0.2, consumer.ack, args=(first,)).start()
    started = time.monotonic()
    assert next(consumer) is None  # woken by the ack: it returns to the consumer thread's loop
    assert time.monotonic() - started < 30  # not the minute's timeout
    second = next(consumer)  # and fetches at once
    assert second is not None and list(second.args) == [1]
    consumer.ack(second)
    consumer.close()


def test_a_full_consumer_still_returns_every_timeout(broker):
    """The consumer thread checks for shutdown, pauses and delayed messages between calls."""
    send(broker, 1)
    consumer = broker.consume(QUEUE, prefetch=1, timeout=50)
    first = next(consumer)
    assert first is not None
    assert next(consumer) is None  # no ack: back after the timeout, nothing fetched
    assert consumer.outstanding_message_count == 1
    consumer.ack(first)
    consumer.close()


def test_an_idle_consumer_still_polls(broker):
    consumer = broker.consume(QUEUE, prefetch=1, timeout=50)
    broker.declare_queue(QUEUE)
    assert next(consumer) is None  # nothing queued, nothing outstanding: Dramatiq's own backoff
    send(broker, 1)
    message = next(consumer)
    assert message is not None and list(message.args) == [0]
    consumer.ack(message)
    consumer.close()
