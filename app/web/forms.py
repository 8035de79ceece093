"""The base of every form: Flask-WTF's, with WTForms' own messages translated once per process.

Flask-WTF reads WTForms' message catalogue from disk on every request that
builds a form (about a millisecond, a tenth of a submission's cost); here
each language's catalogue is loaded once and kept.
"""

from __future__ import annotations

import functools
from typing import Any

from babel import support
from flask import current_app
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path


@functools.cache
def _catalogue(locale: str) -> support.NullTranslations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class Form(FlaskForm):
    class Meta(FlaskForm.Meta):
        def get_translations(self, form: Any) -> Any:
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return _catalogue(str(get_locale()))
