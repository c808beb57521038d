from core import roles as role_checks


def roles(request):
    user = request.user
    return {
        "is_curator": role_checks.is_curator(user),
        "is_depositor": role_checks.is_depositor(user),
        "is_researcher": role_checks.is_researcher(user),
    }
