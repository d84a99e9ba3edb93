"""The favicon: linked from the site's pages and the admin's, and served."""

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LINK = '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'


@pytest.mark.parametrize(
    "url", ["/accounts/login/", "/dashboard/", "/admin/", "/admin/leads/lead/"]
)
def test_favicon_linked_from_every_layout(url):
    client = Client()
    client.force_login(UserFactory(superuser=True))
    response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count(LINK) == 1


def test_favicon_is_a_static_file():
    path = finders.find("favicon.svg")
    assert path is not None
    with open(path, encoding="utf-8") as svg:
        assert svg.read().startswith("<svg ")
