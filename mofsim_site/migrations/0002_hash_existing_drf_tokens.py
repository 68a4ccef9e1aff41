"""Move DRF ``authtoken`` keys (stored in plaintext) into PersonalToken as SHA-256 digests.

``rest_framework.authtoken`` is no longer installed, so its table is read with SQL when an older
database still has it; the plaintext rows are deleted, and existing keys keep working.
"""

import hashlib

from django.db import migrations

TABLE = "authtoken_token"


def hash_drf_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if TABLE not in connection.introspection.table_names():
        return
    PersonalToken = apps.get_model("mofsim_site", "PersonalToken")
    table = connection.ops.quote_name(TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id FROM {table}")  # noqa: S608 - fixed table name
        rows = cursor.fetchall()
        for key, user_id in rows:
            PersonalToken.objects.update_or_create(
                user_id=user_id, defaults={"digest": hashlib.sha256(key.encode()).hexdigest()}
            )
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608


class Migration(migrations.Migration):
    dependencies = [("mofsim_site", "0001_personal_token")]

    operations = [migrations.RunPython(hash_drf_tokens, migrations.RunPython.noop)]
