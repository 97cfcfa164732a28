"""The audit log (django_admin_log) refuses UPDATE, and on PostgreSQL DELETE too.

The ORM already refuses both (smsbot.audit.refuse_update / refuse_delete); the
triggers make the database refuse raw SQL and other clients too, as for
consent events. On SQLite only UPDATE is refused: Django empties SQLite tables
with DELETE between tests. On PostgreSQL, TRUNCATE (a statement, not a row
operation) stays possible for test database resets and is not something the
application issues.
"""

from django.db import migrations

POSTGRESQL = """
CREATE OR REPLACE FUNCTION smsbot_audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'the audit log is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER smsbot_audit_log_append_only
    BEFORE UPDATE OR DELETE ON django_admin_log
    FOR EACH ROW EXECUTE FUNCTION smsbot_audit_log_append_only();
"""
POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS smsbot_audit_log_append_only ON django_admin_log;
DROP FUNCTION IF EXISTS smsbot_audit_log_append_only();
"""
SQLITE = """
CREATE TRIGGER smsbot_audit_log_append_only BEFORE UPDATE ON django_admin_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE refused');
END;
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS smsbot_audit_log_append_only;"


def run(sql_by_vendor):
    def apply(apps, schema_editor):
        sql = sql_by_vendor.get(schema_editor.connection.vendor)
        if sql:
            schema_editor.execute(sql, params=None)

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("smsbot", "0002_audit_log_and_schedule_history"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [
        migrations.RunPython(
            run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            run({"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP}),
        )
    ]
