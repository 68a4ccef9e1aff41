"""Revocable credentials (issue 10, finding 5): refresh rotation + blacklist, logout, everything
dies with a password change, personal tokens stored as SHA-256 only."""

import hashlib

import pytest
from django.db import connection
from rest_framework.test import APIClient

from mofsim_site.models import PersonalToken

pytestmark = pytest.mark.django_db


def login(username="owner", password="owner-pass-123") -> dict:
    response = APIClient().post("/api/v1/auth/login", {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def refresh(token: str):
    return APIClient().post("/api/v1/auth/refresh", {"refresh": token}, format="json")


def get_tasks(header: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    return client.get("/api/v1/tasks/").status_code


def test_it_rotates_refresh_tokens_and_blacklists_the_used_one(owner):
    first = login()["refresh"]
    response = refresh(first)
    assert response.status_code == 200
    second = response.json()["refresh"]
    assert second != first
    assert refresh(first).status_code == 401  # replaying a used refresh token fails
    assert refresh(second).status_code == 200


def test_logout_blacklists_the_refresh_token(owner):
    tokens = login()
    response = APIClient().post("/api/v1/auth/logout", {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 200
    assert refresh(tokens["refresh"]).status_code == 401


def test_a_password_change_kills_access_refresh_and_personal_tokens(owner):
    tokens = login()
    key = PersonalToken.issue(owner)
    assert get_tasks(f"Bearer {tokens['access']}") == 200 and get_tasks(f"Token {key}") == 200

    owner.set_password("a-new-pass-456")
    owner.save()

    assert get_tasks(f"Bearer {tokens['access']}") == 401
    assert refresh(tokens["refresh"]).status_code == 401
    assert get_tasks(f"Token {key}") == 401
    assert get_tasks(f"Bearer {login(password='a-new-pass-456')['access']}") == 200


def test_an_unrelated_save_keeps_tokens_valid(owner):
    tokens = login()
    owner.first_name = "Olga"
    owner.save()
    assert get_tasks(f"Bearer {tokens['access']}") == 200
    assert refresh(tokens["refresh"]).status_code == 200


def test_personal_tokens_are_stored_as_sha256_only(owner):
    key = PersonalToken.issue(owner)
    stored = PersonalToken.objects.get(user=owner)
    assert stored.digest == hashlib.sha256(key.encode()).hexdigest() and key not in stored.digest
    assert get_tasks(f"Token {key}") == 200
    assert get_tasks(f"Token {stored.digest}") == 401  # a leaked digest is no token


def test_the_migration_hashes_plaintext_drf_tokens(owner):
    from importlib import import_module
    from types import SimpleNamespace

    from django.apps import apps

    migration = import_module("mofsim_site.migrations.0002_hash_existing_drf_tokens")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp, user_id bigint)")
        cursor.execute("INSERT INTO authtoken_token VALUES ('plainkey123', CURRENT_TIMESTAMP, %s)", [owner.pk])
    migration.hash_drf_tokens(apps, SimpleNamespace(connection=connection))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0
    assert PersonalToken.objects.get(user=owner).digest == hashlib.sha256(b"plainkey123").hexdigest()
    assert get_tasks("Token plainkey123") == 200
