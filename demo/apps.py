from django.apps import AppConfig


class DemoConfig(AppConfig):
    # No models: the demo catalog is written through the same actions users go through.
    name = "demo"
    verbose_name = "Demo catalog"
