"""The customer's pages translate through a `gettext` bound to the request's catalogue
(app.core.i18n): it must answer exactly what Flask-Babel's own template gettext answers."""

from __future__ import annotations

from flask import render_template_string

from tests.test_i18n import catalog

SOURCE = (
    "{{ _('Dear %(name)s, thank you for taking a few minutes. Questions marked * need an"
    " answer.', name=name) }}|{{ _('Next') }}|{{ _('Page %(page)s of %(pages)s', page=1,"
    " pages=2) }}|{{ _('not in any catalogue: 100%% sure') }}"
)


def test_a_public_page_translates_as_flask_babel_does(app):
    for lang, greeting in (("zh", "尊敬的"), ("en", "Dear ")):
        # an app context of its own, as each request has: Flask-Babel keeps the locale in g
        with app.app_context(), app.test_request_context(f"/s/?lang={lang}"):
            context: dict[str, object] = {}
            app.update_template_context(context)
            # the page's own gettext, not the environment's
            assert context["gettext"] is not app.jinja_env.globals["gettext"]
            ours = render_template_string(SOURCE, name='<b>"王"</b>')
            theirs = app.jinja_env.from_string(SOURCE).render(name='<b>"王"</b>')
        assert ours == theirs
        assert ours.startswith(greeting + "&lt;b&gt;&#34;王&#34;&lt;/b&gt;")
        assert ours.endswith("100% sure")


def test_every_catalogued_string_comes_out_the_same(app):
    names = {"name": "<i>", "n": 3, "page": 1, "pages": 2, "low": 0, "high": 10, "number": "X1"}
    for lang in ("zh", "en"):
        ids = [m.id for m in catalog(lang) if m.id and isinstance(m.id, str)]
        # an app context of its own, as each request has: Flask-Babel keeps the locale in g
        with app.app_context(), app.test_request_context(f"/s/?lang={lang}"):
            context: dict[str, object] = {}
            app.update_template_context(context)
            ours, theirs = context["gettext"], app.jinja_env.globals["gettext"]
            template = app.jinja_env.from_string("{{ f(s, **names) }}")
            for msgid in ids:
                try:
                    expected = template.render(f=theirs, s=msgid, names=names)
                except (KeyError, TypeError, ValueError):
                    continue  # a string formatted with other names than these
                assert template.render(f=ours, s=msgid, names=names) == expected, msgid
