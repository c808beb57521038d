"""The curator stock page (/stock/): the location tree, a box's grid, receiving a vial
file, moving and destroying vials, releasing lots, labels; a scanned code (typed,
or from a USB scanner acting as a keyboard) finds its vial. Curators only. Views
parse and call stock.actions; recall posts to distribution (distribution/stock_views.py)."""

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from core.permissions import curator_required
from lines.models import CellLine
from stock import actions
from stock.deposits import lines_with_declared_lots, record_declared_lots, waiting
from stock.documents import vial_labels
from stock.models import STORED_STATUSES, Location, LocationKind, Lot, StockEvent, Vial, row_letter
from stock.receiving import receive_vials

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


# Every stock page: curators only (anonymous callers go to the login page).
stock_pages = curator_required(message="The stock pages are for curators.")


def _tree():
    """Every location with its children and, for boxes, the vials stored in it."""
    stored = Count("vials", filter=Q(vials__status__in=STORED_STATUSES))
    nodes = list(Location.objects.annotate(stored=stored).order_by("code"))
    children = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    for node in nodes:
        node.kids = children.get(node.pk, [])
    return children.get(None, [])


@stock_pages
def stock_home(request):
    scan = request.GET.get("scan", "").strip()
    if scan:
        vial = Vial.objects.filter(identifier=scan).select_related("location").first()
        if vial is None:
            messages.error(request, f"No vial {scan} in stock records.")
        elif vial.location_id:
            return redirect(f"{reverse('stock-box', args=[vial.location.code])}?highlight={vial.identifier}")
        else:
            return redirect("stock-lot", vial.lot_id)
    lots = Lot.objects.select_related("line").annotate(
        stored=Count("vials", filter=Q(vials__status__in=STORED_STATUSES))
    )
    context = {
        "sites": _tree(),
        "lots": lots.order_by("line__name", "code")[:200],
        "events": StockEvent.objects.select_related("actor", "lot__line")[:20],
        "boxes": Location.objects.filter(kind=LocationKind.BOX).order_by("code"),
        "declared": [
            (line, [d.get("code") for d in pending])
            for line in lines_with_declared_lots()[:100]
            if (pending := waiting(line))
        ],
    }
    return render(request, "stock/home.html", context)


@stock_pages
@require_POST
def add_location(request):
    post = request.POST
    parent = Location.objects.filter(code=post.get("parent", "")).first() if post.get("parent") else None
    try:
        grid = {"rows": int(post["rows"]), "columns": int(post["columns"])} if post.get("rows") else {}
        location = actions.create_location(
            request.user,
            kind=post.get("kind", ""),
            name=post.get("name", ""),
            code=post.get("code", ""),
            parent=parent,
            **grid,
        )
        messages.success(request, f"Added {location.get_kind_display().lower()} {location.code}.")
    except (actions.StockError, ValueError) as error:
        messages.error(request, getattr(error, "message", "Rows and columns are whole numbers."))
    return redirect("stock-home")


@stock_pages
@require_POST
def record_declared(request, name):
    line = get_object_or_404(CellLine, name=name)
    try:
        made = record_declared_lots(line, by=request.user)
        messages.success(request, f"Recorded {len(made)} lot(s) of {line.name}; release each once its panel passes.")
    except actions.StockError as error:
        messages.error(request, error.message)
    return redirect("stock-home")


@stock_pages
@require_POST
def receive(request):
    upload = request.FILES.get("file")
    if upload is None or upload.size > MAX_UPLOAD_BYTES:
        messages.error(request, "Choose a CSV or XLSX file of at most 50 MB.")
        return redirect("stock-home")
    try:
        report = receive_vials(
            upload.read(), by=request.user, filename=upload.name, reason=request.POST.get("reason", "")
        )
    except actions.StockError as error:
        return render(request, "stock/refused.html", {"error": error, "filename": upload.name}, status=400)
    messages.success(request, f"Received {report.vials} vial(s) of {', '.join(report.lots)}.")
    return redirect("stock-home")


@stock_pages
def box(request, code):
    location = get_object_or_404(Location, code=code, kind=LocationKind.BOX)
    vials = {(v.row, v.column): v for v in Vial.objects.filter(location=location).select_related("lot__line")}
    grid = [
        (row_letter(r), [(c, vials.get((r, c))) for c in range(1, (location.columns or 0) + 1)])
        for r in range(1, (location.rows or 0) + 1)
    ]
    context = {
        "box": location,
        "grid": grid,
        "columns": range(1, (location.columns or 0) + 1),
        "highlight": request.GET.get("highlight", ""),
        "boxes": Location.objects.filter(kind=LocationKind.BOX).order_by("code"),
        "stored": len(vials),
    }
    return render(request, "stock/box.html", context)


def _back(request, fallback):
    target = request.POST.get("next", "")
    return redirect(target if target.startswith("/stock/") else fallback)


@stock_pages
@require_POST
def move(request, identifier):
    vial = get_object_or_404(Vial, identifier=identifier)
    target = get_object_or_404(Location, code=request.POST.get("box", ""), kind=LocationKind.BOX)
    try:
        well = request.POST.get("position", "").strip().upper()
        row = sum((ord(ch) - 64) * 26**i for i, ch in enumerate(reversed(well.rstrip("0123456789"))))
        column = int(well[len(well.rstrip("0123456789")) :] or 0)
        actions.move_vial(vial, target, row, column, by=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, f"Moved {identifier} to {target.code} {well}.")
    except (actions.StockError, ValueError) as error:
        messages.error(request, getattr(error, "message", f"{well!r} is not a well such as A1."))
    return redirect("stock-box", target.code)


@stock_pages
@require_POST
def destroy(request):
    ids = list(Vial.objects.filter(identifier__in=request.POST.getlist("vial")).values_list("pk", flat=True))
    try:
        done = actions.destroy_vials(ids, by=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, f"Destroyed {len(done)} vial(s).")
    except actions.StockError as error:
        messages.error(request, error.message)
    return _back(request, "stock-home")


@stock_pages
def lot_page(request, pk):
    lot = get_object_or_404(Lot.objects.select_related("line"), pk=pk)
    context = {
        "lot": lot,
        "vials": lot.vials.select_related("location").order_by("id")[:500],
        "records": lot.qc_records.order_by("test", "-tested_on"),
        "events": lot.events.select_related("actor")[:50],
    }
    return render(request, "stock/lot.html", context)


@stock_pages
@require_POST
def release(request, pk):
    lot = get_object_or_404(Lot, pk=pk)
    try:
        actions.release_lot(lot, by=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, f"Lot {lot.code} released.")
    except actions.StockError as error:
        messages.error(request, error.message)
    return redirect("stock-lot", pk)


@stock_pages
def labels(request, pk):
    lot = get_object_or_404(Lot, pk=pk)
    vials = Vial.objects.filter(lot=lot, location__isnull=False).select_related("lot__line").order_by("id")
    response = HttpResponse(vial_labels(list(vials)), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="labels-{lot.code}.pdf"'
    return response


urlpatterns = [
    path("", stock_home, name="stock-home"),
    path("receive/", receive, name="stock-receive"),
    path("locations/", add_location, name="stock-add-location"),
    path("declared/<str:name>/", record_declared, name="stock-record-declared"),
    path("boxes/<slug:code>/", box, name="stock-box"),
    path("vials/<str:identifier>/move/", move, name="stock-move"),
    path("vials/destroy/", destroy, name="stock-destroy"),
    path("lots/<int:pk>/", lot_page, name="stock-lot"),
    path("lots/<int:pk>/release/", release, name="stock-release"),
    path("lots/<int:pk>/labels/", labels, name="stock-labels"),
]
