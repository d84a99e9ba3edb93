import pytest
from django.test import Client


@pytest.fixture
def telecaller_client(telecaller):
    client = Client()
    client.force_login(telecaller)
    return client


@pytest.fixture
def manager_client(manager):
    client = Client()
    client.force_login(manager)
    return client
