from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "network"
    verbose_name = "Network of banks: Beacon v2 and federated search"
    default_auto_field = "django.db.models.BigAutoField"
