from django.urls import path

from results import views

app_name = "results"

urlpatterns = [
    path("", views.browser, name="browser"),
    path("datasets/<int:pk>/", views.dataset_detail, name="dataset"),
    path("datasets/<int:pk>/<str:decision>/", views.decide, name="decide"),
    path("deposit/", views.deposit, name="deposit"),
    path("templates/<str:assay>.<str:fmt>", views.template_file, name="template"),
    path("assays/", views.assays, name="assays"),
    path("compare/", views.compare, name="compare"),
]
