"""Who may open what in the console, checked on every request.

Not signed in → the sign-in page. Signed in but the role may not open the
page → 403. A clue outside the user's scope → 404, never its content.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from flask import abort, current_app, session
from flask_login import current_user, logout_user

from app.extensions import db, login_manager
from app.models import Clue, Role, User
from app.services import auth
from app.timeutil import utcnow
from app.web.review import bp

F = TypeVar("F", bound=Callable[..., Any])

CLUE_ROLES = (Role.REVIEWER, Role.SUPERVISOR, Role.LIAISON)
TRIAGE_ROLES = (Role.REVIEWER, Role.SUPERVISOR)

login_manager.login_view = "review.login"
login_manager.login_message = None  # the sign-in page says why by itself


@login_manager.user_loader
def _load(user_id: str) -> User | None:
    return auth.load_user(db.session, user_id)


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    from app.messages import CHANNEL_LABELS, ROLE_LABELS

    return {"role_labels": ROLE_LABELS, "channel_labels": CHANNEL_LABELS}


@bp.before_request
def _idle_timeout() -> None:
    if not current_user.is_authenticated:
        return
    now = utcnow().timestamp()
    last = session.get("seen")
    idle = current_app.config["JIDU_IDLE_MINUTES"] * 60
    if isinstance(last, int | float) and now - last > idle:
        logout_user()
        session.clear()
        return
    session["seen"] = int(now)


def roles_required(*roles: Role) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def clue_in_scope(clue_id: int) -> Clue:
    """The clue, if this user may see it; 404 otherwise (never 403: no hint)."""
    clue = db.session.get(Clue, clue_id)
    if clue is None:
        abort(404)
    if current_user.role == Role.LIAISON and (
        clue.handling_department_code != current_user.department_code
    ):
        abort(404)
    return clue


def now() -> datetime:
    return utcnow()
