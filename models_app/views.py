from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from models_app.models import MLModel


@login_required
def model_list(request):
    return render(request, "models_app/model_list.html", {"models": MLModel.objects.order_by("name")})
