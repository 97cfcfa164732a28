"""On PostgreSQL, the database itself refuses UPDATE and DELETE of consent events.

The ORM already refuses them; the trigger covers raw SQL and other clients.
TRUNCATE (a statement, not a row operation) stays possible for test database
resets and is not something the application issues.
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


def run_on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("subscribers", "0003_i3_groups")]

    operations = [migrations.RunPython(run_on_postgresql(CREATE), run_on_postgresql(DROP))]
