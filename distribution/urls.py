"""Pages of distribution, mounted at /distribution/."""

from django.urls import path

from distribution import basket, views

app_name = "distribution"

urlpatterns = [
    path("lines/", views.line_list, name="line-list"),
    path("basket/", basket.basket, name="basket"),
    path("basket/add/", basket.basket_add, name="basket-add"),
    path("basket/remove/", basket.basket_remove, name="basket-remove"),
    path("basket/from-search/", basket.basket_from_search, name="basket-from-search"),
    path("requests/", views.my_requests, name="my-requests"),
    path("requests/<int:pk>/", views.request_detail, name="request-detail"),
    path("requests/<int:pk>/<slug:action>/", views.request_action, name="request-action"),
    path("queue/", views.queue, name="queue"),
    path("withdrawals/", views.withdrawals, name="withdrawals"),
]
