"""Curators work on the catalog in the Django admin.

Their rights follow from the curator role itself rather than from per-model
permission rows, so a model added by a later release is editable by curators
at once, with no data migration granting permissions.
"""

from django.contrib.auth.backends import BaseBackend

from core.roles import is_curator

CATALOG_APPS = {"prism", "donors", "lines", "distribution"}
# Donors, lines and requests are withdrawn, rejected or cancelled, never deleted:
# requests, shipments and the history refer to them.
NO_DELETE_APPS = {"donors", "lines", "distribution"}


class CuratorPermissionBackend(BaseBackend):
    """Grants active curators every permission on the catalog's apps, except
    deleting donors, lines and distribution records. Authenticates nobody."""

    def has_perm(self, user_obj, perm, obj=None):
        if not user_obj.is_active or not is_curator(user_obj):
            return False
        app_label, _, codename = perm.partition(".")
        if app_label not in CATALOG_APPS:
            return False
        return not (app_label in NO_DELETE_APPS and codename.startswith("delete_"))

    def has_module_perms(self, user_obj, app_label):
        return user_obj.is_active and app_label in CATALOG_APPS and is_curator(user_obj)
