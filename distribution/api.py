"""API endpoints: filled in by its issue."""

urlpatterns = []
