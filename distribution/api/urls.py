"""The /api/v1/ routes of distribution (mounted by prism/api_urls.py through distribution.api)."""

from django.urls import path

from distribution.api.recall import LotRecallView, ReceiptView
from distribution.api.requests import EligibilityView, RequestDetailView, RequestListView
from distribution.api.transitions import transition_urls
from distribution.api.withdrawals import ConsentWithdrawalView, LineWithdrawalView, RecipientsView

urlpatterns = [
    path("eligibility/", EligibilityView.as_view(), name="api-eligibility"),
    path("requests/", RequestListView.as_view(), name="api-request-list"),
    path("requests/<int:pk>/", RequestDetailView.as_view(), name="api-request-detail"),
    *transition_urls(),
    path("requests/<int:pk>/receipt/", ReceiptView.as_view(), name="api-request-receipt"),
    path("lots/<int:pk>/recall/", LotRecallView.as_view(), name="api-lot-recall"),
    path("withdrawals/consent/", ConsentWithdrawalView.as_view(), name="api-withdraw-consent"),
    path("withdrawals/line/", LineWithdrawalView.as_view(), name="api-withdraw-line"),
    path("withdrawals/recipients/", RecipientsView.as_view(), name="api-withdrawal-recipients"),
]
