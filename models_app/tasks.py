"""Model-file validation off the web process (run by the service worker)."""

import dramatiq

from models_app.models import MLModel
from models_app.services import run_validation


@dramatiq.actor(queue_name="service", max_retries=0, time_limit=15 * 60 * 1000)
def validate_model(model_id: int) -> None:
    model = MLModel.objects.filter(pk=model_id, validation_status="pending").first()
    if model is not None:
        run_validation(model)
