from django.apps import AppConfig


class CoreConfig(AppConfig):
    # The bottom layer: institutions, people, roles and vocabularies. Its app label
    # stays "prism" (its first home) so that tables and migrations keep their names.
    name = "core"
    label = "prism"
    verbose_name = "Institutions, people and vocabularies"
