"""API docs and pages work without internet: Swagger UI / Redoc come from drf-spectacular-sidecar,
and after ``collectstatic`` (scripts/bootstrap.sh runs it) whitenoise serves every asset a page
references — the README's "Running the platform" path, where DEBUG is off."""

import re

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


def assets(html: str) -> list[str]:
    return [url for url in ASSET.findall(html) if not url.startswith(("#", "data:"))]


@pytest.mark.parametrize("page", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_it_references_only_local_assets(owner_client, page):
    html = owner_client.get(page).content.decode()
    urls = assets(html)
    assert any("drf_spectacular_sidecar" in url for url in urls), urls
    assert not re.search(r"https?://(?!testserver)|//cdn|unpkg|jsdelivr", html), "a remote URL in the page"
    assert all(url.startswith("/") for url in urls), urls


def test_collectstatic_lets_whitenoise_serve_every_asset(owner, tmp_path):
    with override_settings(STATIC_ROOT=tmp_path / "static"):
        call_command("collectstatic", "--noinput", verbosity=0)
        browser = Client()  # a new handler: whitenoise indexes STATIC_ROOT when it starts
        browser.force_login(owner)
        urls = assets(browser.get("/api/v1/docs/").content.decode())
        urls += assets(browser.get("/").content.decode())
        static = [url for url in urls if url.startswith("/static/")]
        assert any("htmx" in url for url in static) and any("swagger-ui" in url for url in static)
        for url in static:
            response = browser.get(url)
            assert response.status_code == 200, url
            b"".join(response.streaming_content if response.streaming else [response.content])
