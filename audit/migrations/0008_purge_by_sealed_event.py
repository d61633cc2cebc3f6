"""A purge is executed by the database, and only as the rules allow (issue 16, hole 6).

PostgreSQL: ``public.attest_purge(purge_entry)`` runs as the tables' owner (SECURITY DEFINER)
and is the only way the application's role can drop a payload: ``grant_app_role`` grants it
EXECUTE and no UPDATE on the ledger. It reads the purge event from its own canonical bytes (the
evidence, not a projection), and refuses unless the event is a sealed ``ledger.purged`` event,
each listed entry is a sealed prediction or outcome of its model whose retention had expired
when the purge was sealed (times from the signed checkpoints), and no legal hold covers the
model or the entry's data subject. The rule in words, and its Python twin for the verifier and
for SQLite, is ``audit.purging``. Every name is schema-qualified and the search path is pinned,
so temporary tables named like the ledger's are never read.
"""

from django.db import migrations

from audit.appendonly import allow_purge_only

REFUSE = "RAISE EXCEPTION USING ERRCODE = 'AT001', MESSAGE = 'attest purge refused: ' || "

PURGE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION public.attest_purge(purge_entry bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC'
AS $$
DECLARE
    event jsonb;
    purge_leaf bigint;
    purge_sealed timestamptz;
    model_pk bigint;
    retention integer;
    bad record;
    dropped bigint;
BEGIN
    SELECT convert_from(e.canonical, 'UTF8')::jsonb INTO event
      FROM public.audit_ledgerentry e
     WHERE e.id = purge_entry AND e.kind = 'event' AND e.purged_by_id IS NULL;
    IF event IS NULL OR event->>'event_type' IS DISTINCT FROM 'ledger.purged' THEN
        {REFUSE} format('entry %s is no ledger.purged event', purge_entry);
    END IF;
    SELECT l."index" INTO purge_leaf FROM public.audit_leaf l WHERE l.entry_id = purge_entry;
    SELECT c.issued_at INTO purge_sealed FROM public.audit_checkpoint c
     WHERE c.tree_size > purge_leaf ORDER BY c.tree_size LIMIT 1;
    IF purge_sealed IS NULL THEN
        {REFUSE} 'the purge event is not sealed: a purge is executed only once it is';
    END IF;
    SELECT m.id, m.retention_months INTO model_pk, retention
      FROM public.compliance_aimodel m WHERE m.slug = event->>'model';
    IF model_pk IS NULL THEN
        {REFUSE} format('the purge names no model (%s)', event->>'model');
    END IF;
    IF EXISTS (SELECT 1 FROM public.compliance_legalhold h
                WHERE h.model_id = model_pk AND h.released_at IS NULL) THEN
        {REFUSE} 'the model is under a legal hold';
    END IF;

    SELECT j.* INTO bad FROM (
        SELECT l."index" AS leaf, e.kind, v.model_id,
               coalesce(p.subject_id, op.subject_id) AS subject_id,
               (SELECT c.issued_at FROM public.audit_checkpoint c
                 WHERE c.tree_size > l."index" ORDER BY c.tree_size LIMIT 1) AS sealed
          FROM jsonb_array_elements(event->'after'->'leaf_ranges') r
          JOIN public.audit_leaf l
            ON l."index" BETWEEN (r->>0)::bigint AND (r->>1)::bigint
          JOIN public.audit_ledgerentry e ON e.id = l.entry_id
          LEFT JOIN public.audit_predictionrecord p ON p.entry_id = e.id
          LEFT JOIN public.audit_outcomerecord o ON o.entry_id = e.id
          LEFT JOIN public.audit_predictionrecord op ON op.id = o.prediction_id
          LEFT JOIN public.compliance_modelversion v
            ON v.id = coalesce(p.version_id, op.version_id)
    ) j
     WHERE j.kind NOT IN ('prediction', 'outcome')
        OR j.model_id IS DISTINCT FROM model_pk
        OR j.sealed IS NULL
        OR j.sealed + make_interval(months => retention) > purge_sealed
        OR EXISTS (SELECT 1 FROM public.compliance_legalhold h
                    WHERE h.subject_id = j.subject_id AND h.released_at IS NULL)
     ORDER BY j.leaf LIMIT 1;
    IF FOUND THEN
        IF bad.kind NOT IN ('prediction', 'outcome') THEN
            {REFUSE} format('entry %s is of kind %s: only predictions and outcomes may be purged',
                            bad.leaf, bad.kind);
        ELSIF bad.model_id IS DISTINCT FROM model_pk THEN
            {REFUSE} format('entry %s is not of model %s', bad.leaf, event->>'model');
        ELSIF bad.sealed IS NULL THEN
            {REFUSE} format('entry %s is not sealed', bad.leaf);
        ELSIF bad.sealed + make_interval(months => retention) > purge_sealed THEN
            {REFUSE} format('entry %s was sealed %s, so the model''s retention of %s months '
                            'had not expired when the purge was sealed (%s)',
                            bad.leaf, bad.sealed, retention, purge_sealed);
        ELSE
            {REFUSE} format('entry %s is about a data subject under a legal hold', bad.leaf);
        END IF;
    END IF;

    PERFORM set_config('attest.purging', purge_entry::text, true);
    UPDATE public.audit_ledgerentry e SET canonical = '\\x'::bytea, purged_by_id = purge_entry
      FROM public.audit_leaf l, jsonb_array_elements(event->'after'->'leaf_ranges') r
     WHERE l.entry_id = e.id AND e.purged_by_id IS NULL
       AND l."index" BETWEEN (r->>0)::bigint AND (r->>1)::bigint;
    GET DIAGNOSTICS dropped = ROW_COUNT;
    PERFORM set_config('attest.purging', '', true);
    RETURN dropped;
END;
$$;
REVOKE ALL ON FUNCTION public.attest_purge(bigint) FROM PUBLIC;
"""


def forwards(apps, schema_editor):
    allow_purge_only(schema_editor)  # the trigger now checks the name attest_purge sets
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PURGE_FUNCTION, None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS public.attest_purge(bigint)")


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0007_erasure_and_retention"),
        ("compliance", "0011_retention_and_legal_holds"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
