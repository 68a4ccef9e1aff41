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


def test_an_undelayed_queue_has_no_delay_queue_and_refuses_a_delayed_message():
    configured = dramatiq.get_broker()
    ours = RedisBroker(client=configured.client, namespace=f"{configured.namespace}-undelayed-test", middleware=[],
                       undelayed_queues=[QUEUE])  # fmt: skip
    try:
        ours.declare_queue(QUEUE)
        ours.declare_queue("with-delays")
        assert ours.get_declared_queues() == {QUEUE, "with-delays"}
        assert ours.get_declared_delay_queues() == {"with-delays.DQ"}  # no consumer thread will poll QUEUE.DQ
        message = dramatiq.Message(queue_name=QUEUE, actor_name="noop", args=(), kwargs={}, options={})
        with pytest.raises(ValueError, match="takes no delayed messages"):
            ours.enqueue(message, delay=1000)
        ours.enqueue(message)  # undelayed: as before
        assert ours.client.hlen(f"{ours.namespace}:{QUEUE}.msgs") == 1
    finally:
        ours.flush_all()


def test_the_gpu_queue_is_undelayed_and_the_service_queue_keeps_its_delays():
    """What settings give every worker: the GPU worker has no delay-queue consumer; the service
    queue's callbacks are retried with delayed messages (tasks_app.callbacks)."""
    from tasks_app.callbacks import deliver_callback
    from tasks_app.tasks import QUEUE as GPU_QUEUE
    from tasks_app.tasks import run_next_task

    broker = dramatiq.get_broker()
    assert run_next_task.queue_name == GPU_QUEUE and GPU_QUEUE in broker.undelayed_queues
    assert f"{GPU_QUEUE}.DQ" not in broker.get_declared_delay_queues()
    assert f"{deliver_callback.queue_name}.DQ" in broker.get_declared_delay_queues()
