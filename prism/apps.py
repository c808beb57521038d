from django.apps import AppConfig


class PrismConfig(AppConfig):
    name = "prism"
    verbose_name = "Institutions, people and vocabularies"
