"""Dramatiq's Redis broker, with a consumer that fetches the next message as soon as the last is settled.

A worker runs with prefetch 1 (DESIGN.md rule 6): while it processes a message its consumer
thread may fetch nothing, and stock Dramatiq spends that time in ``time.sleep`` with an
exponential backoff up to the worker timeout (``WORKER_IDLE_POLL_MS``). When the task ends, the
consumer is somewhere in such a sleep: a near-no-op task waited a median ~7 ms (up to the whole
timeout) after its ack before the next message was even fetched (issue 12, bench/throughput.py).

Here the consumer waits on an event that the ack (or nack) sets, so the fetch follows the ack at
once. Only that "full" wait changes: an idle consumer (nothing outstanding, empty queue) still
polls Redis with Dramatiq's backoff, and the wait still returns every worker timeout so the
consumer thread checks for shutdown, pauses and delayed messages as before.
"""

import threading

from dramatiq.brokers import redis as dramatiq_redis


class _Consumer(dramatiq_redis._RedisConsumer):
    def __init__(self, broker, queue_name, prefetch, timeout):
        super().__init__(broker, queue_name, prefetch, timeout)
        self._settled = threading.Event()

    def ack(self, message):
        try:
            super().ack(message)
        finally:
            self._settled.set()

    def nack(self, message):
        try:
            super().nack(message)
        finally:
            self._settled.set()

    def __next__(self):
        if not self.message_cache and self.outstanding_message_count >= self.prefetch:
            # Nothing may be fetched until a message is settled: wait for that, not a backoff sleep.
            self._settled.wait(self.timeout / 1000)
            self._settled.clear()  # a settle racing this clear is seen by the count on the next call
            return None
        return super().__next__()


class RedisBroker(dramatiq_redis.RedisBroker):
    """``dramatiq.brokers.redis.RedisBroker`` whose consumers fetch right after an ack, and whose
    ``undelayed_queues`` have no delay queue.

    Dramatiq gives every queue a delay queue, and a worker a consumer thread for each, polling
    Redis every idle poll (50 times a second at 20 ms) whether or not anything is ever delayed.
    In a GPU worker that thread only takes the GIL from the task: without it a near-no-op task
    cost the worker 1.4-2.0 ms less CPU (issue 12, bench/throughput.py, docs/performance.md).
    Nothing sends the GPU queue delayed messages (its actor has no retries; lost wake-ups are
    re-sent by housekeeping), and a delayed send to such a queue is refused here rather than
    left where no consumer would ever look."""

    def __init__(self, *args, undelayed_queues=(), **kwargs):
        self.undelayed_queues = frozenset(undelayed_queues)
        super().__init__(*args, **kwargs)

    @property
    def consumer_class(self):
        return _Consumer

    def declare_queue(self, queue_name: str) -> None:
        if queue_name not in self.undelayed_queues:
            super().declare_queue(queue_name)
        elif queue_name not in self.queues:  # as Dramatiq's, without the delay queue
            self.emit_before("declare_queue", queue_name)
            self.queues.add(queue_name)
            self.emit_after("declare_queue", queue_name)

    def enqueue(self, message, *, delay=None):
        if delay is not None and message.queue_name in self.undelayed_queues:
            raise ValueError(f"queue {message.queue_name!r} takes no delayed messages (it has no delay queue)")
        return super().enqueue(message, delay=delay)
