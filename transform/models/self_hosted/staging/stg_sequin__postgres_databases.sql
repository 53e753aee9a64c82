{{ config(enabled=var('sequin_self_hosted_enabled', false)) }}
{%- set types = sequin_column_types(source('sequin_self_hosted', 'postgres_databases')) -%}
select
    id,
    name,
    hostname,
    port,
    database,
    username,
    ssl,
    replication_slot_name,
    publication_name,
    replication_slot_status,
    to_jsonb(replication_slots) as replication_slots,
    is_replica,
    {{ sequin_object('primary') }} as primary_database,
    {{ sequin_instant('_sdc_extracted_at', types) }} as extracted_at,
    {{ sequin_instant('_sdc_deleted_at', types) }} as deleted_at,
    _sdc_deleted_at is not null as is_deleted
from {{ source('sequin_self_hosted', 'postgres_databases') }}
