"""Celery tasks of results: thin, each takes ids and calls the function it runs
(results.pipeline, results.actions), which are tested without a worker. Deposit
(results.deposit) publishes validate_dataset after commit; beat runs the other two."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from results import actions, pipeline

# Acknowledged when finished: a worker killed mid-run leaves the message to be
# redelivered, and the claim in run_validation makes a second delivery harmless.
TASK_OPTIONS = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 5,
    "max_retries": 5,
    "soft_time_limit": 25 * 60,
    "time_limit": 26 * 60,
}
REQUEUE_BATCH = 200


@shared_task(name="results.tasks.validate_dataset", **TASK_OPTIONS)
def validate_dataset(self, dataset_id):
    pipeline.run_validation(dataset_id)


@shared_task(name="results.tasks.tell_depositors_of_withdrawals")
def tell_depositors_of_withdrawals():
    actions.tell_depositors_of_withdrawals()


@shared_task(name="results.tasks.requeue_stale_datasets")
def requeue_stale_datasets():
    """Publish again what was never picked up or whose run went quiet; give up after MAX_ATTEMPTS."""
    for dataset in pipeline.stale_datasets().only("pk", "attempts", "status")[:REQUEUE_BATCH]:
        if dataset.attempts >= pipeline.MAX_ATTEMPTS:
            pipeline.give_up(dataset)
        else:
            validate_dataset.delay(dataset.pk)
