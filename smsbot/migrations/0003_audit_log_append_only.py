"""PostgreSQL only: the audit log (django_admin_log) refuses UPDATE and DELETE.

The ORM already refuses (smsbot.audit.refuse_update / refuse_delete); the
trigger makes the database refuse raw SQL and other clients too, as for consent
events. TRUNCATE (a statement, not a row operation) stays possible for test
database resets and is not something the application issues.
"""

from django.db import migrations

CREATE = """
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
DROP = """
DROP TRIGGER IF EXISTS smsbot_audit_log_append_only ON django_admin_log;
DROP FUNCTION IF EXISTS smsbot_audit_log_append_only();
"""


def run_on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("smsbot", "0002_audit_log_and_schedule_history"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [migrations.RunPython(run_on_postgresql(CREATE), run_on_postgresql(DROP))]
