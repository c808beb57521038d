"""The recall button of the curator stock page (/stock/lots/<id>/recall/): the recall
cascade reaches requests, so it lives here, above stock."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.views.decorators.http import require_POST

from core.permissions import curator_required
from distribution.actions.recall import recall_lot
from distribution.models import WorkflowError
from stock.models import Lot, LotStatus


@curator_required(message="Only curators recall lots.")
@require_POST
def recall(request, pk):
    lot = get_object_or_404(Lot.objects.select_related("line"), pk=pk)
    status = request.POST.get("status") or LotStatus.RECALLED
    try:
        report = recall_lot(lot, by=request.user, reason=request.POST.get("reason", ""), status=status)
    except WorkflowError as error:
        messages.error(request, error.message)
        return redirect("stock-lot", pk)
    messages.success(
        request,
        f"Lot {lot.code} {status}: {report.quarantined_vials} vial(s) quarantined, "
        f"{len(report.held_requests)} request(s) on hold, {len(report.recipients)} recipient(s) told.",
    )
    return redirect("stock-lot", pk)


urlpatterns = [path("lots/<int:pk>/recall/", recall, name="stock-recall")]
