"""PostgreSQL only: an append-only trigger on consent events, a trigram index on phones.

The ORM already refuses to change consent events; the trigger makes the database
refuse UPDATE and DELETE from raw SQL and other clients too. TRUNCATE (a
statement, not a row operation) stays possible for test database resets and is
not something the application issues.

The trigram index serves the admin's "last digits" search (phone LIKE '%0123%'),
which would otherwise read the whole table. pg_trgm is a trusted extension: the
database owner may create it.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION subscribers_consentevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'consent events are append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER subscribers_consentevent_append_only
    BEFORE UPDATE OR DELETE ON subscribers_consentevent
    FOR EACH ROW EXECUTE FUNCTION subscribers_consentevent_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS subscribers_consentevent_append_only ON subscribers_consentevent;
DROP FUNCTION IF EXISTS subscribers_consentevent_append_only();
"""

TRIGRAM = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS subscriber_phone_trgm_idx
    ON subscribers_subscriber USING gin (phone gin_trgm_ops);
"""
DROP_TRIGRAM = "DROP INDEX IF EXISTS subscriber_phone_trgm_idx;"


def run_on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("subscribers", "0003_i3_groups")]

    operations = [
        migrations.RunPython(run_on_postgresql(CREATE), run_on_postgresql(DROP)),
        migrations.RunPython(run_on_postgresql(TRIGRAM), run_on_postgresql(DROP_TRIGRAM)),
    ]
