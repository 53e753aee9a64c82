{{ config(enabled=var('sequin_v1_enabled', true)) }}
{%- set types = sequin_column_types(source('sequin', 'sync_health_history')) -%}
select
    sync_id,
    {{ sequin_instant('observed_at', types) }} as observed_at,
    status,
    health_status,
    health_credential_status,
    health_provider_status,
    health_notes,
    {{ sequin_object('health') }} as health,
    {{ sequin_is_unhealthy('health_status') }} as is_unhealthy
from {{ source('sequin', 'sync_health_history') }}
